/**
 * Names a transfer takes from its source and uses on disk. A source may be a server or a
 * dump nobody here controls, so every id that becomes a file or directory name (experiment,
 * run and logged-model ids) must be one plain path segment, and every artifact path a
 * source lists must stay below the tree it is copied into, checked before any file is
 * read, written or removed. A hostile '../x', '/etc' or 'a\0b' stops the transfer with an
 * error naming the value and the source.
 */
import { AppError } from '../../core/errors.js';

/** Letters, digits, '_', '-' and '.', not starting with '.', at most 200 characters. */
const SAFE_ID = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$/;

/** A value as it may appear in a message: quoted, control characters escaped, bounded. */
function shown(value: unknown): string {
  const s = JSON.stringify(String(value));
  return s.length > 120 ? `${s.slice(0, 117)}..."` : s;
}

/** `id` when it is safe as one file name; otherwise DATA_INVALID naming it and the source. */
export function safeId(kind: string, id: unknown, source: string): string {
  if (typeof id === 'string' && SAFE_ID.test(id)) return id;
  throw new AppError(
    'DATA_INVALID',
    `${source} gives the ${kind} ${shown(id)}, which carprice will not use as a file name: an id must be one path segment of letters, digits, '_', '-' and '.' (not starting with '.'), at most 200 characters. Nothing was written for it; check the source (a hostile or broken server or dump)`,
    { details: { kind, id: String(id), source } },
  );
}

/**
 * `path` when it is a relative artifact path staying inside its tree: not empty, not
 * absolute, no '..' or '.' or empty segment, no backslash, NUL or drive letter.
 */
export function safeArtifactPath(path: unknown, owner: string, source: string): string {
  const p = typeof path === 'string' ? path : '';
  const ok =
    p !== '' &&
    !p.startsWith('/') &&
    !/^[a-zA-Z]:/.test(p) &&
    !p.includes('\\') &&
    !p.includes('\0') &&
    p.split('/').every((s) => s !== '' && s !== '.' && s !== '..');
  if (ok) return p;
  throw new AppError(
    'DATA_INVALID',
    `${source} lists the artifact path ${shown(path)} for ${owner}, which leads outside its artifact tree (absolute, '..', empty segments, backslash or NUL); nothing was copied for it. Check the source (a hostile or broken server or dump)`,
    { details: { path: String(path), owner, source } },
  );
}
