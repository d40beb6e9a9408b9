/**
 * Artifacts in a local directory (plain path or file:// URI). Writes go to a temp file in
 * the target directory and are renamed into place, so a reader never sees half a file.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { AppError } from '../../core/errors.js';
import type { FileInfo } from '../entities.js';
import { joinArtifactPath, safeRelativePath, type ArtifactRepository } from './artifact-repository.js';

/** The local directory of a file:// URI or a plain path. */
export function localDirOf(uri: string): string {
  if (uri.startsWith('file:')) return fileURLToPath(uri.startsWith('file:///') ? uri : uri.replace(/^file:(\/\/)?/, 'file:///'));
  return resolve(uri);
}

export class LocalArtifactRepository implements ArtifactRepository {
  readonly root: string;
  constructor(readonly rootUri: string) {
    this.root = localDirOf(rootUri);
  }

  private abs(relPath: string): string {
    const rel = safeRelativePath(relPath);
    return rel ? join(this.root, ...rel.split('/')) : this.root;
  }

  async write(relPath: string, body: Readable | Buffer): Promise<void> {
    const target = this.abs(relPath);
    const tmp = join(dirname(target), `.${randomBytes(6).toString('hex')}.part`);
    try {
      await mkdir(dirname(target), { recursive: true });
      await pipeline(Buffer.isBuffer(body) ? Readable.from([body]) : body, createWriteStream(tmp));
      await rename(tmp, target);
    } catch (e) {
      await rm(tmp, { force: true }).catch(() => undefined);
      const code = (e as NodeJS.ErrnoException).code;
      if (code && ['EACCES', 'EPERM', 'ENOTDIR', 'EROFS', 'EEXIST', 'EISDIR', 'ENOSPC'].includes(code))
        throw new AppError('FILE_UNWRITABLE', `cannot write the artifact '${relPath}' under the artifact location '${this.rootUri}' (${code}: ${(e as Error).message}); check that the location is a directory this user may write, or use another artifact location`, { cause: e });
      throw e;
    }
  }

  async read(relPath: string): Promise<Readable> {
    const p = this.abs(relPath);
    const s = await stat(p).catch(() => undefined);
    if (!s || !s.isFile()) throw new AppError('RESOURCE_DOES_NOT_EXIST', `Artifact '${relPath}' does not exist.`);
    return createReadStream(p);
  }

  async list(relDir: string): Promise<FileInfo[]> {
    const rel = safeRelativePath(relDir);
    const dir = this.abs(rel);
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => undefined);
    if (!entries) return [];
    const out: FileInfo[] = [];
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      if (e.name.startsWith('.') && e.name.endsWith('.part')) continue;
      const path = joinArtifactPath(rel, e.name);
      if (e.isDirectory()) out.push({ path, isDir: true });
      else out.push({ path, isDir: false, fileSize: (await stat(join(dir, e.name))).size });
    }
    return out;
  }

  async delete(relPath: string): Promise<void> {
    await rm(this.abs(relPath), { recursive: true, force: true });
  }
}
