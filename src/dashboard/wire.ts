/**
 * The shapes the dashboard's JSON API sends and its browser code reads: one definition for
 * both sides (the server's routes type their answers with them, web/ imports them as types
 * only). Plain data and type-only imports, which the browser build erases.
 */

/** A run flattened for the runs table: params, metrics and tags as maps. */
export interface RunRow {
  id: string;
  name: string;
  experimentId: string;
  status: string;
  user: string;
  start: number;
  end: number | null;
  parentId: string | null;
  params: Record<string, string>;
  /** NaN and infinities as strings, as JSON carries them. */
  metrics: Record<string, number | string>;
  tags: Record<string, string>;
  /** Folded child runs (nested runs under their parent). */
  children?: RunRow[];
}

/** One page of the runs table. */
export interface RunsPage {
  runs: RunRow[];
  nextPageToken: string | null;
  paramKeys: string[];
  metricKeys: string[];
  tagKeys: string[];
}

/** The models page's listing and history: one definition with `carprice model list` and `model history` (jobs/promotion.ts builds them). */
export type { HistoryEntry, ModelListing, VersionRow } from '../tracking/model-listing.js';

/** The monitoring page's drift report: one definition with `carprice monitor drift --json` (monitoring/drift-report.ts computes it). */
export type { DriftReport, FeatureDrift } from '../monitoring/drift-types.js';
