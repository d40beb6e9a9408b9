/**
 * Replays a recorded real-DVC session (test/fixtures/dvc/*.json, see its README) with
 * carprice: the same files, the same git commits, and for every `dvc ARGS` step the same
 * `carprice ARGS`, collecting where carprice's exit code, stdout, stderr or written files
 * differ from what DVC 3.64 did. No Python or DVC at test time.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { runBuiltCli } from './built-cli.js';
import { dag } from '../../src/pipeline/dag.js';

/** One step of a recording. */
export interface DvcStep {
  write?: Record<string, string | null>;
  git?: string[];
  clone?: string;
  carprice?: string[];
  dvc?: string[];
  code?: number;
  stdout?: string;
  stderr?: string;
  snapshot?: string[];
  files?: Record<string, string | null>;
  listdir?: string[];
  paths?: string[];
  /**
   * For `dvc dag` (ASCII): the order of DVC's edge set in that run, one list per pipeline
   * drawn ([from, to] names). DVC gives long edges their bend points in this order, which
   * follows Python object addresses and so varies between its runs.
   */
  edgeSets?: Array<Array<[string, string]>>;
}

export interface DvcRecording {
  about: string;
  recorded: string;
  files: Record<string, string>;
  steps: DvcStep[];
}

export const FIXTURES = new URL('../../../test/fixtures/dvc/', import.meta.url).pathname;

export function loadDvcRecording(name: string): DvcRecording {
  return JSON.parse(readFileSync(join(FIXTURES, `${name}.json`), 'utf8')) as DvcRecording;
}

const GIT = ['-c', 'user.email=t@example.com', '-c', 'user.name=t', '-c', 'commit.gpgsign=false'];

function git(cwd: string, args: string[]): void {
  spawnSync('git', [...GIT, '-c', 'init.defaultBranch=main', ...args], { cwd, encoding: 'utf8' });
}

function writeFiles(root: string, files: Record<string, string | null>): void {
  for (const [p, c] of Object.entries(files)) {
    const full = join(root, p);
    if (c === null) {
      rmSync(full, { recursive: true, force: true });
      continue;
    }
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, c);
  }
}

function walk(root: string, dir: string, out: string[]): void {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(root, p, out);
    else out.push(relative(root, p));
  }
}

/** What one replayed step found: `label` names the step, `diffs` what differed. */
export interface StepResult {
  index: number;
  label: string;
  diffs: string[];
  /** carprice's own output for a dvc step (for messages). */
  got?: { code: number; stdout: string; stderr: string };
  /**
   * A `dag` drawing that differs from DVC's only by the order of bend points DVC took from
   * its edge set: carprice, given that order, drew DVC's bytes.
   */
  bendOrderOnly?: boolean;
}

/** Show the first differing line of two texts. */
function firstDifference(what: string, theirs: string, ours: string): string {
  const a = theirs.split('\n');
  const b = ours.split('\n');
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return `${what} line ${i + 1}: DVC ${JSON.stringify(a[i] ?? '<end>')}, carprice ${JSON.stringify(b[i] ?? '<end>')}`;
}

/** JSON with object keys sorted, for comparing documents whose key order DVC takes from a set. */
function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object')
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
    );
  return v;
}

/**
 * How a command's stdout is compared. DVC builds some outputs from Python sets, so their
 * order changes from one run of DVC to the next (hash randomisation): `--dot` lines,
 * `status -c` lines and the key order of `--json` documents. Those compare as sorted lines
 * or key-sorted JSON; everything else byte for byte.
 */
function comparer(args: string[]): (theirs: string, ours: string) => boolean {
  if (args.includes('--json'))
    return (a, b) => {
      try {
        return JSON.stringify(canonical(JSON.parse(a))) === JSON.stringify(canonical(JSON.parse(b)));
      } catch {
        return a === b;
      }
    };
  const unordered =
    args.includes('--dot') || (args[0] === 'status' && (args.includes('-c') || args.includes('--cloud')));
  if (unordered) return (a, b) => a.split('\n').sort().join('\n') === b.split('\n').sort().join('\n');
  return (a, b) => a === b;
}

/**
 * Deliberate differences, applied to DVC's recorded text before comparing: carprice names
 * itself in its hints ("Use `carprice push` ..."), has no core.autostage (so no "To enable
 * auto staging" hint), the files of a "git add" hint are compared as a set (DVC lists
 * them from a Python set, in a different order on every run; carprice sorts them), and
 * `params diff`'s closing line for revisions that failed to load names carprice, says
 * "params" (DVC's says "metrics") and how to fix it.
 */
export function normalizeDvcText(text: string): string {
  return sortGitAdd(
    text
      .replace(/\nTo enable auto staging, run:\n\n\tdvc config core\.autostage true\n/g, '')
      .replace(/`dvc (push|pull|checkout|repro)`/g, '`carprice $1`')
      .replace(
        /^DVC failed to load some metrics for following revisions: (.*)\.$/gm,
        'carprice failed to load the params of these revisions: $1; quote the dates named above to keep them as text.',
      ),
  );
}

/** The paths of `\tgit add ...` lines sorted (shell-quoted paths kept whole). */
export function sortGitAdd(text: string): string {
  return text.replace(
    /^\tgit add (.*)$/gm,
    (_m, files: string) => `\tgit add ${(files.match(/'[^']*'|\S+/g) ?? []).sort().join(' ')}`,
  );
}

/** Replay a recording in a fresh temporary folder `base`; returns one result per checking step. */
export async function replayDvc(rec: DvcRecording, base: string): Promise<StepResult[]> {
  const repo = join(base, 'repo');
  const remote = join(base, 'remote');
  mkdirSync(repo, { recursive: true });
  mkdirSync(remote, { recursive: true });
  const subs: Array<[string, string]> = [
    [remote, '{REMOTE}'],
    [repo, '{REPO}'],
  ];
  const norm = (t: string) => subs.reduce((s, [a, b]) => s.split(a).join(b), t);
  const expand = (a: string) => a.split('{REMOTE}').join(remote);
  writeFiles(repo, rec.files);
  git(repo, ['init', '-q']);
  git(repo, ['add', '-A']);
  git(repo, ['commit', '-qm', 'init']);
  let cwd = repo;
  const results: StepResult[] = [];
  for (const [index, step] of rec.steps.entries()) {
    if (step.write) writeFiles(cwd, step.write);
    else if (step.git) git(cwd, step.git);
    else if (step.clone) {
      const clone = join(base, step.clone);
      git(base, ['clone', '-q', repo, clone]);
      subs.unshift([clone, '{CLONE}']);
      cwd = clone;
    } else if (step.carprice) await runBuiltCli(step.carprice.map(expand), cwd);
    else if (step.dvc) {
      const r = await runBuiltCli(step.dvc.map(expand), cwd);
      const got = { code: r.code, stdout: sortGitAdd(norm(r.stdout)), stderr: norm(r.stderr) };
      const want = { stdout: normalizeDvcText(step.stdout ?? ''), stderr: normalizeDvcText(step.stderr ?? '') };
      const diffs: string[] = [];
      if ((step.code === 0) !== (got.code === 0)) diffs.push(`exit code: DVC ${step.code}, carprice ${got.code}`);
      const same = comparer(step.dvc);
      let bendOrderOnly = false;
      if (step.edgeSets) {
        // The layout itself, given the bend-point order DVC's run took: DVC's bytes exactly.
        const args = step.dvc.slice(1);
        const drawn = dag({
          cwd,
          target: args.find((a) => !a.startsWith('-')),
          outs: args.includes('--outs') || args.includes('-o'),
          format: 'ascii',
          width: 80,
          bendOrders: step.edgeSets,
        });
        if (drawn !== want.stdout) diffs.push(firstDifference("drawn in DVC's bend order: stdout", want.stdout, drawn));
        else bendOrderOnly = got.stdout !== want.stdout;
      }
      if (!same(want.stdout, got.stdout) && !bendOrderOnly)
        diffs.push(firstDifference('stdout', want.stdout, got.stdout));
      if (got.stderr !== want.stderr) diffs.push(firstDifference('stderr', want.stderr, got.stderr));
      results.push({ index, label: `#${index} ${step.dvc.join(' ')}`, diffs, got, bendOrderOnly });
    } else if (step.snapshot) {
      const diffs: string[] = [];
      for (const p of step.snapshot) {
        const full = join(cwd, p);
        const ours = existsSync(full) && statSync(full).isFile() ? readFileSync(full, 'utf8') : null;
        const theirs = step.files?.[p] ?? null;
        if (ours === theirs) continue;
        if (ours === null || theirs === null)
          diffs.push(
            `${p}: ${theirs === null ? 'absent' : 'present'} after DVC, ${ours === null ? 'absent' : 'present'} after carprice`,
          );
        else diffs.push(firstDifference(p, theirs, ours));
      }
      results.push({ index, label: `#${index} files ${step.snapshot.join(' ')}`, diffs });
    } else if (step.listdir) {
      const ours: string[] = [];
      for (const d of step.listdir) walk(cwd, join(cwd, d), ours);
      ours.sort();
      const theirs = step.paths ?? [];
      const missing = theirs.filter((p) => !ours.includes(p));
      const extra = ours.filter((p) => !theirs.includes(p));
      const diffs = [
        ...missing.map((p) => `${p}: written by DVC, not by carprice`),
        ...extra.map((p) => `${p}: written by carprice, not by DVC`),
      ];
      results.push({ index, label: `#${index} paths under ${step.listdir.join(' ')}`, diffs });
    }
  }
  return results;
}
