/**
 * One reader interface for every source of listings: a local path, an http(s) URL or an
 * s3://bucket/key URL, holding .xlsx or .csv. The format comes from the extension
 * (or `format`). Errors say which source failed and what to do.
 */
import { readFile, stat } from 'node:fs/promises';
import { AppError } from '../core/errors.js';
import type { Env } from '../config/env.js';
import { parseCsv } from './csv.js';
import type { RawTable } from './table.js';

export interface ReadTableOptions {
  /** Sheet name for xlsx sources (default: the first sheet). */
  sheet?: string;
  /** Force the format instead of guessing from the extension. */
  format?: 'csv' | 'xlsx';
  env?: Env;
  signal?: AbortSignal;
  /** Timeout for http(s) downloads in ms (default 60 s). */
  timeoutMs?: number;
}

function formatOf(source: string, forced?: 'csv' | 'xlsx'): 'csv' | 'xlsx' {
  if (forced) return forced;
  const path = source.split(/[?#]/)[0].toLowerCase();
  if (path.endsWith('.xlsx')) return 'xlsx';
  if (path.endsWith('.csv')) return 'csv';
  throw new AppError('USAGE', `cannot tell the format of ${source}: name it .csv or .xlsx (or pass the format explicitly)`);
}

async function readBytes(source: string, opts: ReadTableOptions): Promise<Uint8Array> {
  if (/^https?:\/\//i.test(source)) {
    const signal = AbortSignal.any([AbortSignal.timeout(opts.timeoutMs ?? 60_000), ...(opts.signal ? [opts.signal] : [])]);
    let res: Response;
    try {
      res = await fetch(source, { signal });
    } catch (e) {
      throw new AppError('NETWORK', `could not download ${source}: ${(e as Error).message}; check the URL and your network`, { cause: e });
    }
    if (!res.ok) throw new AppError('NETWORK', `downloading ${source} failed with HTTP ${res.status}; check the URL and access rights`);
    return new Uint8Array(await res.arrayBuffer());
  }
  if (/^s3:\/\//i.test(source)) {
    const m = /^s3:\/\/([^/]+)\/(.+)$/i.exec(source);
    if (!m) throw new AppError('USAGE', `${source} is not a valid S3 URL; use s3://bucket/path/to/file.xlsx`);
    const { readS3Object } = await import('./s3-source.js');
    return readS3Object(m[1], m[2], opts.env ?? {}, opts.signal);
  }
  try {
    const st = await stat(source);
    if (st.isDirectory()) throw new AppError('USAGE', `${source} is a directory; give the path of a .csv or .xlsx file`);
    return await readFile(source);
  } catch (e) {
    if (e instanceof AppError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw new AppError('FILE_NOT_FOUND', `data file ${source} does not exist; check the path (for the project dataset run \`carprice pull\` first)`, { cause: e });
    throw new AppError('FILE_UNREADABLE', `cannot read ${source}: ${(e as Error).message}`, { cause: e });
  }
}

/** Read a table of listings from a path or URL. */
export async function readTable(source: string, opts: ReadTableOptions = {}): Promise<RawTable> {
  const format = formatOf(source, opts.format);
  const bytes = await readBytes(source, opts);
  if (bytes.byteLength === 0) throw new AppError('DATA_EMPTY', `${source} is empty (0 bytes); expected listings`);
  if (format === 'csv') return parseCsv(Buffer.from(bytes).toString('utf8'), source);
  // exceljs takes ~0.5 s to import: load it only when a workbook is read
  const { parseXlsx } = await import('./xlsx.js');
  return parseXlsx(bytes, source, opts.sheet);
}
