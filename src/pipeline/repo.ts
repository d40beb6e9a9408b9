/**
 * A DVC repository on disk: finding its root (the nearest directory with `.dvc/`), its
 * config, cache, hash state and ignore rules, and its index: the stages of `dvc.yaml`
 * plus the data sources tracked by `.dvc` files, with paths resolved to repo-relative
 * posix form for the graph.
 */
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, posix, relative, resolve, sep } from 'node:path';
import { AppError } from '../core/errors.js';
import { LocalCache } from './cache.js';
import { RepoConfig } from './config.js';
import { readDvcFile, type DvcFile } from './dvc-file.js';
import { loadPipeline, type OutDef, type Pipeline, type PipelineReadOptions, type StageDef } from './dvc-yaml.js';
import { loadIgnore, type IgnoreFilter } from './dvcignore.js';
import { JsonHashState } from './hash-state.js';
import { LockFile } from './lockfile.js';

/** An output in an index stage, with its repo-relative path. */
export interface IndexOut {
  /** Path as written (relative to the stage wdir or the .dvc file dir). */
  defPath: string;
  /** Repo-relative normalized posix path. */
  path: string;
  cache: boolean;
  persist: boolean;
  push: boolean;
  remote?: string;
  kind: OutDef['kind'];
}

/** A node of the pipeline graph: a dvc.yaml stage or a `.dvc` data source. */
export interface IndexStage {
  /** Addressing name: `train`, `build@us`, or `data/raw.xlsx.dvc`. */
  name: string;
  kind: 'stage' | 'dvcfile';
  def?: StageDef;
  dvcfile?: DvcFile;
  /** Repo-relative dep paths (`deps` only; params are not graph edges). */
  deps: Array<{ defPath: string; path: string }>;
  outs: IndexOut[];
}

/** Everything the commands need about the repo at one moment. */
export interface RepoIndex {
  stages: IndexStage[];
  pipeline?: Pipeline;
  lock: LockFile;
}

/** Normalize a path written relative to `base` (repo-relative dir) to repo-relative posix. */
export function repoPath(base: string, p: string): string {
  if (posix.isAbsolute(p)) return p;
  return posix.normalize(posix.join(base, p.replace(/\\/g, '/')));
}

/** An opened repository. */
export class Repo {
  readonly dvcDir: string;
  readonly config: RepoConfig;
  readonly cache: LocalCache;
  readonly state: JsonHashState;
  readonly ignore: IgnoreFilter;

  constructor(readonly root: string) {
    this.dvcDir = join(root, '.dvc');
    this.config = RepoConfig.load(this.dvcDir);
    const cacheDir = this.config.get('cache', 'dir');
    this.state = new JsonHashState(root);
    this.cache = new LocalCache(cacheDir ? resolve(this.dvcDir, cacheDir) : join(this.dvcDir, 'cache'), this.state);
    this.ignore = loadIgnore(root);
  }

  /** Find the repo containing `cwd` (nearest ancestor with a `.dvc` directory). */
  static find(cwd: string): Repo {
    let dir = resolve(cwd);
    for (;;) {
      if (existsSync(join(dir, '.dvc')) && statSync(join(dir, '.dvc')).isDirectory()) return new Repo(dir);
      const up = dirname(dir);
      if (up === dir) break;
      dir = up;
    }
    throw new AppError(
      'PIPELINE_INVALID',
      `${cwd} is not inside a DVC repository (no .dvc/ directory here or above); create one with \`dvc init\` or \`mkdir .dvc\` at the project root`,
    );
  }

  /**
   * Create `.dvc/` like `dvc init` (empty config, `.dvc/.gitignore`, `.dvcignore`) if it
   * does not exist, and open the repo.
   */
  static init(dir: string): Repo {
    const dvc = join(dir, '.dvc');
    if (!existsSync(dvc)) {
      mkdirSync(join(dvc, 'tmp'), { recursive: true });
      writeFileSync(join(dvc, 'config'), '');
      writeFileSync(join(dvc, '.gitignore'), '/config.local\n/tmp\n/cache\n');
      if (!existsSync(join(dir, '.dvcignore')))
        writeFileSync(
          join(dir, '.dvcignore'),
          '# Add patterns of files dvc should ignore, which could improve\n# the performance. Learn more at\n# https://dvc.org/doc/user-guide/dvcignore\n',
        );
    }
    return new Repo(dir);
  }

  /** A repo-relative posix path for an absolute path. */
  rel(abs: string): string {
    const r = relative(this.root, abs).split(sep).join('/');
    return r === '' ? '.' : r;
  }

  /** Absolute path of a repo-relative path. */
  abs(rel: string): string {
    return posix.isAbsolute(rel) ? rel : join(this.root, ...rel.split('/'));
  }

  /**
   * Find `.dvc` files (and the root `dvc.yaml`) in DVC's walk order: a directory's files by
   * name, then its sub-directories by name. Hidden dirs, node_modules, tracked dirs and
   * `skip` dirs (stage outputs) are not entered.
   */
  findDvcFiles(skip: ReadonlySet<string>): string[] {
    const out: string[] = [];
    const walk = (dirAbs: string, rel: string): void => {
      let ents;
      try {
        ents = readdirSync(dirAbs, { withFileTypes: true });
      } catch {
        return;
      }
      ents.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      const names = new Set(ents.map((e) => e.name));
      const dirs: string[] = [];
      for (const e of ents) {
        const r = rel ? `${rel}/${e.name}` : e.name;
        if (e.isDirectory()) {
          // A directory tracked by a sibling `<dir>.dvc` holds no .dvc files (DVC forbids it): skip it.
          if (
            e.name.startsWith('.') ||
            e.name === 'node_modules' ||
            names.has(`${e.name}.dvc`) ||
            skip.has(r) ||
            this.ignore.isIgnored(r, true)
          )
            continue;
          dirs.push(e.name);
        } else if ((e.name.endsWith('.dvc') || r === 'dvc.yaml') && !this.ignore.isIgnored(r, false)) out.push(r);
      }
      for (const d of dirs) walk(join(dirAbs, d), rel ? `${rel}/${d}` : d);
    };
    walk(this.root, '');
    return out;
  }

  /** Load dvc.yaml, dvc.lock and the `.dvc` files into an index. */
  loadIndex(opts: PipelineReadOptions = {}): RepoIndex {
    const pipeline = loadPipeline(this.root, 'dvc.yaml', opts);
    const lock = LockFile.load(this.root, 'dvc.lock');
    const stages: IndexStage[] = [];
    const outDirs = new Set<string>();
    for (const def of pipeline?.stages ?? []) {
      const outs = def.outs.map((o) => ({
        defPath: o.path,
        path: repoPath(def.wdir, o.path),
        cache: o.cache,
        persist: o.persist,
        push: o.push,
        remote: o.remote,
        kind: o.kind,
      }));
      for (const o of outs) outDirs.add(o.path);
      stages.push({
        name: def.name,
        kind: 'stage',
        def,
        deps: def.deps.map((d) => ({ defPath: d, path: repoPath(def.wdir, d) })),
        outs,
      });
    }
    const ordered: IndexStage[] = [];
    let placed = false;
    for (const f of this.findDvcFiles(outDirs)) {
      if (f === 'dvc.yaml') {
        ordered.push(...stages);
        placed = true;
        continue;
      }
      const df = readDvcFile(this.root, f);
      const dir = posix.dirname(f);
      ordered.push({
        name: f,
        kind: 'dvcfile',
        dvcfile: df,
        deps: [],
        outs: df.outs.map((o) => ({
          defPath: o.path,
          path: repoPath(dir, o.path),
          cache: o.cache,
          persist: false,
          push: o.push,
          kind: 'outs' as const,
        })),
      });
    }
    if (!placed) ordered.push(...stages);
    return { stages: ordered, pipeline, lock };
  }
}
