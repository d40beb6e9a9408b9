/**
 * How the SQL tracking stores are written once for two drivers, one synchronous
 * (better-sqlite3) and one asynchronous (pg). The store logic is generator functions that
 * yield each statement they need as a `Query` and receive its answer: `yield* get(sql, a)`
 * reads like a call. A backend drives such a body: SQLite with `runSync`, inside one
 * immediate transaction, PostgreSQL with `runAsync`, awaiting each answer on the
 * transaction's pooled client (Babel's gensync does the same for sync and async
 * file-system code). The logic never sees a driver, and each backend keeps its own
 * transaction semantics.
 *
 * Statements use SQLite's spelling: `?` placeholders, INSERT OR IGNORE / OR REPLACE; the
 * PostgreSQL backend rewrites them (postgres/pg-db.ts). What cannot be written once is
 * a `SqlDialect` method (engine.ts).
 */

import type { Page } from '../entities.js';
import { createPageToken, parsePageToken } from '../page-token.js';

/** What a statement answers: the first row, all rows (objects or arrays), or the change count. */
export type QueryKind = 'get' | 'all' | 'rows' | 'run';

/** One statement for the driver to run. */
export interface Query {
  readonly kind: QueryKind;
  readonly sql: string;
  readonly params: readonly unknown[];
  /**
   * The text was built for one request (a search's filter and order): the driver caches
   * its prepared form in a bounded LRU instead of for the handle's lifetime.
   */
  readonly built: boolean;
}

/** A body of store logic that yields statements and returns a T. */
export type Steps<T> = Generator<Query, T, unknown>;

/** The first row as an object, or undefined. */
export function* get<T>(sql: string, ...params: unknown[]): Steps<T | undefined> {
  return (yield { kind: 'get', sql, params, built: false }) as T | undefined;
}

/** Every row as an object. */
export function* all<T>(sql: string, ...params: unknown[]): Steps<T[]> {
  return (yield { kind: 'all', sql, params, built: false }) as T[];
}

/** Every row as an object, for SQL built from a search request. */
export function* searchAll<T>(sql: string, params: readonly unknown[]): Steps<T[]> {
  return (yield { kind: 'all', sql, params, built: true }) as T[];
}

/**
 * One page of a search: `sql` (ending in `LIMIT ? OFFSET ?`) with `params`, then one row
 * more than `max` and the offset of `pageToken`; the first `max` rows mapped by `map`, and
 * the next page's token when there are more.
 */
export function* searchPage<R, T>(
  sql: string,
  params: readonly unknown[],
  page: { max: number; pageToken: string | undefined },
  map: (row: R) => Steps<T>,
): Steps<Page<T>> {
  const offset = parsePageToken(page.pageToken);
  const found = yield* searchAll<R>(sql, [...params, page.max + 1, offset]);
  const items = yield* mapSteps(found.slice(0, page.max), map);
  return found.length > page.max ? { items, nextPageToken: createPageToken(offset + page.max) } : { items };
}

/** Every row as an array of its columns in selected order (`built`: SQL made per request). */
export function* rows(sql: string, params: readonly unknown[], built: boolean): Steps<unknown[][]> {
  return (yield { kind: 'rows', sql, params, built }) as unknown[][];
}

/** A statement that changes rows; answers how many. */
export function* run(sql: string, ...params: unknown[]): Steps<{ changes: number }> {
  return (yield { kind: 'run', sql, params, built: false }) as { changes: number };
}

/** `run` with the parameters as one list (a long multi-row INSERT's, without spreading them). */
export function* runWith(sql: string, params: readonly unknown[]): Steps<{ changes: number }> {
  return (yield { kind: 'run', sql, params, built: false }) as { changes: number };
}

/** `fn` over `xs` in order, one body after the other. */
export function* mapSteps<T, U>(xs: readonly T[], fn: (x: T) => Steps<U>): Steps<U[]> {
  const out = new Array<U>(xs.length);
  for (let i = 0; i < xs.length; i++) out[i] = yield* fn(xs[i]);
  return out;
}

/**
 * Drive `steps` with a synchronous driver: each yielded query is run at once and its
 * answer sent back; a driver error is thrown into the body (so its `finally` blocks run).
 */
export function runSync<T>(steps: Steps<T>, exec: (q: Query) => unknown): T {
  let r = steps.next();
  while (!r.done) {
    let answer: unknown;
    try {
      answer = exec(r.value);
    } catch (e) {
      r = steps.throw(e);
      continue;
    }
    r = steps.next(answer);
  }
  return r.value;
}

/** Drive `steps` with an asynchronous driver, one statement at a time. */
export async function runAsync<T>(steps: Steps<T>, exec: (q: Query) => Promise<unknown>): Promise<T> {
  let r = steps.next();
  while (!r.done) {
    let answer: unknown;
    try {
      answer = await exec(r.value);
    } catch (e) {
      r = steps.throw(e);
      continue;
    }
    r = steps.next(answer);
  }
  return r.value;
}
