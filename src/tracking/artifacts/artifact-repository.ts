/**
 * Where run artifacts live, behind one interface: a local directory, an S3 prefix, or an
 * MLflow server's proxied artifact service (mlflow-artifacts:). Paths given to a
 * repository are relative to its root, use '/' separators, and are checked by
 * `safeRelativePath` (no '..', no absolute paths, no backslashes), as MLflow's
 * validate_path_is_safe does.
 */
import type { Readable } from 'node:stream';
import { AppError } from '../../core/errors.js';
import type { FileInfo } from '../entities.js';

export interface ArtifactRepository {
  /** The URI this repository is rooted at. */
  readonly rootUri: string;
  /** Store `body` at `relPath` (replacing it); never leaves half a file visible. */
  write(relPath: string, body: Readable | Buffer): Promise<void>;
  /** A stream of the file at `relPath`; RESOURCE_DOES_NOT_EXIST when absent. */
  read(relPath: string): Promise<Readable>;
  /** Immediate children of `relDir` ('' = root), paths relative to the root, sorted; [] when absent. */
  list(relDir: string): Promise<FileInfo[]>;
  /** Remove a file or a directory tree (absent is fine); the root itself ('') is refused. */
  delete(relPath: string): Promise<void>;
}

/**
 * Normalise and check an artifact path: no '#', no '..' segments, not absolute, no
 * backslashes, NUL or drive letters. Returns the path without leading/trailing '/' and
 * without '.' segments. The path is taken as it is: URL decoding is the HTTP layer's job
 * and happens exactly once there, so `a%2541.txt` names the file `a%41.txt`, never `aA.txt`.
 */
export function safeRelativePath(path: string | undefined): string {
  if (path === undefined || path === '') return '';
  const bad =
    path.includes('#') ||
    path.includes('\\') ||
    path.includes('\0') ||
    /^[a-zA-Z]:/.test(path) ||
    path.startsWith('/') ||
    path.split('/').some((s) => s === '..');
  if (bad)
    throw new AppError(
      'INVALID_PARAMETER_VALUE',
      `Invalid path: '${path}'. Artifact paths must be relative and must not contain '..', '#', backslashes or drive letters.`,
    );
  return path
    .split('/')
    .filter((s) => s !== '' && s !== '.')
    .join('/');
}

/**
 * The checked path of a delete: never the repository's own root (an empty path after
 * normalisation, e.g. '', '/', '.', './'), which would remove every artifact below it.
 */
export function deletablePath(path: string | undefined): string {
  const rel = safeRelativePath(path);
  if (rel === '')
    throw new AppError(
      'INVALID_PARAMETER_VALUE',
      `Invalid path: '${path ?? ''}'. A delete must name a file or folder inside the artifact root, not the root itself.`,
    );
  return rel;
}

/** One path segment (a file name from a listing): not empty, no '/', not '.' or '..'. */
export function safeSegment(name: string): string {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\\') || name.includes('\0'))
    throw new AppError(
      'INVALID_PARAMETER_VALUE',
      `Invalid artifact name '${name}' in a listing: a name must be one path segment.`,
    );
  return name;
}

/** Join relative artifact path segments with '/'. */
export function joinArtifactPath(...parts: (string | undefined)[]): string {
  return parts.filter((p): p is string => p !== undefined && p !== '').join('/');
}
