/**
 * What a host (the tracking server, the prediction API) gives the dashboard: the store it
 * reads, how to open a run's artifacts, and optional adapters for the pages whose logic
 * lives in layers the dashboard may not import (governance in jobs/, the served model in
 * serving/). A page whose adapter is absent says so and how to get it, instead of failing.
 */
import type { Readable } from 'node:stream';
import type { FileInfo, TrackingStore } from '../tracking/index.js';
import type { HistoryEntry, ModelListing } from './wire.js';

export type { HistoryEntry, ModelListing, VersionRow } from './wire.js';

/** The part of an artifact repository the dashboard reads. */
export interface ArtifactReader {
  list(relDir: string): Promise<FileInfo[]>;
  read(relPath: string): Promise<Readable>;
}

/** Registry governance (jobs/promotion.ts), supplied by the CLI. */
export interface GovernanceAdapter {
  listModelVersions(name: string): Promise<ModelListing>;
  history(name: string): Promise<HistoryEntry[]>;
  promote(name: string, version: string, user: string, reason: string): Promise<HistoryEntry>;
  rollback(name: string, user: string, reason: string): Promise<HistoryEntry>;
}

/** Actual and predicted prices of a model version on the test split. */
export interface VersionPredictions {
  name: string;
  version: string;
  data: string;
  actual: number[];
  predicted: number[];
  /** A categorical column per listing, for slices (make, fuelType, ...). */
  columns: Record<string, string[]>;
}

/** The prediction side: the served model (in `carprice up`) or a prediction API URL. */
export interface PredictAdapter {
  /** POST /predict body -> its JSON answer (status kept). */
  predict(listing: Record<string, unknown>): Promise<{ status: number; body: unknown }>;
  explain(listing: Record<string, unknown>): Promise<{ status: number; body: unknown }>;
  /** GET /model, or null when no model is loaded. */
  model(): Promise<{ status: number; body: unknown }>;
  /** Where predictions come from, for the page's footer. */
  describe: string;
}

/** make -> model -> variant, and the values of the other categorical fields. */
export interface KnownValues {
  source: string;
  rows: number;
  makes: Record<string, Record<string, string[]>>;
  fields: Record<string, string[]>;
  numeric: Record<string, { min: number; max: number; median: number }>;
}

/** A window of the prediction log, Unix ms. */
export interface MonitoringWindow {
  since: number;
  until?: number;
  now: number;
}

/** The monitoring page: drift, realized accuracy and shadow agreement of a window of the prediction log (jobs/monitor-overview.ts), supplied by the CLI. */
export interface MonitoringAdapter {
  /** The prediction log read (shown on the page). */
  logPath: string;
  /** The window when the page names none (params.yaml monitoring.drift.window, e.g. 7d). */
  defaultWindow: string;
  /** The page's data for a window (a JSON object). */
  overview(w: MonitoringWindow): Promise<object>;
}

export interface DashboardOptions {
  store: TrackingStore;
  /** The artifact repository of a run's (or version's) artifact URI. */
  artifactsFor(artifactUri: string): ArtifactReader;
  /** CARPRICE_TRACKING_USERS: basic auth on every /ui route; also who may promote. */
  users?: string;
  /** Directory of the built browser assets (default: dist/ui next to the compiled code). */
  assetsDir?: string;
  /** Project directory holding dvc.yaml (the pipeline page); absent = no pipeline page. */
  pipelineDir?: string;
  governance?: GovernanceAdapter;
  /** Predicted vs actual for a model version (the compare page's model plots). */
  versionPredictions?(name: string, version: string): Promise<VersionPredictions>;
  predict?: PredictAdapter;
  /** The listings the pickers of the predict form are fed from. */
  knownValues?(): Promise<KnownValues>;
  /** The monitoring page (absent: the page says this server reads no prediction log). */
  monitoring?: MonitoringAdapter;
  /** Where the page says it is served from ("tracking server", "prediction API"). */
  host: string;
}
