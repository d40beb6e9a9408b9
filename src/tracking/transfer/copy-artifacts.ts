/** Artifact trees copied between any two repositories (local, S3, an MLflow server's proxy). */
import { AppError } from '../../core/errors.js';
import type { ArtifactRepository } from '../artifacts/artifact-repository.js';
import { listTree } from '../artifacts/resolve-artifact-repository.js';

/** Progress of a long transfer: which phase, how many items so far, the current one. */
export type TransferProgress = (p: {
  phase: 'runs' | 'logged-models' | 'registry';
  done: number;
  item: string;
}) => void;

/**
 * Copy every file of `src` to the same relative path in `dst`, streaming (no file held in
 * memory); each write is atomic in the destination repository. Returns the file count.
 */
export async function copyArtifactTree(
  src: ArtifactRepository,
  dst: ArtifactRepository,
  signal?: AbortSignal,
): Promise<number> {
  const files = await listTree(src, '');
  for (const f of files) {
    if (signal?.aborted) throw new AppError('INTERRUPTED', 'artifact copy interrupted');
    await dst.write(f, await src.read(f));
  }
  return files.length;
}
