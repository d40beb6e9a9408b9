/**
 * The runs table's server side: one page of runs from the store (MLflow's filter and
 * order_by, its page tokens), flattened to rows of params/metrics/tags, with nested runs
 * folded: a child whose parent is on the same page moves under it, and each parent on the
 * page brings all its children (so a tuning run shows every trial when unfolded).
 */
import { AppError } from '../core/errors.js';
import { SYSTEM_TAGS, type Run, type TrackingStore } from '../tracking/index.js';
import type { RunRow, RunsPage } from './wire.js';

export type { RunRow, RunsPage } from './wire.js';

const MAX_PAGE = 500;
const MAX_CHILDREN = 1000;

/** A metric value as JSON carries it: NaN and infinities as strings. */
export function metricJson(v: number): number | string {
  return Number.isFinite(v) ? v : String(v);
}

export function rowOf(run: Run): RunRow {
  const tags: Record<string, string> = {};
  for (const t of run.data.tags) if (t.key !== SYSTEM_TAGS.logModelHistory) tags[t.key] = t.value;
  return {
    id: run.info.runId,
    name: run.info.runName,
    experimentId: run.info.experimentId,
    status: run.info.status,
    user: run.info.userId,
    start: run.info.startTime,
    end: run.info.endTime ?? null,
    parentId: tags[SYSTEM_TAGS.parentRunId] ?? null,
    params: Object.fromEntries(run.data.params.map((p) => [p.key, p.value])),
    metrics: Object.fromEntries(run.data.metrics.map((m) => [m.key, metricJson(m.value)])),
    tags,
  };
}

export interface RunsQuery {
  experimentIds: string[];
  filter?: string;
  orderBy?: string[];
  pageToken?: string;
  maxResults?: number;
  /** Fold children under their parents (default true). */
  nest?: boolean;
  /** Only the children of this run. */
  parent?: string;
}

/** `parent` as a filter clause ANDed to the user's filter. */
function withParent(filter: string | undefined, parent: string | undefined): string | undefined {
  if (!parent) return filter;
  if (!/^[0-9a-zA-Z_-]{1,64}$/.test(parent))
    throw new AppError('INVALID_PARAMETER_VALUE', `parent must be a run id (letters, digits, _ or -), got '${parent}'`);
  const clause = `tags.\`${SYSTEM_TAGS.parentRunId}\` = '${parent}'`;
  return filter && filter.trim() ? `${filter} AND ${clause}` : clause;
}

/**
 * Give each run of `top` that has children its children. One query finds every child run
 * started since the page's earliest run (a child starts after its parent); only when that
 * is more than MAX_CHILDREN runs does each run get its own query.
 */
async function attachChildren(store: TrackingStore, q: RunsQuery, top: RunRow[]): Promise<void> {
  const since = Math.min(...top.map((r) => r.start));
  const kids = await store.searchRuns({
    experimentIds: q.experimentIds,
    filter: `tags.\`${SYSTEM_TAGS.parentRunId}\` LIKE '%' AND attributes.start_time >= ${since}`,
    orderBy: q.orderBy,
    maxResults: MAX_CHILDREN,
  });
  if (!kids.nextPageToken) {
    const byParent = new Map<string, RunRow[]>();
    for (const k of kids.items.map(rowOf)) {
      const list = byParent.get(k.parentId!);
      if (list) list.push(k);
      else byParent.set(k.parentId!, [k]);
    }
    for (const r of top) {
      const c = byParent.get(r.id);
      if (c) r.children = c;
    }
    return;
  }
  for (const r of top) {
    const page = await store.searchRuns({
      experimentIds: q.experimentIds,
      filter: withParent(undefined, r.id),
      orderBy: q.orderBy,
      maxResults: MAX_CHILDREN,
    });
    if (page.items.length) r.children = page.items.map(rowOf);
  }
}

export async function searchRunsPage(store: TrackingStore, q: RunsQuery): Promise<RunsPage> {
  const max = q.maxResults ?? 50;
  if (!Number.isInteger(max) || max < 1 || max > MAX_PAGE)
    throw new AppError('INVALID_PARAMETER_VALUE', `max_results must be an integer 1..${MAX_PAGE}, got ${max}`);
  if (q.experimentIds.length === 0)
    throw new AppError('INVALID_PARAMETER_VALUE', 'experiment_ids is required: pick at least one experiment');
  const page = await store.searchRuns({
    experimentIds: q.experimentIds,
    filter: withParent(q.filter, q.parent),
    orderBy: q.orderBy,
    pageToken: q.pageToken || undefined,
    maxResults: max,
  });
  const rows = page.items.map(rowOf);
  let top = rows;
  if (q.nest !== false && !q.parent && rows.length) {
    const onPage = new Map(rows.map((r) => [r.id, r]));
    top = rows.filter((r) => !(r.parentId && onPage.has(r.parentId)));
    await attachChildren(store, q, top);
  }
  const paramKeys = new Set<string>();
  const metricKeys = new Set<string>();
  const tagKeys = new Set<string>();
  const collect = (r: RunRow) => {
    for (const k in r.params) paramKeys.add(k);
    for (const k in r.metrics) metricKeys.add(k);
    for (const k in r.tags) if (!k.startsWith('mlflow.')) tagKeys.add(k);
    r.children?.forEach(collect);
  };
  top.forEach(collect);
  return {
    runs: top,
    nextPageToken: page.nextPageToken ?? null,
    paramKeys: [...paramKeys].sort(),
    metricKeys: [...metricKeys].sort(),
    tagKeys: [...tagKeys].sort(),
  };
}
