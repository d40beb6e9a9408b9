/**
 * The hash cache: md5s of files keyed by path and (inode, mtime, size), persisted as a
 * small JSON file in `.dvc/tmp/` (written atomically, only when something changed), so a
 * status on an unchanged tree costs one stat per file. Like DVC's own state DB, an entry
 * is trusted only while inode, mtime and size all match.
 */
import { readFileSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../core/atomic-write.js';

/** Remembers file md5s between runs. */
export interface HashState {
  lookup(abs: string, st: Stats): string | undefined;
  record(abs: string, st: Stats, md5: string): void;
  /** Persist if anything changed. */
  save(): void;
}

type Entry = [ino: number, mtimeMs: number, size: number, md5: string];

const FORMAT = 'carprice-hash-state';

/** A HashState stored in `<repo>/.dvc/tmp/carprice-hashes.json`. */
export class JsonHashState implements HashState {
  private entries: Map<string, Entry>;
  private dirty = false;
  private readonly file: string;

  constructor(private readonly root: string) {
    this.file = join(root, '.dvc', 'tmp', 'carprice-hashes.json');
    this.entries = new Map();
    try {
      const data = JSON.parse(readFileSync(this.file, 'utf8')) as {
        kind?: string;
        formatVersion?: number;
        entries?: Record<string, Entry>;
      };
      if (data.kind === FORMAT && data.formatVersion === 1 && data.entries)
        this.entries = new Map(Object.entries(data.entries));
    } catch {
      /* missing or unreadable: start empty (it is only a cache) */
    }
  }

  private key(abs: string): string {
    return abs.startsWith(this.root + '/') ? abs.slice(this.root.length + 1) : abs;
  }

  lookup(abs: string, st: Stats): string | undefined {
    const e = this.entries.get(this.key(abs));
    if (e && e[0] === st.ino && e[1] === st.mtimeMs && e[2] === st.size) return e[3];
    return undefined;
  }

  record(abs: string, st: Stats, md5: string): void {
    this.entries.set(this.key(abs), [st.ino, st.mtimeMs, st.size, md5]);
    this.dirty = true;
  }

  save(): void {
    if (!this.dirty) return;
    const obj: Record<string, Entry> = {};
    for (const [k, v] of this.entries) obj[k] = v;
    try {
      writeFileAtomic(this.file, JSON.stringify({ kind: FORMAT, formatVersion: 1, entries: obj }));
      this.dirty = false;
    } catch {
      /* read-only repo: the cache is an optimisation only */
    }
  }
}
