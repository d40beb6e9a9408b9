/**
 * Every item of a paged search (runs, experiments, models, versions, metric history):
 * asks for the first page, then for the page each answer's token names, until an answer
 * carries no token. An empty page, or a token the previous answer already gave, also ends
 * the walk, so a server that keeps handing out tokens without progress cannot loop a
 * caller forever. Stop early by breaking out of the `for await`; the next page is not asked for.
 *
 *   for await (const run of allPages((pageToken) => store.searchRuns({ experimentIds, pageToken })))
 */
import type { Page } from './entities.js';

/** `fetch(pageToken, seen)`: one page; `seen` is how many items came before it (to size the last request). */
export async function* allPages<T>(
  fetch: (pageToken: string | undefined, seen: number) => Promise<Page<T>>,
): AsyncGenerator<T, void, undefined> {
  let token: string | undefined;
  let seen = 0;
  for (;;) {
    const page = await fetch(token, seen);
    yield* page.items;
    seen += page.items.length;
    const next = page.nextPageToken || undefined;
    if (next === undefined || next === token || page.items.length === 0) return;
    token = next;
  }
}

/** allPages into an array, at most `limit` items (all when absent). */
export async function collectPages<T>(
  fetch: (pageToken: string | undefined, seen: number) => Promise<Page<T>>,
  limit = Infinity,
): Promise<T[]> {
  const out: T[] = [];
  if (limit <= 0) return out;
  for await (const item of allPages(fetch)) {
    out.push(item);
    if (out.length >= limit) break;
  }
  return out;
}
