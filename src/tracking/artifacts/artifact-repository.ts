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
  /** Remove a file or a directory tree (absent is fine). */
  delete(relPath: string): Promise<void>;
}

/**
 * Normalise and check an artifact path: URL-decoded, no '#', no '..' segments, not
 * absolute, no backslashes or drive letters. Returns the path without leading/trailing '/'.
 */
export function safeRelativePath(path: string | undefined): string {
  if (path === undefined || path === '') return '';
  let decoded = path;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    decoded = path;
  }
  const bad =
    decoded.includes('#') ||
    decoded.includes('\\') ||
    decoded.includes('\0') ||
    /^[a-zA-Z]:/.test(decoded) ||
    decoded.startsWith('/') ||
    decoded.split('/').some((s) => s === '..');
  if (bad) throw new AppError('INVALID_PARAMETER_VALUE', `Invalid path: '${path}'. Artifact paths must be relative and must not contain '..', '#', backslashes or drive letters.`);
  return decoded
    .split('/')
    .filter((s) => s !== '' && s !== '.')
    .join('/');
}

/** Join relative artifact path segments with '/'. */
export function joinArtifactPath(...parts: (string | undefined)[]): string {
  return parts.filter((p): p is string => p !== undefined && p !== '').join('/');
}
