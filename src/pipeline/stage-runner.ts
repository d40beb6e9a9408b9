/**
 * One stage of a `repro`, in the steps DVC takes (Stage.reproduce -> Stage.run ->
 * StageCache.restore / run the cmd -> Stage.save -> Output.commit -> dump the lock entry):
 *
 *   decide   skip when nothing changed (frozen stages are only verified);
 *   restore  when the stage may use the run-cache (run-cache.ts canHash), check its outputs
 *            out from the cache instead of running: from its dvc.lock entry when cmd and
 *            deps are unchanged, else from the run-cache entry for the current cmd, deps
 *            and params. Every object is checked against its hash first; a missing or
 *            corrupted one means the command runs;
 *   run      remove the (non-persist) outputs and run the cmd lines;
 *   commit   hash deps and outputs, store outputs in the cache, save the run-cache entry,
 *            .gitignore cached outputs and write the stage's dvc.lock entry.
 *
 * The hashes written to dvc.lock are always those of the bytes in the workspace after the
 * command ran, or after they were restored and verified: never of bytes that came from
 * anywhere else.
 */
import { appendFileSync, readFileSync, rmSync } from 'node:fs';
import { basename, join, posix } from 'node:path';
import { existsSync } from 'node:fs';
import { AppError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { formatCorrupted } from './cache.js';
import { gitIgnored } from './git-ignored.js';
import { dvcFileOut, writeDvcFile } from './dvc-file.js';
import type { DirHash, HashInfo } from './hash.js';
import { buildLockEntry, readLockOut, type LockEntry } from './lockfile.js';
import { isMap, type PyMap } from './py-value.js';
import { commandLines, runLine } from './run-command.js';
import { canHash, findDate, savesRunCache, StageCache } from './run-cache.js';
import type { IndexStage, Repo } from './repo.js';
import { isChanged, observeStage, type StageObservation, type StageStatus } from './stage-state.js';

/** A text sink (the CLI passes ctx.stdout / ctx.stderr). */
export interface TextSink {
  write(text: string): void;
}

/** What happened to one stage. */
export type StageOutcome =
  'ran' | 'unchanged' | 'pulled' | 'restored' | 'verified' | 'committed' | 'failed' | 'blocked' | 'interrupted' | 'dry';

/** What the runner needs from the repro around it. */
export interface RunnerContext {
  repo: Repo;
  lock: { get(name: string): LockEntry | undefined };
  display: (repoRel: string) => string;
  force: boolean;
  dry: boolean;
  /** Restore from the run-cache (false: only from the stage's own lock entry). */
  runCache: boolean;
  /** Fetch missing objects of a restorable stage from this remote first (`repro --pull`). */
  fetchObjects?: (md5s: string[]) => Promise<void>;
  out: TextSink;
  err: TextSink;
  /** Where a stage's command output goes (prefixed per stage when stages run in parallel). */
  commandIO: (name: string) => {
    stdout: { write(c: string): void; flush(): void };
    stderr: { write(c: string): void; flush(): void };
  };
  env: Record<string, string>;
  pathDirs: string[];
  log: Logger;
  signal?: AbortSignal;
  writeLock: (name: string, entry: PyMap) => void;
  /** Note a repo-relative file to `git add` (DVC's scm_context.track_file). */
  trackFile?: (repoRel: string) => void;
}

/** Short human reason for a stage status ("changed deps: modified data.csv; ..."). */
export function describeStatus(s: StageStatus): string {
  const parts: string[] = [];
  if (s.changedDeps.length)
    parts.push(
      'changed deps: ' +
        s.changedDeps
          .map(([p, st]) =>
            typeof st === 'string' ? `${st} ${p}` : `${p}: ${st.map(([k, ks]) => `${ks} ${k}`).join(', ')}`,
          )
          .join('; '),
    );
  if (s.changedOuts.length) parts.push('changed outs: ' + s.changedOuts.map(([p, st]) => `${st} ${p}`).join('; '));
  if (s.alwaysChanged) parts.push('always changed');
  if (s.changedCmd) parts.push('changed command');
  return parts.join('; ');
}

export function stageError(name: string, message: string): AppError {
  return new AppError('PIPELINE_STAGE_FAILED', message, { details: { stage: name } });
}

/**
 * Add `/<name>` to the .gitignore next to an output (cached outputs of git repos only),
 * unless git ignores the path already (as scmrepo's `Git.ignore`). Returns the repo-relative
 * .gitignore written, for the "git add" hint.
 */
export function gitignoreOutput(repo: Repo, outRel: string): string | undefined {
  if (!existsSync(join(repo.root, '.git'))) return undefined;
  const dirRel = posix.dirname(outRel);
  const file = join(repo.abs(dirRel === '.' ? '' : dirRel), '.gitignore');
  const entry =
    '/' +
    basename(outRel)
      .replace(/([*?[\]!#\\])/g, '\\$1')
      .replace(/^ | $/g, '\\ ');
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    /* new file */
  }
  if (text.split(/\r?\n/).includes(entry)) return undefined;
  if (gitIgnored(repo.root, [outRel]).length) return undefined;
  appendFileSync(file, (text && !text.endsWith('\n') ? '\n' : '') + entry + '\n');
  return dirRel === '.' ? '.gitignore' : `${dirRel}/.gitignore`;
}

/** Commit a hashed output to the cache. */
export function commitToCache(repo: Repo, abs: string, h: HashInfo): void {
  if (h.md5.endsWith('.dir')) repo.cache.addDir(h as DirHash);
  else repo.cache.addFile(abs, h.md5);
}

type Result = { outcome: StageOutcome; reason?: string };

/** Runs stages of one repro. */
export class StageRunner {
  private readonly stageCache: StageCache;

  constructor(private readonly c: RunnerContext) {
    this.stageCache = new StageCache(c.repo.cache.dir);
  }

  /** Stage.reproduce: decide whether the stage runs, then run (or restore) it. */
  async reproduce(stage: IndexStage): Promise<Result> {
    const { c } = this;
    if (stage.kind === 'dvcfile') return this.reproDataSource(stage);
    const name = stage.name;
    const obs = await observeStage(c.repo, stage, c.lock.get(name), c.display);
    const changed = isChanged(obs.status);
    const reason = describeStatus(obs.status);
    if (stage.def!.frozen) {
      c.err.write(`WARNING: stage: '${name}' is frozen. Its dependencies are not going to be reproduced.\n`);
      if (!changed) {
        c.out.write(`Stage '${name}' didn't change, skipping\n`);
        return { outcome: 'unchanged' };
      }
      c.out.write(`Verifying outputs in frozen stage: '${name}'\n`);
      const missing = obs.outs.filter((o) => !o.hash).map((o) => o.path);
      if (missing.length)
        throw stageError(
          name,
          `outputs of frozen stage '${name}' are missing: ${missing.join(', ')}; unfreeze it (frozen: false) or restore them with \`carprice checkout\``,
        );
      if (!c.dry) this.commit(stage, obs, { runCache: false });
      return { outcome: 'verified', reason };
    }
    if (!c.force && !changed) {
      c.out.write(`Stage '${name}' didn't change, skipping\n`);
      return { outcome: 'unchanged' };
    }
    if (!c.force && (await this.pullMissing(stage, obs))) return { outcome: 'pulled' };
    return this.run(stage, obs, reason, changed);
  }

  /**
   * `repro --pull` (DVC's Stage.reproduce): a stage that is changed only because its data
   * is missing (command, params and present deps as recorded; deps and outputs deleted or
   * not in the cache, each with a recorded hash) is pulled from the remote and checked out
   * instead of run: "Pulling data for stage: 'NAME'". True when that restored every output;
   * false (after "Unable to pull data for ...") when the stage must run after all.
   */
  private async pullMissing(stage: IndexStage, obs: StageObservation): Promise<boolean> {
    const { c } = this;
    if (!c.fetchObjects) return false;
    const st = obs.status;
    const missingOnly =
      !st.changedCmd &&
      !st.alwaysChanged &&
      st.changedDeps.every(([, x]) => x === 'deleted') &&
      st.changedOuts.every(([, x]) => x === 'deleted' || x === 'not in cache') &&
      obs.outs.every((o) => o.recorded?.md5);
    if (!missingOnly) return false;
    c.out.write(`Pulling data for stage: '${stage.name}'\n`);
    if (c.dry) return true;
    const md5s = obs.outs
      .filter((o) => o.recorded!.md5 && !c.repo.cache.hasAll(o.recorded!.md5))
      .map((o) => o.recorded!.md5!);
    if (md5s.length) await c.fetchObjects(md5s);
    for (let i = 0; i < stage.outs.length; i++) {
      const o = stage.outs[i];
      const rec = obs.outs[i].recorded!;
      if (obs.outs[i].hash?.md5 === rec.md5) continue;
      // An uncached output (cache: false) is git's to restore; it counts as present when it is.
      if (!o.cache && obs.outs[i].hash) continue;
      const done = c.repo.cache.hasAll(rec.md5!)
        ? c.repo.cache.checkout(rec.md5!, c.repo.abs(o.path), rec.isexec)
        : { ok: false, corrupted: [] };
      c.err.write(formatCorrupted(done.corrupted, c.display(o.path)));
      if (!done.ok) {
        c.out.write(`Unable to pull data for stage: '${stage.name}'\n`);
        return false;
      }
    }
    return true;
  }

  /** Stage.run: check inputs, remove outputs, restore or run the command, commit. */
  private async run(stage: IndexStage, obs: StageObservation, reason: string, changed: boolean): Promise<Result> {
    const { c } = this;
    const name = stage.name;
    const def = stage.def!;
    // Missing deps / params make the command meaningless: fail before touching outputs.
    const missingDeps = obs.deps.filter((d) => !d.hash).map((d) => d.path);
    if (missingDeps.length)
      throw stageError(
        name,
        `dependency ${missingDeps.map((d) => `'${d}'`).join(', ')} of stage '${name}' does not exist; create it, or add the stage that produces it to dvc.yaml`,
      );
    for (const p of obs.params) {
      if (p.missingFile)
        throw stageError(
          name,
          `params file '${p.file}' of stage '${name}' does not exist (paths are relative to the stage wdir '${def.wdir}')`,
        );
      if (p.missingKeys.length)
        throw stageError(
          name,
          `parameters ${p.missingKeys.map((k) => `'${k}'`).join(', ')} are missing from '${p.file}' (stage '${name}'); add them or remove them from the stage's params in dvc.yaml`,
        );
    }
    const hashable = canHash(stage, true);
    if (hashable && savesRunCache(stage))
      for (const p of obs.params)
        for (const [k, v] of Object.entries(p.values)) {
          const d = findDate(v);
          if (d)
            throw stageError(
              name,
              `failed to reproduce '${name}': Object of type ${d.typeName} is not JSON serializable: parameter '${k}' in '${p.file}' holds a date (${d.text}), which DVC cannot record in its run-cache; quote it ('${d.text}') to keep it as text`,
            );
        }
    if (!c.dry)
      for (const o of stage.outs) if (!o.persist) rmSync(c.repo.abs(o.path), { recursive: true, force: true });
    if (!c.force && hashable) {
      const restored = await this.restore(stage, obs, reason);
      if (restored) {
        if (c.dry) return { outcome: 'dry', reason };
        const again = await observeStage(c.repo, stage, c.lock.get(name), c.display);
        this.commit(stage, again, { runCache: savesRunCache(stage) });
        return { outcome: 'restored', reason };
      }
    }
    c.log.debug({ stage: name, reason: c.force && !changed ? 'forced' : reason }, 'running stage');
    c.out.write(`Running stage '${name}':\n`);
    const lines = commandLines(def.cmd);
    if (c.dry) {
      for (const l of lines) c.out.write(`> ${l}\n`);
      return { outcome: 'dry', reason };
    }
    if (!(await this.runCommands(stage, lines))) return { outcome: 'interrupted' };
    const after = await observeStage(c.repo, stage, c.lock.get(name), c.display);
    const notMade = after.outs.filter((o) => !o.hash).map((o) => o.path);
    if (notMade.length)
      throw stageError(
        name,
        `stage '${name}' ran but did not create its output${notMade.length > 1 ? 's' : ''} ${notMade.map((p) => `'${p}'`).join(', ')}; fix the command or the outs in dvc.yaml`,
      );
    if (c.signal?.aborted) return { outcome: 'interrupted' };
    this.commit(stage, after, { runCache: hashable && savesRunCache(stage) });
    return { outcome: 'ran', reason };
  }

  /**
   * StageCache.restore: the outputs' hashes come from the lock entry (cmd and deps
   * unchanged, every out recorded) or from the run-cache; every object, uncached outs
   * included, must be in the cache and sound. Returns false when the command must run.
   */
  private async restore(stage: IndexStage, obs: StageObservation, reason: string): Promise<boolean> {
    const { c } = this;
    const name = stage.name;
    const st = obs.status;
    let outs: Array<{ path: string; md5: string; isexec: boolean }> | undefined;
    const fromLock = !st.changedCmd && st.changedDeps.length === 0 && obs.outs.every((o) => o.recorded?.md5);
    if (fromLock) outs = obs.outs.map((o) => ({ path: o.path, md5: o.recorded!.md5!, isexec: !!o.recorded!.isexec }));
    else if (c.runCache) {
      const keyEntry = this.entryFor(stage, obs, false);
      const hit = this.stageCache.load(keyEntry, (l) => c.err.write(l));
      if (hit && Array.isArray(hit.outs)) {
        const recs = hit.outs.filter(isMap).map(readLockOut);
        const mapped = stage.outs.map((o) => recs.find((r) => r.path === o.defPath));
        if (mapped.every((r) => r?.md5))
          outs = mapped.map((r) => ({ path: r!.path, md5: r!.md5!, isexec: !!r!.isexec }));
      }
    }
    if (!outs) return false;
    if (c.fetchObjects && !c.dry) {
      const lacking = outs.filter((o) => !c.repo.cache.hasAll(o.md5)).map((o) => o.md5);
      if (lacking.length) await c.fetchObjects(lacking);
    }
    if (!outs.every((o) => c.repo.cache.hasAll(o.md5))) return false;
    c.log.debug({ stage: name, reason }, 'restoring stage from the cache');
    c.out.write(`Stage '${name}' is cached - skipping run, checking out outputs\n`);
    if (c.dry) return true;
    for (let i = 0; i < stage.outs.length; i++) {
      const done = c.repo.cache.checkout(outs[i].md5, c.repo.abs(stage.outs[i].path), outs[i].isexec);
      c.err.write(formatCorrupted(done.corrupted, c.display(stage.outs[i].path)));
      if (!done.ok) {
        c.out.write(
          `Stage '${name}': cached outputs could not be restored (missing or corrupted in the cache); running the command instead\n`,
        );
        for (const o of stage.outs) rmSync(c.repo.abs(o.path), { recursive: true, force: true });
        return false;
      }
    }
    return true;
  }

  /** The stage's lock entry from what was observed (hashes of outs; or none when `withOuts` is false). */
  private entryFor(stage: IndexStage, obs: StageObservation, withOuts: boolean): PyMap {
    const entry = buildLockEntry(
      stage.def!.cmd,
      obs.deps.map((d) => ({ path: d.path, hash: d.hash! })),
      obs.params.map((p) => ({ file: p.file, values: p.values })),
      withOuts ? obs.outs.map((o) => ({ path: o.path, hash: o.hash! })) : [],
    );
    if (!withOuts)
      entry.outs = [...stage.outs]
        .map((o) => o.defPath)
        .sort()
        .map((p) => ({ path: p }));
    return entry;
  }

  /** Run the cmd lines; false when interrupted. Throws on a failing line. */
  private async runCommands(stage: IndexStage, lines: string[]): Promise<boolean> {
    const { c } = this;
    const name = stage.name;
    const def = stage.def!;
    const cwd = c.repo.abs(def.wdir === '.' ? '' : def.wdir);
    const childEnv: Record<string, string> = { ...c.env, DVC_STAGE: name };
    if (!childEnv.DVC_ROOT) childEnv.DVC_ROOT = c.repo.root;
    if (c.pathDirs.length) childEnv.PATH = [...c.pathDirs, childEnv.PATH ?? ''].filter(Boolean).join(':');
    const io = c.commandIO(name);
    for (const line of lines) {
      c.out.write(`> ${line}\n`);
      if (c.signal?.aborted) return false;
      c.log.debug({ stage: name, cmd: line, cwd }, 'running stage command');
      let res;
      try {
        res = await runLine(line, {
          cwd,
          env: childEnv,
          io: { stdout: (x) => io.stdout.write(x), stderr: (x) => io.stderr.write(x) },
          signal: c.signal,
        });
      } catch (e) {
        throw stageError(name, `cannot start /bin/sh for stage '${name}' in ${cwd}: ${(e as Error).message}`);
      } finally {
        io.stdout.flush();
        io.stderr.flush();
      }
      if (c.signal?.aborted) return false;
      if (res.code !== 0)
        throw stageError(
          name,
          `failed to reproduce '${name}': command \`${line}\` ${res.signal ? `was killed by ${res.signal}` : `exited with code ${res.code}`}`,
        );
    }
    return true;
  }

  /**
   * Stage.save + Output.commit + dump: store outputs in the cache, save the run-cache
   * entry (committing uncached metrics/plots for it), .gitignore cached outputs, write
   * the lock entry.
   */
  private commit(stage: IndexStage, obs: StageObservation, opts: { runCache: boolean }): void {
    const { c } = this;
    const entry = this.entryFor(stage, obs, true);
    if (opts.runCache) {
      this.stageCache.save(entry, (l) => c.err.write(l));
      for (let i = 0; i < stage.outs.length; i++)
        if (!stage.outs[i].cache) commitToCache(c.repo, c.repo.abs(stage.outs[i].path), obs.outs[i].hash!);
    }
    for (let i = 0; i < stage.outs.length; i++) {
      const o = stage.outs[i];
      if (!o.cache) continue;
      commitToCache(c.repo, c.repo.abs(o.path), obs.outs[i].hash!);
      const gi = gitignoreOutput(c.repo, o.path);
      if (gi) c.trackFile?.(gi);
    }
    c.writeLock(stage.name, entry);
  }

  /** A `.dvc` data source in a repro: re-commit changed data, restore missing data. */
  private async reproDataSource(stage: IndexStage): Promise<Result> {
    const { c } = this;
    const { repo } = c;
    const obs = await observeStage(repo, stage, undefined, c.display);
    if (!isChanged(obs.status)) {
      c.out.write(`'${stage.name}' didn't change, skipping\n`);
      return { outcome: 'unchanged' };
    }
    if (await this.pullMissing(stage, obs)) return { outcome: 'pulled' };
    const reason = describeStatus(obs.status);
    c.log.debug({ stage: stage.name, reason }, 'verifying data sources');
    // DVC says nothing for a data source in a dry run.
    if (c.dry) return { outcome: 'dry', reason };
    c.out.write(`Verifying data sources in stage: '${stage.name}'\n`);
    const df = stage.dvcfile!;
    const newOuts: PyMap[] = [];
    for (let i = 0; i < stage.outs.length; i++) {
      const o = stage.outs[i];
      const h = obs.outs[i].hash;
      const rec = obs.outs[i].recorded;
      const raw = (df.raw.outs as PyMap[])[i];
      if (!h) {
        if (rec?.md5) {
          const done = repo.cache.checkout(rec.md5, repo.abs(o.path), rec.isexec);
          c.err.write(formatCorrupted(done.corrupted, c.display(o.path)));
          if (done.ok) {
            newOuts.push(raw);
            continue;
          }
        }
        throw stageError(
          stage.name,
          `data source '${c.display(o.path)}' of '${stage.name}' is missing and not in the cache (or its cached copy is corrupted); \`carprice pull\` it or restore the file`,
        );
      }
      if (o.cache) commitToCache(repo, repo.abs(o.path), h);
      newOuts.push(rec?.md5 === h.md5 ? raw : dvcFileOut(o.defPath, h, raw));
    }
    writeDvcFile(repo.root, df.relFile, newOuts, df.raw);
    c.trackFile?.(df.relFile);
    return { outcome: 'committed', reason };
  }
}
