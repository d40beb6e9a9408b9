/**
 * Reading JSON request bodies with bounds, so hostile input is a 400 and never a 500 or
 * a stalled server: a size limit while streaming, a nesting-depth limit checked by one
 * linear scan before JSON.parse (10,000 nested '[' would otherwise overflow the stack of
 * whatever walks the value), and MLflow's decoding rules (empty body = {}, a JSON string
 * holding JSON is decoded twice, the result must be an object).
 */
import type { Readable } from 'node:stream';
import { AppError } from '../../core/errors.js';
import { jsonNestingExceeds } from '../../core/json-depth.js';

/** Deepest nesting of arrays/objects accepted in a request body (MLflow's own bodies use < 10). */
export const MAX_JSON_DEPTH = 64;

/** Read a body up to `limit` bytes. */
export async function readBody(stream: Readable | undefined, limit: number): Promise<Buffer> {
  if (!stream) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of stream) {
    const b = Buffer.isBuffer(c) ? c : Buffer.from(c as Uint8Array);
    size += b.length;
    if (size > limit)
      throw new AppError('INVALID_PARAMETER_VALUE', `Request body exceeds the limit of ${limit} bytes.`);
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

/** Parse JSON text with the depth bound; `what` names it in messages. */
export function parseBoundedJson(text: string, what = 'request body'): unknown {
  if (jsonNestingExceeds(text, MAX_JSON_DEPTH))
    throw new AppError(
      'INVALID_PARAMETER_VALUE',
      `Malformed ${what}: JSON nested deeper than ${MAX_JSON_DEPTH} levels.`,
    );
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new AppError('INVALID_PARAMETER_VALUE', `Malformed JSON in ${what}: ${(e as Error).message}.`);
  }
}

/** Decode a JSON request body as MLflow does: empty -> {}, a JSON string holding JSON is decoded twice. */
export function decodeJsonBody(raw: Buffer): Record<string, unknown> {
  const text = raw.toString('utf8');
  if (text.trim() === '') return {};
  let v = parseBoundedJson(text);
  if (typeof v === 'string') v = parseBoundedJson(v);
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    throw new AppError('INVALID_PARAMETER_VALUE', 'Request body must be a JSON object.');
  return v as Record<string, unknown>;
}

/** Whether a Content-Type header names JSON (parameters such as `; charset=utf-8` allowed). */
export function isJsonContentType(ct: string | undefined): boolean {
  return (ct ?? '').split(';')[0].trim().toLowerCase() === 'application/json';
}

/** MLflow's check for POST and PUT bodies of JSON endpoints. */
export function requireJsonContentType(method: string, ct: string | undefined, hasBody: boolean): void {
  if ((method === 'POST' || method === 'PUT') && hasBody && !isJsonContentType(ct))
    throw new AppError('INVALID_PARAMETER_VALUE', 'Bad Request. Content-Type must be one of [application/json].');
}
