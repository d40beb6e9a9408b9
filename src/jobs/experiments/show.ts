/**
 * `carprice exp show`: the runs of the experiments with their params and metrics, nested
 * runs under their parent, sorted by a metric, for the terminal or as JSON.
 */
import { AppError, isAppError } from '../../core/errors.js';
import type { Run } from '../../tracking/entities.js';
import type { TrackingClient } from '../../tracking/client.js';
import { collectPages } from '../../tracking/all-pages.js';

/** The experiments `carprice exp` and the pipeline write to. */
export const DEFAULT_EXPERIMENTS = ['baseline', 'model-comparison', 'hyperparameter-tuning', 'dvc-pipeline-runs'];

export interface ShowRow {
  experiment: string;
  runId: string;
  runName: string;
  parentRunId: string | null;
  status: string;
  startTime: number;
  params: Record<string, string>;
  metrics: Record<string, number>;
}

export interface ShowOptions {
  client: TrackingClient;
  /** Experiment names (default: DEFAULT_EXPERIMENTS that exist). */
  experiments?: string[];
  /** Metric key to sort by; lower first unless it is an R²/within metric. */
  sort?: string;
  /** At most this many runs per experiment (default 1000). */
  limit?: number;
}

export async function show(o: ShowOptions): Promise<ShowRow[]> {
  const names = o.experiments ?? DEFAULT_EXPERIMENTS;
  const rows: ShowRow[] = [];
  for (const name of names) {
    let id: string;
    try {
      id = (await o.client.store.getExperimentByName(name)).experimentId;
    } catch (e) {
      if (!isAppError(e, 'RESOURCE_DOES_NOT_EXIST')) throw e;
      if (o.experiments)
        throw new AppError(
          'RESOURCE_DOES_NOT_EXIST',
          `no experiment named '${name}'; run \`carprice experiments list\` to see them`,
        );
      continue;
    }
    const limit = o.limit ?? 1000;
    const runs: Run[] = await collectPages(
      (pageToken) =>
        o.client.store.searchRuns({
          experimentIds: [id],
          maxResults: Math.min(1000, limit),
          orderBy: ['attributes.start_time DESC'],
          pageToken,
        }),
      limit,
    );
    for (const r of runs)
      rows.push({
        experiment: name,
        runId: r.info.runId,
        runName: r.info.runName ?? '',
        parentRunId: r.data.tags.find((t) => t.key === 'mlflow.parentRunId')?.value ?? null,
        status: r.info.status,
        startTime: r.info.startTime ?? 0,
        params: Object.fromEntries(r.data.params.map((p) => [p.key, p.value])),
        metrics: Object.fromEntries(r.data.metrics.map((m) => [m.key, m.value])),
      });
  }
  if (!o.sort) {
    // each parent (newest first) followed by its nested runs in the order they ran
    const ids = new Set(rows.map((r) => r.runId));
    const children = new Map<string, ShowRow[]>();
    for (const r of rows)
      if (r.parentRunId && ids.has(r.parentRunId))
        children.set(r.parentRunId, [...(children.get(r.parentRunId) ?? []), r]);
    const out: ShowRow[] = [];
    for (const r of rows) {
      if (r.parentRunId && ids.has(r.parentRunId)) continue;
      out.push(r, ...(children.get(r.runId) ?? []).sort((a, b) => a.startTime - b.startTime));
    }
    return out;
  }
  {
    const key = o.sort;
    const known = new Set(rows.flatMap((r) => Object.keys(r.metrics)));
    if (rows.length && !known.has(key))
      throw new AppError(
        'USAGE',
        `--sort ${key}: no run here has that metric; choose one of ${[...known].sort().join(', ') || '(none: these runs log no metrics)'}`,
      );
    const desc = /r2|within/.test(key);
    rows.sort((a, b) => {
      const x = a.metrics[key];
      const y = b.metrics[key];
      if (x === undefined || y === undefined) return x === undefined ? (y === undefined ? 0 : 1) : -1;
      return desc ? y - x : x - y;
    });
  }
  return rows;
}
