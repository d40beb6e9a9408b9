/**
 * `push`, `fetch`, `pull` and `checkout`: move cache objects between the local cache and
 * a remote, and between the cache and the workspace, for every cached output recorded in
 * dvc.lock (stages of dvc.yaml) and in `.dvc` files, as DVC does.
 *
 * A directory output moves as its file objects first and its `.dir` manifest last (a
 * `.dir` on a remote means all its files are there). Objects missing everywhere are listed
 * instead of failing the whole transfer; downloads are checked against their md5 before
 * they enter the cache.
 */
import { createHash } from 'node:crypto';
import { chmodSync, createReadStream, existsSync, rmSync, statSync } from 'node:fs';
import type { Env } from '../config/env.js';
import { AppError } from '../core/errors.js';
import { objectRelPath } from './cache.js';
import { hashPath } from './hash.js';
import { startProgress, type ProgressSink } from './progress.js';
import { LocalRemote, openRemote, type Remote } from './remote.js';
import { buildGraph, resolveTargets } from './graph.js';
import { Repo } from './repo.js';
import { displayFrom } from './stage-state.js';
import { StageCache } from './run-cache.js';

/** Options shared by push/fetch/pull/checkout. */
export interface TransferOptions {
  cwd: string;
  /** Remote name (`-r`); default `core.remote`. */
  remote?: string;
  /** Limit to these stages / `.dvc` files. */
  targets?: string[];
  env?: Env;
  /** Parallel transfers (default 8). */
  jobs?: number;
  /** Progress bar sink (stderr); drawn only on a TTY. */
  progress?: ProgressSink;
  /** False under CI / NO_COLOR. */
  progressEnabled?: boolean;
}

/** A recorded, cached output. */
interface UsedOut {
  /** Repo-relative path. */
  path: string;
  md5: string;
  isexec: boolean;
  /** Excluded from push (`push: false`). */
  noPush: boolean;
}

/** Outcome of push/fetch. */
export interface TransferResult {
  /** Number of objects transferred. */
  transferred: number;
  /** Objects not found where they had to come from: `{md5, path}` (path = the output). */
  missing: Array<{ md5: string; path: string }>;
  remote: string;
}

/** Outcome of checkout. */
export interface CheckoutResult {
  added: string[];
  modified: string[];
  /** Outputs whose objects are not in the cache. */
  failed: string[];
  /** Outputs with local changes left alone (use force). */
  skipped: string[];
  /** Objects found corrupted in the cache (removed from it): `{md5, path}`. */
  corrupted: Array<{ md5: string; path: string }>;
  /** Files changed in the workspace, counted as DVC counts them (a directory's files one by one). */
  stats: { modified: number; added: number; deleted: number };
}

function collectUsed(repo: Repo, targets: string[] | undefined): UsedOut[] {
  const index = repo.loadIndex();
  const names = targets?.length ? new Set(resolveTargets(buildGraph(index.stages), targets)) : undefined;
  const used: UsedOut[] = [];
  for (const s of index.stages) {
    if (names && !names.has(s.name)) continue;
    if (s.kind === 'stage') {
      const entry = index.lock.get(s.name);
      if (!entry) continue;
      for (const o of s.outs) {
        const rec = entry.outs.find((l) => l.path === o.defPath);
        if (o.cache && rec?.md5) used.push({ path: o.path, md5: rec.md5, isexec: !!rec.isexec, noPush: !o.push });
      }
    } else
      for (let i = 0; i < s.outs.length; i++) {
        const o = s.outs[i];
        const rec = s.dvcfile!.outs[i];
        if (o.cache && rec.md5) used.push({ path: o.path, md5: rec.md5, isexec: !!rec.isexec, noPush: !o.push });
      }
  }
  return used;
}

async function md5OfFile(abs: string): Promise<string> {
  const h = createHash('md5');
  for await (const c of createReadStream(abs)) h.update(c as Buffer);
  return h.digest('hex');
}

async function pool<T>(items: T[], n: number, fn: (x: T) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (i < items.length) await fn(items[i++]);
    }),
  );
}

/** Upload the objects of every recorded output that the remote lacks. */
export async function push(opts: TransferOptions): Promise<TransferResult> {
  const repo = Repo.find(opts.cwd);
  const remote = await openRemote(repo.config, opts.remote, opts.env ?? {});
  const used = collectUsed(repo, opts.targets).filter((u) => !u.noPush);
  const missing: TransferResult['missing'] = [];
  const files = new Map<string, number>(); // md5 -> size
  const dirs: Array<{ md5: string; files: string[] }> = [];
  for (const u of used) {
    if (!u.md5.endsWith('.dir')) {
      if (repo.cache.has(u.md5)) files.set(u.md5, statSync(repo.cache.path(u.md5)).size);
      else missing.push({ md5: u.md5, path: u.path });
      continue;
    }
    const entries = repo.cache.readManifest(u.md5);
    if (!entries) {
      missing.push({ md5: u.md5, path: u.path });
      continue;
    }
    let complete = true;
    for (const e of entries) {
      if (repo.cache.has(e.md5)) files.set(e.md5, statSync(repo.cache.path(e.md5)).size);
      else {
        complete = false;
        missing.push({ md5: e.md5, path: `${u.path}/${e.relpath}` });
      }
    }
    if (complete) dirs.push({ md5: u.md5, files: entries.map((e) => e.md5) });
  }
  const rels = [...files.keys(), ...dirs.map((d) => d.md5)].map(objectRelPath);
  const present = await remote.exists([...new Set(rels)]);
  const toSend = [...files].filter(([m]) => !present.has(objectRelPath(m)));
  const bar = startProgress(opts.progress, `Pushing to '${remote.name}'`, toSend.length, opts.progressEnabled ?? false);
  await pool(toSend, opts.jobs ?? 8, async ([m, size]) => {
    await remote.put(objectRelPath(m), repo.cache.path(m), size);
    bar.tick(size);
  });
  bar.done();
  let sent = toSend.length;
  for (const d of dirs) {
    const rel = objectRelPath(d.md5);
    if (present.has(rel)) continue;
    await remote.put(rel, repo.cache.path(d.md5), statSync(repo.cache.path(d.md5)).size);
    sent++;
  }
  return { transferred: sent, missing, remote: remote.name };
}

/** Download into the local cache every recorded object it lacks. */
export async function fetch(opts: TransferOptions): Promise<TransferResult> {
  const repo = Repo.find(opts.cwd);
  const remote = await openRemote(repo.config, opts.remote, opts.env ?? {});
  return fetchWith(repo, remote, opts);
}

async function download(repo: Repo, remote: Remote, md5: string): Promise<boolean> {
  const dest = repo.cache.path(md5);
  if (!(await remote.get(objectRelPath(md5), dest))) return false;
  const got = await md5OfFile(dest);
  if (got !== md5.replace(/\.dir$/, '')) {
    chmodSync(dest, 0o644);
    rmSync(dest, { force: true });
    throw new AppError(
      'DATA_INVALID',
      `object ${md5} downloaded from remote '${remote.name}' is corrupted (its md5 is ${got}); fix or delete it on the remote and push it again`,
    );
  }
  return true;
}

async function fetchWith(repo: Repo, remote: Remote, opts: TransferOptions): Promise<TransferResult> {
  if (remote instanceof LocalRemote && !existsSync(remote.dir))
    throw new AppError(
      'REMOTE',
      `remote '${remote.name}' points to ${remote.dir}, which does not exist. Point it at your copy of the data (\`carprice remote modify ${remote.name} url PATH\`), add your own default remote (\`carprice remote add -d NAME s3://bucket/path\`), or \`carprice push\` to create it`,
    );
  const used = collectUsed(repo, opts.targets);
  const missing: TransferResult['missing'] = [];
  let fetched = 0;
  const want = new Map<string, string>(); // file md5 -> output path (for messages)
  for (const u of used) {
    if (!u.md5.endsWith('.dir')) {
      if (!repo.cache.has(u.md5)) want.set(u.md5, u.path);
      continue;
    }
    if (!repo.cache.has(u.md5)) {
      if (!(await download(repo, remote, u.md5))) {
        missing.push({ md5: u.md5, path: u.path });
        continue;
      }
      fetched++;
    }
    for (const e of repo.cache.readManifest(u.md5) ?? [])
      if (!repo.cache.has(e.md5)) want.set(e.md5, `${u.path}/${e.relpath}`);
  }
  const list = [...want];
  const bar = startProgress(
    opts.progress,
    `Fetching from '${remote.name}'`,
    list.length,
    opts.progressEnabled ?? false,
  );
  await pool(list, opts.jobs ?? 8, async ([m, path]) => {
    if (await download(repo, remote, m)) {
      fetched++;
      bar.tick(statSync(repo.cache.path(m)).size);
    } else missing.push({ md5: m, path });
  });
  bar.done();
  return { transferred: fetched, missing, remote: remote.name };
}

/** Make the workspace match the recorded outputs, from the local cache. */
export async function checkout(opts: { cwd: string; targets?: string[]; force?: boolean }): Promise<CheckoutResult> {
  const repo = Repo.find(opts.cwd);
  try {
    const display = displayFrom(repo.rel(opts.cwd));
    const res: CheckoutResult = {
      added: [],
      modified: [],
      failed: [],
      skipped: [],
      corrupted: [],
      stats: { modified: 0, added: 0, deleted: 0 },
    };
    for (const u of collectUsed(repo, opts.targets)) {
      const abs = repo.abs(u.path);
      const cur = await hashPath(abs, u.path, repo.ignore, repo.state);
      if (cur?.md5 === u.md5) continue;
      const shown = display(u.path) + (u.md5.endsWith('.dir') ? '/' : '');
      if (!repo.cache.hasAll(u.md5)) {
        res.failed.push(shown);
        continue;
      }
      if (cur && !opts.force && !repo.cache.hasAll(cur.md5)) {
        res.skipped.push(shown);
        continue;
      }
      const current = cur && 'entries' in cur ? new Map(cur.entries.map((e) => [e.relpath, e.md5])) : undefined;
      const done = repo.cache.checkout(u.md5, abs, u.isexec, current);
      for (const m of done.corrupted) res.corrupted.push({ md5: m, path: shown });
      res.stats.added += done.files.added;
      res.stats.modified += done.files.modified;
      res.stats.deleted += done.files.deleted;
      if (!done.ok) {
        res.failed.push(shown);
        continue;
      }
      (cur ? res.modified : res.added).push(shown);
    }
    return res;
  } finally {
    repo.state.save();
  }
}

/**
 * `fetch` then `checkout`. Objects that the checkout finds corrupted in the local cache
 * (and removes) are fetched again from the remote and the checkout is retried once.
 */
export async function pull(
  opts: TransferOptions & { force?: boolean },
): Promise<{ fetch: TransferResult; checkout: CheckoutResult }> {
  const repo = Repo.find(opts.cwd);
  const remote = await openRemote(repo.config, opts.remote, opts.env ?? {});
  const f = await fetchWith(repo, remote, opts);
  let c = await checkout(opts);
  if (c.corrupted.length) {
    const again = await fetchWith(Repo.find(opts.cwd), remote, opts);
    const c2 = await checkout(opts);
    c = {
      ...c2,
      corrupted: [...c.corrupted, ...c2.corrupted],
      added: [...c.added, ...c2.added],
      modified: [...c.modified, ...c2.modified],
      stats: {
        modified: c.stats.modified + c2.stats.modified,
        added: c.stats.added + c2.stats.added,
        deleted: c.stats.deleted + c2.stats.deleted,
      },
    };
    f.transferred += again.transferred;
    f.missing = again.missing;
  }
  return { fetch: f, checkout: c };
}

/** DVC's summary line (humanize.get_summary): "2 files fetched, 1 file modified and 3 files added"; '' when all are 0. */
export function dvcSummary(stats: ReadonlyArray<[state: string, n: number]>): string {
  const words = stats.filter(([, n]) => n > 0).map(([st, n]) => `${n} file${n > 1 ? 's' : ''} ${st}`);
  return words.length > 1 ? `${words.slice(0, -1).join(', ')} and ${words[words.length - 1]}` : (words[0] ?? '');
}

/** "3 files" / "1 file". */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** DVC's warning for objects missing everywhere. */
export function formatMissing(missing: TransferResult['missing'], where: string): string {
  if (missing.length === 0) return '';
  return `WARNING: Some of the cache files do not exist neither locally nor on ${where}. Missing cache files:\n${missing.map((m) => `md5: ${m.md5} (${m.path})`).join('\n')}\n`;
}

/** Checkout lines like DVC's: the change letter padded to 8 columns, then the path (`A       path`). */
export function formatCheckout(c: CheckoutResult): string {
  let s = '';
  for (const p of c.added) s += `${'A'.padEnd(8)}${p}\n`;
  for (const p of c.modified) s += `${'M'.padEnd(8)}${p}\n`;
  return s;
}

/** Checkout warnings (stderr): corrupted cache objects, outputs left alone. */
export function formatCheckoutWarnings(c: CheckoutResult): string {
  let s = '';
  for (const x of c.corrupted)
    s += `WARNING: corrupted cache object md5: ${x.md5} (for '${x.path}'): its content does not match its hash; removed it from the cache\n`;
  for (const p of c.skipped)
    s += `WARNING: '${p}' has local changes that are not in the cache; left as is (use --force to overwrite)\n`;
  return s;
}

/** Fetch these objects (and a `.dir`'s files) from the remote into the local cache (`repro --pull`). */
export async function fetchObjects(
  repo: Repo,
  remoteName: string | undefined,
  env: Env,
  md5s: string[],
): Promise<number> {
  const remote = await openRemote(repo.config, remoteName, env);
  let n = 0;
  for (const m of md5s) {
    if (!repo.cache.has(m)) {
      if (!(await download(repo, remote, m))) continue;
      n++;
    }
    if (m.endsWith('.dir'))
      for (const e of repo.cache.readManifest(m) ?? []) {
        if (!repo.cache.has(e.md5) && (await download(repo, remote, e.md5))) n++;
      }
  }
  return n;
}

/** `pull --run-cache` / `repro --pull`: download the remote's run-cache entries. */
export async function pullRunCache(repo: Repo, remoteName: string | undefined, env: Env): Promise<number> {
  const remote = await openRemote(repo.config, remoteName, env);
  return new StageCache(repo.cache.dir).pull(remote, repo.cache.dir);
}

/** `push --run-cache`: upload the run-cache entries the remote lacks. */
export async function pushRunCache(repo: Repo, remoteName: string | undefined, env: Env): Promise<number> {
  const remote = await openRemote(repo.config, remoteName, env);
  return new StageCache(repo.cache.dir).push(remote, repo.cache.dir);
}

/**
 * `status -c`: each cached object of the recorded outputs compared with the remote, as
 * DVC's `_cloud_status`: `new` (only in the local cache), `deleted` (only on the remote),
 * `missing` (in neither). An object is named by the first output that holds it (outputs
 * in index order, a directory before the files in it, named `dir/file`): DVC collects
 * the objects in a set keyed by hash, so identical files show once, under the first
 * name. A directory's `.dir` manifest missing from the local cache is fetched from the
 * remote first, as DVC does, so a fresh clone lists the files it lacks. Keys in DVC's
 * order: deleted, new, missing. Empty when in sync.
 */
export async function cloudStatus(
  opts: TransferOptions,
): Promise<{ status: Map<string, 'new' | 'deleted' | 'missing'>; remote: string }> {
  const repo = Repo.find(opts.cwd);
  const remote = await openRemote(repo.config, opts.remote, opts.env ?? {});
  const display = displayFrom(repo.rel(opts.cwd));
  const named = new Map<string, string>(); // md5 -> first name
  const add = (md5: string, path: string) => {
    if (!named.has(md5)) named.set(md5, path);
  };
  for (const u of collectUsed(repo, opts.targets).filter((x) => !x.noPush)) {
    if (u.md5.endsWith('.dir') && !repo.cache.has(u.md5)) {
      try {
        await download(repo, remote, u.md5);
      } catch {
        // A corrupted manifest on the remote: reported as missing below.
      }
    }
    add(u.md5, display(u.path));
    if (u.md5.endsWith('.dir'))
      for (const e of repo.cache.readManifest(u.md5) ?? []) add(e.md5, `${display(u.path)}/${e.relpath}`);
  }
  const present = await remote.exists([...new Set([...named.keys()].map(objectRelPath))]);
  const by: Record<'deleted' | 'new' | 'missing', string[]> = { deleted: [], new: [], missing: [] };
  for (const [md5, path] of named) {
    const local = repo.cache.has(md5);
    const there = present.has(objectRelPath(md5));
    if (local && !there) by.new.push(path);
    else if (!local && there) by.deleted.push(path);
    else if (!local && !there) by.missing.push(path);
  }
  const status = new Map<string, 'new' | 'deleted' | 'missing'>();
  for (const st of ['deleted', 'new', 'missing'] as const)
    for (const p of [...new Set(by[st])].sort()) status.set(p, st);
  return { status, remote: remote.name };
}
