/**
 * What DVC leaves out when it walks a directory: `.git`, `.hg`, `.dvc` at any depth and
 * the patterns of the repo's root `.dvcignore` (gitwildmatch subset: `#` comments, `!`
 * negation, trailing `/` for directories only, leading or inner `/` anchors to the root,
 * `*`, `?`, `**`, `[...]`).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

interface Rule {
  re: RegExp;
  negate: boolean;
  dirOnly: boolean;
}

/** Decides whether a repo-relative posix path is ignored. */
export interface IgnoreFilter {
  isIgnored(relpath: string, isDir: boolean): boolean;
  /** False when only the built-in names (.git, .hg, .dvc) are ignored. */
  readonly hasRules: boolean;
}

const BUILTIN = new Set(['.git', '.hg', '.dvc']);

function globToRegex(glob: string, anchored: boolean): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') {
      if (glob[i + 1] === '*') {
        if (glob[i + 2] === '/') {
          re += '(?:.*/)?';
          i += 2;
        } else {
          re += '.*';
          i += 1;
        }
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end < 0) re += '\\[';
      else {
        re +=
          '[' +
          glob
            .slice(i + 1, end)
            .replace(/^!/, '^')
            .replace(/\\/g, '\\\\') +
          ']';
        i = end;
      }
    } else if (c === '\\' && i + 1 < glob.length) re += '\\' + glob[++i];
    else re += c.replace(/[.+^${}()|\]\\]/g, '\\$&');
  }
  return new RegExp((anchored ? '^' : '^(?:.*/)?') + re + '(?:/.*)?$');
}

/** Parse `.dvcignore` text into a filter (always including the built-in ignores). */
export function parseIgnore(text: string): IgnoreFilter {
  const rules: Rule[] = [];
  for (let line of text.split(/\r?\n/)) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    line = line.replace(/(?<!\\)\s+$/, '');
    let negate = false;
    if (line.startsWith('!')) {
      negate = true;
      line = line.slice(1);
    }
    let dirOnly = false;
    if (line.endsWith('/')) {
      dirOnly = true;
      line = line.slice(0, -1);
    }
    const anchored = line.includes('/');
    if (line.startsWith('/')) line = line.slice(1);
    rules.push({ re: globToRegex(line, anchored), negate, dirOnly });
  }
  return {
    hasRules: rules.length > 0,
    isIgnored(relpath: string, isDir: boolean): boolean {
      const parts = relpath.split('/');
      if (parts.some((p) => BUILTIN.has(p))) return true;
      let ignored = false;
      for (const r of rules) {
        let subject = relpath;
        if (r.dirOnly && !isDir) {
          const slash = relpath.lastIndexOf('/');
          if (slash < 0) continue;
          subject = relpath.slice(0, slash); // a file is ignored by `dir/` only through its parents
        }
        if (r.re.test(subject)) ignored = !r.negate;
      }
      return ignored;
    },
  };
}

/** Load the root `.dvcignore` of a repo (built-ins only when it is absent). */
export function loadIgnore(root: string): IgnoreFilter {
  let text = '';
  try {
    text = readFileSync(join(root, '.dvcignore'), 'utf8');
  } catch {
    /* no .dvcignore: built-ins only */
  }
  return parseIgnore(text);
}
