/** Artifact trees copied between any two repositories (local, S3, an MLflow server's proxy). */
import { AppError, isAppError } from '../../core/errors.js';
import type { ArtifactRepository } from '../artifacts/artifact-repository.js';
import { safeArtifactPath } from './safe-names.js';

/** Progress of a long transfer: which phase, how many items so far, the current one. */
export type TransferProgress = (p: {
  phase: 'runs' | 'logged-models' | 'registry';
  done: number;
  item: string;
}) => void;

/** Whose tree is copied and from where, for the errors a bad listing raises. */
export interface CopyContext {
  /** e.g. "run 3f2a…". */
  owner: string;
  /** The transfer source's description (no credentials). */
  source: string;
  signal?: AbortSignal;
}

/** Deeper than this a listing is taken for a loop (a server listing a folder inside itself forever). */
const MAX_DEPTH = 64;

/**
 * Every file below `relDir` of `src`, each path checked (safeArtifactPath) and required to
 * lie directly inside the folder that listed it, before anything is read or written.
 */
async function listChecked(
  src: ArtifactRepository,
  relDir: string,
  depth: number,
  ctx: CopyContext,
): Promise<string[]> {
  if (depth > MAX_DEPTH)
    throw new AppError(
      'DATA_INVALID',
      `${ctx.source} lists artifact folders more than ${MAX_DEPTH} deep for ${ctx.owner} (at ${JSON.stringify(relDir.slice(0, 200))}); a listing that never ends is not copied`,
    );
  let listing;
  try {
    listing = await src.list(relDir);
  } catch (e) {
    // A repository refusing what the source listed (e.g. a '..' name from a server).
    if (!isAppError(e, 'INVALID_PARAMETER_VALUE')) throw e;
    throw new AppError('DATA_INVALID', `${ctx.source} lists a bad artifact path for ${ctx.owner}: ${e.message}`, {
      cause: e,
      details: { owner: ctx.owner, source: ctx.source },
    });
  }
  const out: string[] = [];
  for (const f of listing) {
    const path = safeArtifactPath(f.path, ctx.owner, ctx.source);
    const parent = path.slice(0, Math.max(0, path.lastIndexOf('/')));
    if (parent !== relDir)
      throw new AppError(
        'DATA_INVALID',
        `${ctx.source} lists ${JSON.stringify(path.slice(0, 200))} as an entry of the artifact folder ${JSON.stringify(relDir.slice(0, 200))} of ${ctx.owner}, where it does not belong; nothing was copied`,
        { details: { path, owner: ctx.owner, source: ctx.source } },
      );
    if (f.isDir) out.push(...(await listChecked(src, path, depth + 1, ctx)));
    else out.push(path);
  }
  return out;
}

/** Every file of `src`'s tree, the whole listing checked (see listChecked) before it is returned. */
export function listArtifactTree(src: ArtifactRepository, ctx: CopyContext): Promise<string[]> {
  return listChecked(src, '', 0, ctx);
}

/**
 * Copy every file of `src` (or just `files`, from listArtifactTree) to the same relative
 * path in `dst`, streaming (no file held in memory); each write is atomic in the
 * destination repository. The whole listing is checked before the first file is copied.
 * Returns the file count.
 */
export async function copyArtifactTree(
  src: ArtifactRepository,
  dst: ArtifactRepository,
  ctx: CopyContext,
  files?: string[],
): Promise<number> {
  const list = files ?? (await listArtifactTree(src, ctx));
  for (const f of list) {
    if (ctx.signal?.aborted) throw new AppError('INTERRUPTED', 'artifact copy interrupted');
    await dst.write(f, await src.read(f));
  }
  return list.length;
}
