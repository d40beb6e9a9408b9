/** Streaming md5 of files and buffers (DVC's content hash, data fingerprints). */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/** md5 hex digest of a buffer or string. */
export function md5Hex(data: string | Uint8Array): string {
  return createHash('md5').update(data).digest('hex');
}

/** md5 hex digest of a file, read as a stream (constant memory for large files). */
export async function md5File(path: string): Promise<string> {
  const h = createHash('md5');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
  return h.digest('hex');
}
