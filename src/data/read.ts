/**
 * One reader interface for every source of listings: a local path, an http(s) URL or an
 * s3://bucket/key URL, holding .xlsx or .csv. The format comes from the extension
 * (or `format`). Errors say which source failed and what to do.
 *
 * A workbook is always read as a stream (xlsx-stream.ts: one sheet's rows a chunk at a
 * time); a downloaded one is first written to a temporary file as it arrives, since an
 * .xlsx is read through the index at its end (`readXlsxSource`).
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { once } from 'node:events';
import { tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { AppError } from '../core/errors.js';
import type { Env } from '../config/env.js';
import { parseCsv } from './csv.js';
import type { RawTable } from './table.js';
import type { XlsxChunk } from './xlsx-stream.js';

export interface ReadTableOptions {
  /** Sheet name for xlsx sources (default: the first sheet). */
  sheet?: string;
  /** Force the format instead of guessing from the extension. */
  format?: 'csv' | 'xlsx';
  env?: Env;
  signal?: AbortSignal;
  /** Timeout for http(s) downloads in ms (default 60 s). */
  timeoutMs?: number;
  /** Largest file read whole, in bytes (default: wholeFileLimit(env)). */
  maxBytes?: number;
}

/**
 * How many bytes of a listings file carprice reads whole into memory: CARPRICE_MAX_INPUT_MB,
 * else 1/256 of the machine's RAM (at least 64 MB). It applies to `readTable`, which holds
 * every row (an .xlsx counts 10x its size: its rows as cells take about that), so a bigger
 * file ends in a message rather than an out-of-memory kill. The chunked readers (training,
 * batch prediction, evaluation) have no limit.
 */
export function wholeFileLimit(env: Env | undefined): number {
  const raw = env?.CARPRICE_MAX_INPUT_MB;
  if (raw !== undefined) {
    const mb = Number(raw);
    if (!Number.isFinite(mb) || mb <= 0) throw new AppError('CONFIG_INVALID', `CARPRICE_MAX_INPUT_MB must be a number of megabytes > 0, got "${raw}"`);
    return Math.floor(mb * 1e6);
  }
  return Math.max(64e6, Math.floor(totalmem() / 256));
}

function tooBig(source: string, bytes: number, weight: number, limit: number): AppError {
  const mb = (n: number) => `${(n / 1e6).toFixed(n < 10e6 ? 1 : 0)} MB`;
  return new AppError(
    'DATA_INVALID',
    `${source} is ${mb(bytes)}${weight > 1 ? ` (an .xlsx counts ${weight}x)` : ''}, more than the ${mb(limit)} carprice reads whole into memory on this machine; ` +
      'use a sample of it, a local CSV file instead (streamed, no limit), or raise CARPRICE_MAX_INPUT_MB if the machine has the memory',
    { details: { bytes, limit } },
  );
}

/** Whether a source names a workbook (.xlsx; a URL's query string and fragment aside). */
export function isXlsxName(source: string): boolean {
  return source.split(/[?#]/)[0].toLowerCase().endsWith('.xlsx');
}

function formatOf(source: string, forced?: 'csv' | 'xlsx'): 'csv' | 'xlsx' {
  if (forced) return forced;
  const path = source.split(/[?#]/)[0].toLowerCase();
  if (path.endsWith('.xlsx')) return 'xlsx';
  if (path.endsWith('.csv')) return 'csv';
  throw new AppError('USAGE', `cannot tell the format of ${source}: name it .csv or .xlsx (or pass the format explicitly)`);
}

async function readBytes(source: string, opts: ReadTableOptions, weight: number): Promise<Uint8Array> {
  const limit = opts.maxBytes ?? wholeFileLimit(opts.env);
  if (/^https?:\/\//i.test(source)) {
    const signal = AbortSignal.any([AbortSignal.timeout(opts.timeoutMs ?? 60_000), ...(opts.signal ? [opts.signal] : [])]);
    let res: Response;
    try {
      res = await fetch(source, { signal });
    } catch (e) {
      throw new AppError('NETWORK', `could not download ${source}: ${(e as Error).message}; check the URL and your network`, { cause: e });
    }
    if (!res.ok) throw new AppError('NETWORK', `downloading ${source} failed with HTTP ${res.status}; check the URL and access rights`);
    const declared = Number(res.headers.get('content-length') ?? NaN);
    if (Number.isFinite(declared) && declared * weight > limit) {
      await res.body?.cancel();
      throw tooBig(source, declared, weight, limit);
    }
    let buf: Uint8Array;
    try {
      buf = new Uint8Array(await res.arrayBuffer());
    } catch (e) {
      // the body stopped coming (a dropped connection, the timeout) or Ctrl-C
      throw bodyFailure(source, e, opts, `no complete answer within ${(opts.timeoutMs ?? 60_000) / 1000} s`);
    }
    if (buf.byteLength * weight > limit) throw tooBig(source, buf.byteLength, weight, limit);
    return buf;
  }
  if (/^s3:\/\//i.test(source)) {
    const m = /^s3:\/\/([^/]+)\/(.+)$/i.exec(source);
    if (!m) throw new AppError('USAGE', `${source} is not a valid S3 URL; use s3://bucket/path/to/file.xlsx`);
    const { readS3Object } = await import('./s3-source.js');
    const buf = await readS3Object(m[1], m[2], opts.env ?? {}, opts.signal);
    if (buf.byteLength * weight > limit) throw tooBig(source, buf.byteLength, weight, limit);
    return buf;
  }
  try {
    const st = await stat(source);
    if (st.isDirectory()) throw new AppError('USAGE', `${source} is a directory; give the path of a .csv or .xlsx file`);
    if (st.size * weight > limit) throw tooBig(source, st.size, weight, limit);
    return await readFile(source);
  } catch (e) {
    if (e instanceof AppError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw new AppError('FILE_NOT_FOUND', `data file ${source} does not exist; check the path (for the project dataset run \`carprice pull\` first)`, { cause: e });
    throw new AppError('FILE_UNREADABLE', `cannot read ${source}: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * The error for a download whose body failed part way: the interruption itself when the
 * caller's signal fired (Ctrl-C stays exit 130), else NETWORK naming the source and why
 * (`timedOut` replaces the runtime's wording of a timeout).
 */
function bodyFailure(source: string, e: unknown, opts: ReadTableOptions, timedOut?: string): AppError {
  if (opts.signal?.aborted) {
    const reason: unknown = opts.signal.reason;
    if (reason instanceof AppError) return reason;
    return new AppError('INTERRUPTED', `downloading ${source} was interrupted`, { cause: e });
  }
  const why = timedOut && (e as Error)?.name === 'TimeoutError' ? timedOut : (e as Error)?.message ?? String(e);
  return new AppError('NETWORK', `downloading ${source} failed part way: ${why}; check the network and try again`, { cause: e });
}

/** A remote file read as it is consumed: its byte chunks, its length (NaN if unknown), and close. */
export interface ByteStream {
  chunks: AsyncIterable<Uint8Array>;
  size: number;
  close(): Promise<void>;
}

/** Whether `source` is an http(s):// or s3:// URL. */
export function isRemote(source: string): boolean {
  return /^(https?|s3):\/\//i.test(source);
}

/**
 * Open an http(s):// or s3:// source as a stream (batch prediction and evaluation read a
 * remote CSV this way, with no whole-file limit). The timeout (default 60 s) covers the
 * response's arrival, not the whole body; `signal` aborts either. Errors as readTable's:
 * NETWORK for a failed or refused download, FILE_NOT_FOUND for a missing S3 key, REMOTE
 * for other S3 failures, USAGE for a malformed S3 URL.
 */
export async function openRemoteStream(source: string, opts: ReadTableOptions = {}): Promise<ByteStream> {
  if (/^s3:\/\//i.test(source)) {
    const m = /^s3:\/\/([^/]+)\/(.+)$/i.exec(source);
    if (!m) throw new AppError('USAGE', `${source} is not a valid S3 URL; use s3://bucket/path/to/file.csv`);
    const { openS3Object } = await import('./s3-source.js');
    return openS3Object(m[1], m[2], opts.env ?? {}, opts.signal);
  }
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(new Error(`no response within ${(opts.timeoutMs ?? 60_000) / 1000} s`)), opts.timeoutMs ?? 60_000);
  const signal = AbortSignal.any([timeout.signal, ...(opts.signal ? [opts.signal] : [])]);
  let res: Response;
  try {
    res = await fetch(source, { signal });
  } catch (e) {
    throw new AppError('NETWORK', `could not download ${source}: ${(e as Error).message}; check the URL and your network`, { cause: e });
  } finally {
    clearTimeout(timer);
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw new AppError('NETWORK', `downloading ${source} failed with HTTP ${res.status}; check the URL and access rights`);
  }
  const body = res.body;
  const reader = body?.getReader();
  const idleMs = opts.timeoutMs ?? 60_000;
  async function* chunks(): AsyncGenerator<Uint8Array> {
    if (!reader) return;
    for (;;) {
      let r: Awaited<ReturnType<typeof reader.read>>;
      // a server that sends part of the body and then nothing would hold the read forever:
      // no byte for `idleMs` (the same timeout as the response's arrival) ends the download
      let idle: NodeJS.Timeout | undefined;
      try {
        r = await Promise.race([
          reader.read(),
          new Promise<never>((_, rej) => {
            idle = setTimeout(() => rej(new Error(`no data for ${idleMs / 1000} s`)), idleMs);
          }),
        ]);
      } catch (e) {
        await reader.cancel().catch(() => undefined);
        throw bodyFailure(source, e, opts);
      } finally {
        clearTimeout(idle);
      }
      if (r.done) return;
      yield r.value;
    }
  }
  const declared = Number(res.headers.get('content-length') ?? NaN);
  return {
    chunks: chunks(),
    size: declared,
    close: async () => {
      await reader?.cancel().catch(() => undefined);
    },
  };
}

/**
 * A remote file (http(s):// or s3://) downloaded to a temporary file as it arrives, in
 * constant memory; `cleanup` removes it (also done here when the download fails). A file
 * larger than `maxBytes` stops the download with readTable's too-big message.
 */
export async function downloadToTemp(
  source: string,
  opts: ReadTableOptions & { weight?: number } = {},
): Promise<{ path: string; size: number; cleanup(): Promise<void> }> {
  const stream = await openRemoteStream(source, opts);
  const dir = await mkdtemp(join(tmpdir(), 'carprice-download-'));
  const cleanup = () => rm(dir, { recursive: true, force: true });
  const path = join(dir, (source.split(/[?#]/)[0].split('/').pop() || 'download').replace(/[^\w.-]/g, '_'));
  const limit = opts.maxBytes;
  const weight = opts.weight ?? 1;
  let size = 0;
  const out = createWriteStream(path);
  try {
    if (limit !== undefined && stream.size * weight > limit) throw tooBig(source, stream.size, weight, limit);
    for await (const chunk of stream.chunks) {
      if (opts.signal?.aborted) throw new AppError('INTERRUPTED', `downloading ${source} was interrupted`);
      size += chunk.byteLength;
      if (limit !== undefined && size * weight > limit) throw tooBig(source, size, weight, limit);
      if (!out.write(chunk)) await Promise.race([once(out, 'drain'), once(out, 'error').then(([e]) => Promise.reject(e as Error))]);
    }
    out.end();
    await once(out, 'finish');
  } catch (e) {
    out.destroy();
    await stream.close();
    await cleanup();
    if (e instanceof AppError) throw e;
    throw new AppError('FILE_UNREADABLE', `could not save the download of ${source} in ${tmpdir()}: ${(e as Error).message}; free some disk space or set TMPDIR`, {
      cause: e,
    });
  }
  await stream.close();
  return { path, size, cleanup };
}

export interface XlsxSourceOptions extends ReadTableOptions {
  /** Rows per chunk (default 2,000). */
  chunkRows?: number;
}

/**
 * The rows of a worksheet of an .xlsx source a chunk at a time, memory bounded by the chunk
 * (and the workbook's distinct strings) whatever the number of rows: a local path is read
 * as it is (xlsx-stream.ts), a URL downloaded to a temporary file first, removed once read.
 * Errors are readXlsxChunks's, and the download's (NETWORK, FILE_NOT_FOUND, REMOTE).
 */
export async function* readXlsxSource(source: string, opts: XlsxSourceOptions = {}): AsyncGenerator<XlsxChunk> {
  // exceljs takes ~0.5 s to import: load it only when a workbook is read
  const { readXlsxChunks } = await import('./xlsx-stream.js');
  const o = { sheet: opts.sheet, chunkRows: opts.chunkRows, signal: opts.signal, source };
  if (!isRemote(source)) {
    yield* readXlsxChunks(source, o);
    return;
  }
  const file = await downloadToTemp(source, opts);
  try {
    yield* readXlsxChunks(file.path, o);
  } finally {
    await file.cleanup();
  }
}

/** Read a table of listings from a path or URL (every row in memory, up to the whole-file limit). */
export async function readTable(source: string, opts: ReadTableOptions = {}): Promise<RawTable> {
  const format = formatOf(source, opts.format);
  if (format === 'xlsx') return readXlsxTable(source, opts);
  const bytes = await readBytes(source, opts, 1);
  if (bytes.byteLength === 0) throw new AppError('DATA_EMPTY', `${source} is empty (0 bytes); expected listings`);
  return parseCsv(Buffer.from(bytes).toString('utf8'), source);
}

/** A worksheet read whole: its chunks joined, after the whole-file limit (an .xlsx counts 10x). */
async function readXlsxTable(source: string, opts: ReadTableOptions): Promise<RawTable> {
  const limit = opts.maxBytes ?? wholeFileLimit(opts.env);
  const weight = 10;
  const t: RawTable = { source, columns: [], rows: [], rowNumbers: [] };
  const read = async function* (): AsyncGenerator<XlsxChunk> {
    if (!isRemote(source)) {
      const size = await stat(source).then(
        (st) => st.size,
        () => 0, // the reader reports a missing file
      );
      if (size * weight > limit) throw tooBig(source, size, weight, limit);
      yield* readXlsxSource(source, { ...opts, chunkRows: 10_000 });
      return;
    }
    const file = await downloadToTemp(source, { ...opts, maxBytes: limit, weight });
    try {
      const { readXlsxChunks } = await import('./xlsx-stream.js');
      yield* readXlsxChunks(file.path, { sheet: opts.sheet, chunkRows: 10_000, signal: opts.signal, source });
    } finally {
      await file.cleanup();
    }
  };
  for await (const c of read()) {
    t.columns = c.columns;
    t.sheet = c.sheet;
    t.sheets = c.sheets;
    for (let i = 0; i < c.rows.length; i++) {
      t.rows.push(c.rows[i]);
      t.rowNumbers.push(c.rowNumbers[i]);
    }
  }
  return t;
}
