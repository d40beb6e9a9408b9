/**
 * `repro`: bring the pipeline up to date, as DVC's Repo.reproduce does, plus parallel
 * execution. The plan (upstream first) comes from graph.ts; each stage goes through
 * stage-runner.ts (decide, restore, run, commit). A failed stage leaves its lock entry and
 * the cache untouched and its dependents are not run; independent stages still run. With
 * `jobs > 1` stages whose upstream is done run at the same time (DVC cannot). The repo
 * lock `.dvc/tmp/lock` is held throughout; an abort (Ctrl-C) kills running commands,
 * writes nothing for them and releases the lock.
 */
import { dumpYaml } from './yaml-dump.js';
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { childProcessEnv } from '../config/env.js';
import { AppError } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/logger.js';
import { buildGraph, plan } from './graph.js';
import { toolPathDirs } from './run-command.js';
import { acquireRepoLock } from './repo-lock.js';
import { Repo } from './repo.js';
import { displayFrom } from './stage-state.js';
import { StageRunner, type StageOutcome, type TextSink } from './stage-runner.js';
import { fetchObjects, pullRunCache } from './transfer.js';
import { warnIfLockIgnored } from './git-ignored.js';
import type { Env } from '../config/env.js';
import type { PyMap } from './py-value.js';

export { commitToCache, describeStatus, gitignoreOutput, type StageOutcome, type TextSink } from './stage-runner.js';

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
  /** Restore outputs from the run-cache (default true; `--no-run-cache` turns it off). */
  runCache?: boolean;
  /** `--pull`: pull the run-cache and the missing objects of restorable stages from the remote. */
  pull?: boolean;
  /** Remote for `pull` (default core.remote). */
  remote?: string;
  /** Environment for remotes (S3 credentials). */
  remoteEnv?: Env;
  stdout?: TextSink;
  stderr?: TextSink;
  logger?: Logger;
  signal?: AbortSignal;
  /** Environment for stage commands (default: this process's). */
  env?: Record<string, string>;
  /** process.argv[1] of the running CLI, to make `carprice` resolvable in cmds. */
  argv1?: string;
}

/** Result of `reproduce`. */
export interface ReproduceResult {
  /** Stage names in plan order with their outcome. */
  stages: Array<{ name: string; outcome: StageOutcome; seconds: number; reason?: string }>;
}

const nullSink: TextSink = { write: () => undefined };

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

/** Reproduce the pipeline; throws PIPELINE_STAGE_FAILED (with the result in details) when a stage failed. */
export async function reproduce(opts: ReproduceOptions): Promise<ReproduceResult> {
  const out = opts.stdout ?? nullSink;
  const log = opts.logger ?? silentLogger;
  const repo = Repo.find(opts.cwd);
  warnIfLockIgnored(repo.root, opts.stderr ?? nullSink);
  const lockHandle = opts.dry ? undefined : acquireRepoLock(repo.dvcDir);
  try {
    return await reproduceLocked(repo, opts, out, log);
  } finally {
    repo.state.save();
    lockHandle?.release();
  }
}

async function reproduceLocked(
  repo: Repo,
  opts: ReproduceOptions,
  out: TextSink,
  log: Logger,
): Promise<ReproduceResult> {
  const err = opts.stderr ?? nullSink;
  const index = repo.loadIndex();
  if (index.stages.length === 0) {
    out.write('There are no data or pipelines tracked in this project yet.\n');
    return { stages: [] };
  }
  const graph = buildGraph(index.stages);
  const order = plan(graph, opts.targets, { downstream: opts.downstream, singleItem: opts.singleItem });
  const jobs = Math.max(1, Math.floor(opts.jobs ?? 1));
  const inPlan = new Set(order);
  const outcome = new Map<string, { outcome: StageOutcome; seconds: number; reason?: string }>();
  let anyWritten = false;
  const toTrack = new Set<string>();
  let lockExisted = existsSync(join(repo.root, 'dvc.lock'));
  const runCache = opts.runCache ?? true;
  if (opts.pull && runCache && !opts.dry) {
    try {
      await pullRunCache(repo, opts.remote, opts.remoteEnv ?? {});
    } catch (e) {
      err.write(`WARNING: Failed to pull run cache: ${(e as Error).message}\n`);
    }
  }

  const upstreamInPlan = (n: string): string[] => {
    const s = graph.byName.get(n)!;
    if (s.def?.frozen) return [];
    return (graph.upstream.get(n) ?? []).filter((u) => inPlan.has(u));
  };

  const runner = new StageRunner({
    repo,
    lock: index.lock,
    display: displayFrom(repo.rel(opts.cwd)),
    force: !!opts.force,
    dry: !!opts.dry,
    runCache,
    fetchObjects: opts.pull
      ? async (md5s) => {
          try {
            await fetchObjects(repo, opts.remote, opts.remoteEnv ?? {}, md5s);
          } catch (e) {
            err.write(`WARNING: could not pull cached outputs: ${(e as Error).message}\n`);
          }
        }
      : undefined,
    out,
    err,
    commandIO: (name) =>
      jobs > 1
        ? { stdout: prefixed(opts.stdout ?? nullSink, `[${name}] `), stderr: prefixed(err, `[${name}] `) }
        : {
            stdout: { write: (c: string) => out.write(c), flush: () => undefined },
            stderr: { write: (c: string) => err.write(c), flush: () => undefined },
          },
    env: opts.env ?? childProcessEnv(),
    pathDirs: toolPathDirs(repo.root, opts.argv1, process.execPath),
    log,
    signal: opts.signal,
    trackFile: (f) => toTrack.add(f),
    writeLock: (name: string, entry: PyMap): void => {
      if (opts.dry) return;
      // As DVC's Lockfile.dump: "Generating" when the file is new, "Updating" when an entry
      // changed, and nothing (no write, nothing to git add) when it is the same.
      const before2 = index.lock.raw.get(name);
      if (lockExisted && before2 && dumpYaml({ e: before2 }) === dumpYaml({ e: entry })) return;
      if (!lockExisted) out.write("Generating lock file 'dvc.lock'\n");
      index.lock.set(name, entry);
      index.lock.save();
      toTrack.add('dvc.lock');
      out.write("Updating lock file 'dvc.lock'\n");
      lockExisted = true;
    },
  });
  const runOne = (name: string) => runner.reproduce(graph.byName.get(name)!);

  // Scheduler: start a stage when its upstream (within the plan) succeeded.
  const pending = [...order];
  const running = new Map<string, Promise<void>>();
  const failedNames: string[] = [];
  let reproducedLast = false;
  const start = (name: string): void => {
    if (reproducedLast) out.write('\n');
    reproducedLast = false;
    const t0 = process.hrtime.bigint();
    const p = runOne(name)
      .then(
        (r) => {
          const secs = seconds(t0);
          outcome.set(name, { ...r, seconds: secs });
          if (
            r.outcome === 'ran' ||
            r.outcome === 'restored' ||
            r.outcome === 'committed' ||
            r.outcome === 'verified'
          ) {
            anyWritten = true;
            log.debug({ stage: name, outcome: r.outcome, seconds: secs }, `stage ${r.outcome} in ${fmtSec(secs)}`);
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
        const o = outcome.get(name)?.outcome;
        // DVC writes a blank line before the next stage after one that was reproduced.
        reproducedLast = o === 'ran' || o === 'restored' || o === 'committed' || o === 'verified' || o === 'dry';
      });
    running.set(name, p);
  };
  while (pending.length > 0 || running.size > 0) {
    if (opts.signal?.aborted) {
      for (const n of pending.splice(0)) outcome.set(n, { outcome: 'interrupted', seconds: 0 });
    }
    for (let i = 0; i < pending.length && running.size < jobs;) {
      const n = pending[i];
      const ups = upstreamInPlan(n);
      const bad = ups.find((u) => {
        const o = outcome.get(u)?.outcome;
        return o === 'failed' || o === 'blocked' || o === 'interrupted';
      });
      if (bad) {
        pending.splice(i, 1);
        outcome.set(n, { outcome: 'blocked', seconds: 0, reason: `upstream stage '${bad}' did not complete` });
        out.write(`Stage '${n}' skipped: upstream stage '${bad}' did not complete\n`);
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

  const result: ReproduceResult = {
    stages: order.map((n) => ({ name: n, ...(outcome.get(n) ?? { outcome: 'interrupted' as const, seconds: 0 }) })),
  };
  if (opts.signal?.aborted) {
    throw new AppError(
      'INTERRUPTED',
      `repro interrupted; completed stages are saved in dvc.lock, interrupted ones were not recorded`,
      { details: { result } },
    );
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
  else if (anyWritten) {
    if (toTrack.size && existsSync(join(repo.root, '.git'))) {
      const shown = [...toTrack].sort().map((f) => shellQuote(relative(opts.cwd, repo.abs(f)) || f));
      out.write(`\nTo track the changes with git, run:\n\n\tgit add ${shown.join(' ')}\n`);
    }
    out.write('Use `carprice push` to send your updates to remote storage.\n');
  } else out.write('Data and pipelines are up to date.\n');
  return result;
}

/** A path as DVC's "git add" hint quotes it (shlex.quote). */
function shellQuote(p: string): string {
  return /^[\w@%+=:,./-]+$/.test(p) ? p : `'${p.replace(/'/g, `'"'"'`)}'`;
}
