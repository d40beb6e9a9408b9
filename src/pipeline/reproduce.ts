/**
 * `repro`: bring the pipeline up to date, as `dvc repro` does, plus parallel execution.
 *
 * For every stage of the plan (upstream first): skip it when nothing changed; restore its
 * outputs from the cache when only outputs are missing and the lock still describes them
 * ("is cached - skipping run, checking out outputs"); otherwise delete its (non-persist)
 * outputs, run its cmd lines, hash deps and outs, commit outs to the cache and write its
 * dvc.lock entry. A failed stage leaves its lock entry and the cache untouched and its
 * dependents are not run; independent stages still run. With `jobs > 1` stages whose
 * upstream is done run at the same time (DVC cannot). The repo lock `.dvc/tmp/lock` is
 * held throughout; an abort (Ctrl-C) kills running commands, writes nothing for them and
 * releases the lock.
 */
import { appendFileSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { basename, join, posix } from 'node:path';
import { childProcessEnv } from '../config/env.js';
import { AppError } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/logger.js';
import { dvcFileOut, writeDvcFile } from './dvc-file.js';
import { buildGraph, plan } from './graph.js';
import type { DirHash, HashInfo } from './hash.js';
import { buildLockEntry } from './lockfile.js';
import { commandLines, runLine, toolPathDirs } from './run-command.js';
import { acquireRepoLock } from './repo-lock.js';
import { Repo, type IndexStage } from './repo.js';
import { displayFrom, isChanged, observeStage, type StageObservation, type StageStatus } from './stage-state.js';
import type { PyMap } from './py-value.js';

/** A text sink (the CLI passes ctx.stdout / ctx.stderr). */
export interface TextSink {
  write(text: string): void;
}

/** Options of `reproduce`. */
export interface ReproduceOptions {
  /** Directory inside the repo (default: process cwd). */
  cwd: string;
  /** Stage names, group names, `dvc.yaml[:name]` or `.dvc` files; default all. */
  targets?: string[];
  force?: boolean;
  /** Print what would run without running or writing anything. */
  dry?: boolean;
  downstream?: boolean;
  singleItem?: boolean;
  /** Stages run at the same time (default 1, like DVC). */
  jobs?: number;
  stdout?: TextSink;
  stderr?: TextSink;
  logger?: Logger;
  signal?: AbortSignal;
  /** Environment for stage commands (default: this process's). */
  env?: Record<string, string>;
  /** process.argv[1] of the running CLI, to make `carprice` resolvable in cmds. */
  argv1?: string;
}

/** What happened to one stage. */
export type StageOutcome = 'ran' | 'unchanged' | 'restored' | 'verified' | 'committed' | 'failed' | 'blocked' | 'interrupted' | 'dry';

/** Result of `reproduce`. */
export interface ReproduceResult {
  /** Stage names in plan order with their outcome. */
  stages: Array<{ name: string; outcome: StageOutcome; seconds: number; reason?: string }>;
}

const nullSink: TextSink = { write: () => undefined };

/** Short human reason for a stage status ("changed deps: modified data.csv; ..."). */
export function describeStatus(s: StageStatus): string {
  const parts: string[] = [];
  if (s.changedDeps.length)
    parts.push(
      'changed deps: ' +
        s.changedDeps.map(([p, st]) => (typeof st === 'string' ? `${st} ${p}` : `${p}: ${st.map(([k, ks]) => `${ks} ${k}`).join(', ')}`)).join('; '),
    );
  if (s.changedOuts.length) parts.push('changed outs: ' + s.changedOuts.map(([p, st]) => `${st} ${p}`).join('; '));
  if (s.alwaysChanged) parts.push('always changed');
  if (s.changedCmd) parts.push('changed command');
  return parts.join('; ');
}

function seconds(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}

function fmtSec(s: number): string {
  return s < 10 ? `${s.toFixed(2)} s` : `${s.toFixed(1)} s`;
}

/** Line-buffered writer that prefixes each line (parallel mode). */
function prefixed(sink: TextSink, prefix: string): { write(chunk: string): void; flush(): void } {
  let buf = '';
  return {
    write(chunk: string) {
      buf += chunk;
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const l of lines) sink.write(`${prefix}${l}\n`);
    },
    flush() {
      if (buf) sink.write(`${prefix}${buf}\n`);
      buf = '';
    },
  };
}

/** Add `/<name>` to the .gitignore next to an output (cached outputs of git repos only). */
export function gitignoreOutput(repo: Repo, outRel: string): void {
  if (!existsSync(join(repo.root, '.git'))) return;
  const dirRel = posix.dirname(outRel);
  const file = join(repo.abs(dirRel === '.' ? '' : dirRel), '.gitignore');
  const entry = '/' + basename(outRel).replace(/([*?[\]!#\\])/g, '\\$1').replace(/^ | $/g, '\\ ');
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    /* new file */
  }
  if (text.split(/\r?\n/).includes(entry)) return;
  appendFileSync(file, (text && !text.endsWith('\n') ? '\n' : '') + entry + '\n');
}

/** Commit a hashed output to the cache. */
export function commitToCache(repo: Repo, abs: string, h: HashInfo): void {
  if (h.md5.endsWith('.dir')) repo.cache.addDir(h as DirHash);
  else repo.cache.addFile(abs, h.md5);
}

/** Reproduce the pipeline; throws PIPELINE_STAGE_FAILED (with the result in details) when a stage failed. */
export async function reproduce(opts: ReproduceOptions): Promise<ReproduceResult> {
  const out = opts.stdout ?? nullSink;
  const log = opts.logger ?? silentLogger;
  const repo = Repo.find(opts.cwd);
  const lockHandle = opts.dry ? undefined : acquireRepoLock(repo.dvcDir);
  try {
    return await reproduceLocked(repo, opts, out, log);
  } finally {
    repo.state.save();
    lockHandle?.release();
  }
}

async function reproduceLocked(repo: Repo, opts: ReproduceOptions, out: TextSink, log: Logger): Promise<ReproduceResult> {
  const index = repo.loadIndex();
  if (index.stages.length === 0) {
    out.write('There are no data or pipelines tracked in this project yet.\n');
    return { stages: [] };
  }
  const graph = buildGraph(index.stages);
  const order = plan(graph, opts.targets, { downstream: opts.downstream, singleItem: opts.singleItem });
  const display = displayFrom(repo.rel(opts.cwd));
  const jobs = Math.max(1, Math.floor(opts.jobs ?? 1));
  const env = opts.env ?? childProcessEnv();
  const pathDirs = toolPathDirs(repo.root, opts.argv1, process.execPath);
  const inPlan = new Set(order);
  const outcome = new Map<string, { outcome: StageOutcome; seconds: number; reason?: string }>();
  let anyWritten = false;
  let lockExisted = existsSync(join(repo.root, 'dvc.lock'));

  const upstreamInPlan = (n: string): string[] => {
    const s = graph.byName.get(n)!;
    if (s.def?.frozen) return [];
    return (graph.upstream.get(n) ?? []).filter((u) => inPlan.has(u));
  };

  const writeLock = (name: string, entry: PyMap): void => {
    if (opts.dry) return;
    index.lock.set(name, entry);
    index.lock.save();
    out.write(`${lockExisted ? 'Updating' : 'Generating'} lock file 'dvc.lock'\n`);
    lockExisted = true;
  };

  const runOne = async (name: string): Promise<{ outcome: StageOutcome; reason?: string }> => {
    const stage = graph.byName.get(name)!;
    if (stage.kind === 'dvcfile') return reproDvcFile(repo, stage, display, out, !!opts.dry);
    const lockEntry = index.lock.get(name);
    const obs = await observeStage(repo, stage, lockEntry, display);
    const st = obs.status;
    const changed = isChanged(st);
    const reason = describeStatus(st);
    const def = stage.def!;
    if (def.frozen) {
      if (!changed) {
        out.write(`Stage '${name}' is frozen and didn't change, skipping\n`);
        return { outcome: 'unchanged' };
      }
      out.write(`Verifying outputs in frozen stage: '${name}'\n`);
      const missing = obs.outs.filter((o) => !o.hash).map((o) => o.path);
      if (missing.length) throw stageError(name, `outputs of frozen stage '${name}' are missing: ${missing.join(', ')}; unfreeze it (frozen: false) or restore them with \`carprice checkout\``);
      if (!opts.dry) saveStage(repo, stage, obs, writeLock);
      return { outcome: 'verified', reason };
    }
    if (!opts.force && !changed) {
      out.write(`Stage '${name}' didn't change, skipping\n`);
      return { outcome: 'unchanged' };
    }
    // Outputs missing but described by the lock and present in the cache: check out instead of running.
    const restorable =
      !opts.force &&
      lockEntry !== undefined &&
      !st.changedCmd &&
      st.changedDeps.length === 0 &&
      !st.alwaysChanged &&
      stage.outs.length > 0 &&
      stage.outs.every((o, i) =>
        o.cache ? obs.outs[i].recorded?.md5 !== undefined && obs.outs[i].inCache : obs.outs[i].hash !== undefined && obs.outs[i].hash!.md5 === obs.outs[i].recorded?.md5,
      );
    if (restorable) {
      out.write(`Stage '${name}' is cached - skipping run, checking out outputs (${reason})\n`);
      if (opts.dry) return { outcome: 'dry', reason };
      for (let i = 0; i < stage.outs.length; i++) {
        const rec = obs.outs[i].recorded!;
        if (obs.outs[i].hash?.md5 === rec.md5) continue;
        if (stage.outs[i].persist && obs.outs[i].hash) continue;
        repo.cache.checkout(rec.md5!, repo.abs(stage.outs[i].path), rec.isexec);
      }
      const again = await observeStage(repo, stage, lockEntry, display);
      saveStage(repo, stage, again, writeLock);
      return { outcome: 'restored', reason };
    }
    // Missing deps / params make the command meaningless: fail before touching outputs.
    const missingDeps = obs.deps.filter((d) => !d.hash).map((d) => d.path);
    if (missingDeps.length)
      throw stageError(name, `dependency ${missingDeps.map((d) => `'${d}'`).join(', ')} of stage '${name}' does not exist; create it, or add the stage that produces it to dvc.yaml`);
    for (const p of obs.params) {
      if (p.missingFile) throw stageError(name, `params file '${p.file}' of stage '${name}' does not exist (paths are relative to the stage wdir '${def.wdir}')`);
      if (p.missingKeys.length) throw stageError(name, `parameters ${p.missingKeys.map((k) => `'${k}'`).join(', ')} are missing from '${p.file}' (stage '${name}'); add them or remove them from the stage's params in dvc.yaml`);
    }
    out.write(`Running stage '${name}'${opts.force && !changed ? ' (forced)' : reason ? ` (${reason})` : ''}:\n`);
    const lines = commandLines(def.cmd);
    if (opts.dry) {
      for (const l of lines) out.write(`> ${l}\n`);
      return { outcome: 'dry', reason };
    }
    for (const o of stage.outs) if (!o.persist) rmSync(repo.abs(o.path), { recursive: true, force: true });
    const cwd = repo.abs(def.wdir === '.' ? '' : def.wdir);
    const childEnv: Record<string, string> = { ...env, DVC_STAGE: name };
    if (!childEnv.DVC_ROOT) childEnv.DVC_ROOT = repo.root;
    if (pathDirs.length) childEnv.PATH = [...pathDirs, childEnv.PATH ?? ''].filter(Boolean).join(':');
    const so = jobs > 1 ? prefixed(opts.stdout ?? nullSink, `[${name}] `) : { write: (c: string) => out.write(c), flush: () => undefined };
    const se = jobs > 1 ? prefixed(opts.stderr ?? nullSink, `[${name}] `) : { write: (c: string) => (opts.stderr ?? nullSink).write(c), flush: () => undefined };
    for (const line of lines) {
      out.write(`> ${line}\n`);
      if (opts.signal?.aborted) return { outcome: 'interrupted' };
      log.debug({ stage: name, cmd: line, cwd }, 'running stage command');
      let res;
      try {
        res = await runLine(line, { cwd, env: childEnv, io: { stdout: (c) => so.write(c), stderr: (c) => se.write(c) }, signal: opts.signal });
      } catch (e) {
        throw stageError(name, `cannot start /bin/sh for stage '${name}' in ${cwd}: ${(e as Error).message}`);
      } finally {
        so.flush();
        se.flush();
      }
      if (opts.signal?.aborted) return { outcome: 'interrupted' };
      if (res.code !== 0)
        throw stageError(name, `failed to reproduce '${name}': command \`${line}\` ${res.signal ? `was killed by ${res.signal}` : `exited with code ${res.code}`}`);
    }
    const after = await observeStage(repo, stage, lockEntry, display);
    const notMade = after.outs.filter((o) => !o.hash).map((o) => o.path);
    if (notMade.length)
      throw stageError(name, `stage '${name}' ran but did not create its output${notMade.length > 1 ? 's' : ''} ${notMade.map((p) => `'${p}'`).join(', ')}; fix the command or the outs in dvc.yaml`);
    if (opts.signal?.aborted) return { outcome: 'interrupted' };
    saveStage(repo, stage, after, writeLock);
    return { outcome: 'ran', reason };
  };

  // Scheduler: start a stage when its upstream (within the plan) succeeded.
  const pending = [...order];
  const running = new Map<string, Promise<void>>();
  const failedNames: string[] = [];
  const start = (name: string): void => {
    const t0 = process.hrtime.bigint();
    const p = runOne(name)
      .then(
        (r) => {
          const secs = seconds(t0);
          outcome.set(name, { ...r, seconds: secs });
          if (r.outcome === 'ran' || r.outcome === 'restored' || r.outcome === 'committed' || r.outcome === 'verified') {
            anyWritten = true;
            out.write(`Stage '${name}' ${r.outcome === 'ran' ? 'finished' : r.outcome} in ${fmtSec(secs)}\n`);
          }
        },
        (e: unknown) => {
          const secs = seconds(t0);
          outcome.set(name, { outcome: 'failed', seconds: secs, reason: (e as Error).message });
          failedNames.push(name);
          (opts.stderr ?? nullSink).write(`ERROR: ${(e as Error).message}\n`);
          if (!(e instanceof AppError)) log.debug({ err: e }, 'stage failed unexpectedly');
        },
      )
      .finally(() => {
        running.delete(name);
        out.write('\n');
      });
    running.set(name, p);
  };
  while (pending.length > 0 || running.size > 0) {
    if (opts.signal?.aborted) {
      for (const n of pending.splice(0)) outcome.set(n, { outcome: 'interrupted', seconds: 0 });
    }
    for (let i = 0; i < pending.length && running.size < jobs; ) {
      const n = pending[i];
      const ups = upstreamInPlan(n);
      const bad = ups.find((u) => {
        const o = outcome.get(u)?.outcome;
        return o === 'failed' || o === 'blocked' || o === 'interrupted';
      });
      if (bad) {
        pending.splice(i, 1);
        outcome.set(n, { outcome: 'blocked', seconds: 0, reason: `upstream stage '${bad}' did not complete` });
        out.write(`Stage '${n}' skipped: upstream stage '${bad}' did not complete\n\n`);
        continue;
      }
      if (ups.every((u) => outcome.has(u))) {
        pending.splice(i, 1);
        start(n);
        continue;
      }
      i++;
    }
    if (running.size === 0) {
      if (pending.length === 0) break;
      if (pending.every((n) => !upstreamInPlan(n).every((u) => outcome.has(u))))
        throw new AppError('INTERNAL_ERROR', `scheduler stuck with stages ${pending.join(', ')} waiting`);
      continue; // remaining stages became blocked or startable
    }
    await Promise.race(running.values());
  }

  const result: ReproduceResult = { stages: order.map((n) => ({ name: n, ...(outcome.get(n) ?? { outcome: 'interrupted' as const, seconds: 0 }) })) };
  if (opts.signal?.aborted) {
    throw new AppError('INTERRUPTED', `repro interrupted; completed stages are saved in dvc.lock, interrupted ones were not recorded`, { details: { result } });
  }
  if (failedNames.length) {
    const blocked = result.stages.filter((s) => s.outcome === 'blocked').map((s) => s.name);
    throw new AppError(
      'PIPELINE_STAGE_FAILED',
      `${failedNames.length} stage${failedNames.length > 1 ? 's' : ''} failed: ${failedNames.join(', ')}${blocked.length ? `; not run because of ${failedNames.length > 1 ? 'them' : 'it'}: ${blocked.join(', ')}` : ''}. Their dvc.lock entries were left as they were.\n` +
        failedNames.map((n) => `  ${n}: ${outcome.get(n)?.reason ?? ''}`).join('\n'),
      { details: { result } },
    );
  }
  if (opts.dry) out.write('(dry run: nothing was run or written)\n');
  else if (anyWritten) out.write('Use `carprice push` to send your updates to remote storage.\n');
  else out.write('Data and pipelines are up to date.\n');
  return result;
}

function stageError(name: string, message: string): AppError {
  return new AppError('PIPELINE_STAGE_FAILED', message, { details: { stage: name } });
}

/** Commit outs to the cache, .gitignore them, and write the stage's lock entry. */
function saveStage(repo: Repo, stage: IndexStage, obs: StageObservation, writeLock: (name: string, entry: PyMap) => void): void {
  const def = stage.def!;
  for (let i = 0; i < stage.outs.length; i++) {
    const o = stage.outs[i];
    const h = obs.outs[i].hash!;
    if (o.cache) {
      commitToCache(repo, repo.abs(o.path), h);
      gitignoreOutput(repo, o.path);
    }
  }
  const entry = buildLockEntry(
    def.cmd,
    obs.deps.map((d) => ({ path: d.path, hash: d.hash! })),
    obs.params.map((p) => ({ file: p.file, values: p.values })),
    obs.outs.map((o) => ({ path: o.path, hash: o.hash! })),
  );
  writeLock(stage.name, entry);
}

/** A `.dvc` data source in a repro: re-commit changed data, restore missing data. */
async function reproDvcFile(repo: Repo, stage: IndexStage, display: (p: string) => string, out: TextSink, dry: boolean): Promise<{ outcome: StageOutcome; reason?: string }> {
  const obs = await observeStage(repo, stage, undefined, display);
  if (!isChanged(obs.status)) {
    out.write(`'${stage.name}' didn't change, skipping\n`);
    return { outcome: 'unchanged' };
  }
  const reason = describeStatus(obs.status);
  out.write(`Verifying data sources in '${stage.name}' (${reason})\n`);
  if (dry) return { outcome: 'dry', reason };
  const df = stage.dvcfile!;
  const newOuts: PyMap[] = [];
  for (let i = 0; i < stage.outs.length; i++) {
    const o = stage.outs[i];
    const h = obs.outs[i].hash;
    const rec = obs.outs[i].recorded;
    const raw = (df.raw.outs as PyMap[])[i];
    if (!h) {
      if (rec?.md5 && repo.cache.checkout(rec.md5, repo.abs(o.path), rec.isexec)) {
        newOuts.push(raw);
        continue;
      }
      throw stageError(stage.name, `data source '${display(o.path)}' of '${stage.name}' is missing and not in the cache; \`carprice pull\` it or restore the file`);
    }
    if (o.cache) commitToCache(repo, repo.abs(o.path), h);
    newOuts.push(rec?.md5 === h.md5 ? raw : dvcFileOut(o.defPath, h, raw));
  }
  writeDvcFile(repo.root, df.relFile, newOuts, df.raw);
  return { outcome: 'committed', reason };
}
