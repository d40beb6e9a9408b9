/**
 * The interface every cache remote implements (LocalRemote in remote.ts, S3Remote in
 * s3-remote.ts). Its own file so that remote.ts, which loads s3-remote.ts on demand, and
 * s3-remote.ts, which implements it, do not import each other.
 */
/** A place objects are pushed to and pulled from. Paths are object rel paths (files/md5/..). */
export interface Remote {
  readonly name: string;
  readonly url: string;
  /** The subset of `rels` present on the remote. */
  exists(rels: string[]): Promise<Set<string>>;
  /** Upload a local file to `rel`. */
  put(rel: string, localAbs: string, size: number): Promise<void>;
  /** Download `rel` to `destAbs` atomically; false when the object is not on the remote. */
  get(rel: string, destAbs: string): Promise<boolean>;
  /** Every file under the folder `prefix` (rel paths, e.g. `runs/ab/abcd.../ef01...`). */
  list(prefix: string): Promise<string[]>;
}
