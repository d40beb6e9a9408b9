/**
 * `.dvc/config` (and `.dvc/config.local`) in configobj's INI dialect, read and written as
 * DVC does: `[core]`, `['remote "name"']` sections, keys indented 4 spaces as
 * `key = value`, values quoted only when they contain `,` or `#` or edge whitespace, plain
 * sections first and remote sections after them in insertion order.
 *
 * ```ini
 * [core]
 *     remote = myremote
 * ['remote "myremote"']
 *     url = /tmp/dvcstore
 * ```
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { writeFileAtomic } from '../core/atomic-write.js';
import { AppError } from '../core/errors.js';

/** Sections (in order) of key/value pairs (in order). */
export type ConfigData = Map<string, Map<string, string>>;

function unquote(s: string): string {
  s = s.trim();
  if (s.length >= 2 && ((s[0] === '"' && s.endsWith('"')) || (s[0] === "'" && s.endsWith("'")))) return s.slice(1, -1);
  return s;
}

/** Parse configobj INI text. */
export function parseConfig(text: string, shown: string): ConfigData {
  const data: ConfigData = new Map();
  let cur: Map<string, string> | undefined;
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) return;
    const sec = /^\[(.*)\]$/.exec(line);
    if (sec) {
      const name = unquote(sec[1]);
      cur = data.get(name) ?? new Map();
      data.set(name, cur);
      return;
    }
    const kv = /^([^=]+?)\s*=\s*(.*)$/.exec(line);
    if (!kv || !cur)
      throw new AppError(
        'PIPELINE_INVALID',
        `${shown}:${i + 1}: cannot parse ${JSON.stringify(raw)}; expected [section] or key = value`,
      );
    let value = kv[2];
    if (!/^["']/.test(value)) value = value.replace(/\s+#.*$/, '');
    cur.set(unquote(kv[1]), unquote(value));
  });
  return data;
}

function quoteValue(v: string): string {
  if (v === '') return '""';
  if (/[,#]/.test(v) || /^\s|\s$/.test(v)) return v.includes('"') ? `'${v}'` : `"${v}"`;
  return v;
}

function quoteSection(name: string): string {
  return name.includes('"') ? `'${name}'` : name;
}

/** Serialize like configobj (plain sections first, then remote/machine/db sections). */
export function serializeConfig(data: ConfigData): string {
  const named = (n: string) => /^(remote|machine|db) "/.test(n);
  const order = [...[...data.keys()].filter((n) => !named(n)), ...[...data.keys()].filter(named)];
  let out = '';
  for (const name of order) {
    const sec = data.get(name)!;
    if (sec.size === 0) continue;
    out += `[${quoteSection(name)}]\n`;
    for (const [k, v] of sec) out += `    ${k} = ${quoteValue(v)}\n`;
  }
  return out;
}

/** A repo's config files. */
export class RepoConfig {
  constructor(
    readonly dvcDir: string,
    readonly repo: ConfigData,
    readonly local: ConfigData,
  ) {}

  static load(dvcDir: string): RepoConfig {
    const read = (f: string): ConfigData => {
      try {
        return parseConfig(readFileSync(join(dvcDir, f), 'utf8'), `.dvc/${f}`);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
        throw e;
      }
    };
    return new RepoConfig(dvcDir, read('config'), read('config.local'));
  }

  /** Merged value (config.local wins). */
  get(section: string, key: string): string | undefined {
    return this.local.get(section)?.get(key) ?? this.repo.get(section)?.get(key);
  }

  /** Merged section (config.local wins per key). */
  section(section: string): Map<string, string> | undefined {
    const a = this.repo.get(section);
    const b = this.local.get(section);
    if (!a && !b) return undefined;
    return new Map([...(a ?? []), ...(b ?? [])]);
  }

  /** Names of remotes, in order. */
  remoteNames(): string[] {
    const names = new Set<string>();
    for (const d of [this.repo, this.local])
      for (const k of d.keys()) if (k.startsWith('remote "')) names.add(k.slice(8, -1));
    return [...names];
  }

  save(which: 'repo' | 'local' = 'repo'): void {
    writeFileAtomic(
      join(this.dvcDir, which === 'repo' ? 'config' : 'config.local'),
      serializeConfig(which === 'repo' ? this.repo : this.local),
    );
  }
}

/** True for URLs with a scheme (`s3://`, `http://`...), which are kept as written. */
export function hasScheme(url: string): boolean {
  return /^\w+:\/\//.test(url);
}

/**
 * DVC stores a relative local remote URL relative to the config file's directory (.dvc/):
 * from the repo root, `../store` becomes `../../store`.
 */
export function toConfigRelative(url: string, cwd: string, dvcDir: string): string {
  if (hasScheme(url) || isAbsolute(url)) return url;
  return relative(dvcDir, resolve(cwd, url)).split(sep).join('/');
}

/** The absolute path of a local remote URL as written in .dvc/config. */
export function resolveLocalUrl(url: string, dvcDir: string): string {
  const u = url.startsWith('file://') ? url.slice(7) : url;
  return isAbsolute(u) ? u : resolve(dvcDir, u);
}
