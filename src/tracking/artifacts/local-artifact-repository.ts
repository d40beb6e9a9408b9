/**
 * Artifacts in a local directory (plain path or file:// URI). Writes go to a temp file in
 * the target directory and are renamed into place, so a reader never sees half a file.
 *
 * Containment: every operation resolves real paths (symbolic links followed) and refuses
 * anything whose real location is outside the real root, so a link planted inside the
 * root (`model -> /etc`) can be neither read, listed, written through nor deleted through.
 * A link that stays inside the root works as its target. Deleting a link removes the link.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { lstat, mkdir, readdir, realpath, rename, rm, stat } from 'node:fs/promises';
import { basename, join, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { AppError } from '../../core/errors.js';
import type { FileInfo } from '../entities.js';
import { deletablePath, joinArtifactPath, safeRelativePath, type ArtifactRepository } from './artifact-repository.js';

/** The local directory of a file:// URI or a plain path. */
export function localDirOf(uri: string): string {
  let dir: string;
  try {
    dir = uri.startsWith('file:')
      ? fileURLToPath(uri.startsWith('file:///') ? uri : uri.replace(/^file:(\/\/)?/, 'file:///'))
      : resolve(uri);
  } catch (e) {
    throw new AppError('INVALID_PARAMETER_VALUE', `Invalid artifact location '${uri}': ${(e as Error).message}.`, {
      cause: e,
    });
  }
  if (dir.includes('\0'))
    throw new AppError(
      'INVALID_PARAMETER_VALUE',
      `Invalid artifact location '${uri.replace(/\0/g, '\\0')}': NUL in path.`,
    );
  return dir;
}

function errno(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException)?.code;
}

function outside(rel: string): AppError {
  return new AppError(
    'INVALID_PARAMETER_VALUE',
    `Invalid path: '${rel}' leads outside the artifact root (through a symbolic link).`,
  );
}

export class LocalArtifactRepository implements ArtifactRepository {
  readonly root: string;
  constructor(readonly rootUri: string) {
    this.root = localDirOf(rootUri);
  }

  private abs(rel: string): string {
    return rel ? join(this.root, ...rel.split('/')) : this.root;
  }

  /** The real path of the root, or undefined when it does not exist yet. */
  private async realRoot(): Promise<string | undefined> {
    try {
      return await realpath(this.root);
    } catch (e) {
      if (errno(e) === 'ENOENT') return undefined;
      throw e;
    }
  }

  private static inside(realRoot: string, real: string): boolean {
    return real === realRoot || real.startsWith(realRoot.endsWith(sep) ? realRoot : realRoot + sep);
  }

  /**
   * The real location of `rel`: the real path of its deepest existing ancestor (itself
   * when it exists) joined with the segments that do not exist yet. Refuses a location
   * outside the real root. `exists` tells whether the whole path resolved.
   */
  private async locate(rel: string, realRoot: string): Promise<{ real: string; exists: boolean }> {
    const segs = rel ? rel.split('/') : [];
    for (let n = segs.length; n >= 0; n--) {
      let real: string;
      try {
        real = await realpath(this.abs(segs.slice(0, n).join('/')));
      } catch (e) {
        const c = errno(e);
        if (c === 'ENOENT' || c === 'ENOTDIR') continue;
        if (c === 'ELOOP') throw outside(rel);
        throw e;
      }
      if (!LocalArtifactRepository.inside(realRoot, real)) throw outside(rel);
      return { real: join(real, ...segs.slice(n)), exists: n === segs.length };
    }
    throw outside(rel);
  }

  async write(relPath: string, body: Readable | Buffer): Promise<void> {
    const rel = safeRelativePath(relPath);
    if (!rel) throw new AppError('INVALID_PARAMETER_VALUE', 'Invalid path: an artifact upload needs a file path.');
    try {
      await this.writeInside(rel, body);
    } catch (e) {
      const code = errno(e);
      if (code && ['EACCES', 'EPERM', 'ENOTDIR', 'EROFS', 'EEXIST', 'EISDIR', 'ENOSPC'].includes(code))
        throw new AppError(
          'CONFIG_INVALID',
          `cannot write the artifact '${relPath}' under the artifact location '${this.rootUri}' (${code}: ${(e as Error).message}); check that the location is a directory this user may write, or use another artifact location`,
          { cause: e },
        );
      throw e;
    }
  }

  private async writeInside(rel: string, body: Readable | Buffer): Promise<void> {
    await mkdir(this.root, { recursive: true });
    const realRoot = (await this.realRoot())!;
    const parentRel = rel.split('/').slice(0, -1).join('/');
    // Check before creating folders (mkdir follows links), then again on the real parent.
    await this.locate(parentRel, realRoot);
    try {
      await mkdir(this.abs(parentRel), { recursive: true });
    } catch (e) {
      if (errno(e) === 'EEXIST' || errno(e) === 'ENOTDIR')
        throw new AppError('INVALID_PARAMETER_VALUE', `Invalid path: '${rel}': a folder on the way is a file.`, {
          cause: e,
        });
      throw e;
    }
    const parent = await this.locate(parentRel, realRoot);
    const target = join(parent.real, basename(this.abs(rel)));
    const existing = await lstat(target).catch(() => undefined);
    if (existing?.isDirectory())
      throw new AppError(
        'INVALID_PARAMETER_VALUE',
        `Invalid path: '${rel}' is a folder; an upload cannot replace a folder.`,
      );
    const tmp = join(parent.real, `.${randomBytes(6).toString('hex')}.part`);
    try {
      await pipeline(Buffer.isBuffer(body) ? Readable.from([body]) : body, createWriteStream(tmp, { flags: 'wx' }));
      // rename replaces a link at `target` itself, never the file it points to.
      await rename(tmp, target);
    } catch (e) {
      await rm(tmp, { force: true }).catch(() => undefined);
      throw e;
    }
  }

  async read(relPath: string): Promise<Readable> {
    const rel = safeRelativePath(relPath);
    const realRoot = await this.realRoot();
    const loc = realRoot ? await this.locate(rel, realRoot) : undefined;
    const s = loc?.exists ? await stat(loc.real).catch(() => undefined) : undefined;
    if (!loc || !s || !s.isFile())
      throw new AppError('RESOURCE_DOES_NOT_EXIST', `Artifact '${relPath}' does not exist.`);
    return createReadStream(loc.real);
  }

  async list(relDir: string): Promise<FileInfo[]> {
    const rel = safeRelativePath(relDir);
    const realRoot = await this.realRoot();
    if (!realRoot) return [];
    const loc = await this.locate(rel, realRoot);
    if (!loc.exists) return [];
    const entries = await readdir(loc.real, { withFileTypes: true }).catch(() => undefined);
    if (!entries) return [];
    const out: FileInfo[] = [];
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      if (e.name.startsWith('.') && e.name.endsWith('.part')) continue;
      const path = joinArtifactPath(rel, e.name);
      let full = join(loc.real, e.name);
      if (e.isSymbolicLink()) {
        // A link is listed as what it points to, and only when that is inside the root.
        const real = await realpath(full).catch(() => undefined);
        if (!real || !LocalArtifactRepository.inside(realRoot, real)) continue;
        full = real;
      }
      const s = await stat(full).catch(() => undefined);
      if (!s) continue;
      if (s.isDirectory()) out.push({ path, isDir: true });
      else if (s.isFile()) out.push({ path, isDir: false, fileSize: s.size });
    }
    return out;
  }

  async delete(relPath: string): Promise<void> {
    const rel = deletablePath(relPath);
    const realRoot = await this.realRoot();
    if (!realRoot) return;
    const parentRel = rel.split('/').slice(0, -1).join('/');
    const parent = await this.locate(parentRel, realRoot);
    if (!parent.exists) return;
    // The last segment is removed as it is (a link is unlinked, not followed); rm never
    // follows links inside a removed folder either.
    const target = join(parent.real, basename(this.abs(rel)));
    if (target === realRoot || !LocalArtifactRepository.inside(realRoot, target)) throw outside(rel);
    await rm(target, { recursive: true, force: true });
  }
}
