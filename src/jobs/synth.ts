/**
 * The synth use case: write N synthetic listings (CSV) derived from a real listings file,
 * streamed in chunks to a temp file and renamed into place when complete.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { once } from 'node:events';
import { AppError } from '../core/errors.js';
import type { Env } from '../config/env.js';
import type { Params } from '../config/params.js';
import { formatCsv } from '../data/csv.js';
import { synthColumns, synthRows } from '../data/synth.js';
import type { Cell } from '../data/table.js';
import { loadListings } from './load-listings.js';

export interface SynthJobOptions {
  params: Params;
  rows: number;
  out: string;
  source?: string;
  seed?: number;
  env?: Env;
  signal?: AbortSignal;
}

export async function synth(o: SynthJobOptions): Promise<{ rows: number; out: string }> {
  if (!Number.isInteger(o.rows) || o.rows < 1)
    throw new AppError('USAGE', `--rows must be a positive integer, got ${o.rows}`);
  const v = await loadListings(o.source ?? o.params.data_source.raw_data, {
    params: o.params,
    env: o.env,
    signal: o.signal,
  });
  const cols = synthColumns(v.frame, v.schema.target);
  const tmp = join(dirname(o.out), `.${basename(o.out)}.${process.pid}.tmp`);
  let stream: WriteStream | undefined;
  let streamError: Error | undefined;
  try {
    await mkdir(dirname(o.out) || '.', { recursive: true });
    if ((await stat(o.out).catch(() => undefined))?.isDirectory())
      throw new AppError('USAGE', `--out ${o.out} is a directory; give the path of the CSV file to write`);
    const out = createWriteStream(tmp);
    stream = out;
    out.on('error', (e) => (streamError ??= e));
    out.write(formatCsv(cols, []));
    let chunk: Cell[][] = [];
    const flush = async () => {
      if (streamError) throw streamError;
      if (!chunk.length) return;
      const text = formatCsv(cols, chunk);
      chunk = [];
      if (!out.write(text.slice(text.indexOf('\n') + 1))) await once(out, 'drain');
    };
    for (const row of synthRows(v.frame, v.y!, {
      rows: o.rows,
      seed: o.seed ?? o.params.base.random_state,
      target: v.schema.target,
    })) {
      chunk.push(row);
      if (chunk.length === 10_000) {
        if (o.signal?.aborted) throw new AppError('INTERRUPTED', 'synth interrupted; nothing was written');
        await flush();
      }
    }
    await flush();
    out.end();
    await finished(out);
    await rename(tmp, o.out);
  } catch (e) {
    stream?.destroy();
    await rm(tmp, { force: true }).catch(() => undefined); // e.g. the folder is a file: nothing to clean
    if (e instanceof AppError) throw e;
    throw new AppError(
      'FILE_UNREADABLE',
      `could not write ${o.out}: ${(e as Error).message}; check that its folder is writable`,
      { cause: e },
    );
  }
  return { rows: o.rows, out: o.out };
}
