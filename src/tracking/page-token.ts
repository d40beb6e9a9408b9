/**
 * Search page tokens: base64 of `{"offset": N}`, as MLflow's search_utils does, so a token
 * from carprice looks like one from the reference server. Foreign or damaged tokens are
 * rejected with 400 INVALID_PARAMETER_VALUE.
 */
import { AppError } from '../core/errors.js';

/** The offset encoded in `token` (0 when absent). */
export function parsePageToken(token: string | undefined): number {
  if (token === undefined || token === '') return 0;
  let parsed: unknown;
  try {
    const text = Buffer.from(token, 'base64').toString('utf8');
    parsed = JSON.parse(text);
  } catch (e) {
    throw new AppError(
      'INVALID_PARAMETER_VALUE',
      `Invalid page token, could not base64-decode and parse JSON: '${token}'.`,
      { cause: e },
    );
  }
  const offset = (parsed as { offset?: unknown } | null)?.offset;
  if (typeof offset !== 'number' || !Number.isInteger(offset) || offset <= 0)
    throw new AppError(
      'INVALID_PARAMETER_VALUE',
      `Invalid page token '${token}': it must hold a positive integer offset.`,
    );
  return offset;
}

/** A token for the page starting at `offset`. */
export function createPageToken(offset: number): string {
  return Buffer.from(JSON.stringify({ offset })).toString('base64');
}
