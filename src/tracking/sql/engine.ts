/**
 * The small interface the SQL tracking stores (run-store.ts, registry-store.ts,
 * logged-model-store.ts) are written against. A backend (sqlite/sqlite-db.ts,
 * postgres/pg-db.ts) is an engine: it runs a body of steps in a read or in a write
 * transaction with its driver and maps its driver's errors to AppErrors, and it names
 * the few SQL differences the stores cannot spell once (`SqlDialect`).
 */
import type { Clock } from '../../core/clock.js';
import type { Metric } from '../entities.js';
import type { Steps } from './steps.js';

/** What the SQLite and PostgreSQL stores cannot write the same way. */
export interface SqlDialect {
  /**
   * The runs column a search page selects as its `rid` and the run hydration joins on:
   * SQLite's integer rowid, PostgreSQL's primary key.
   */
  readonly runKey: string;
  /**
   * An expression giving the rows of `from` (`<table> <alias> WHERE ...`) as a JSON array
   * text of arrays of `columns`, ordered by `orderBy`; '[]' when there are none.
   */
  readonly jsonRows: (columns: string, from: string, orderBy: string) => string;
  /** The LIMIT value that means "all rows". */
  readonly noLimit: number | null;
  /** Append points to a run's metric history (a point already there is kept). */
  readonly insertMetricHistory: (runId: string, metrics: readonly Metric[]) => Steps<void>;
  /** Fold points (at most one per key) into the run's latest values where they are later. */
  readonly upsertLatestMetrics: (runId: string, latest: readonly Metric[]) => Steps<void>;
  /**
   * A batch of plain metric points in one statement outside a transaction, when the
   * backend has one: both of the above and the active-run check at once. Answers false,
   * having written nothing, when the run is not active.
   */
  readonly logMetricsOnly?: (runId: string, metrics: readonly Metric[], latest: readonly Metric[]) => Steps<boolean>;
}

/** An open tracking database the SQL stores run on. */
export interface SqlEngine {
  readonly dialect: SqlDialect;
  readonly clock: Clock;
  /** The default artifact root: experiment N's artifacts go under `<root>/N`. */
  readonly root: string;
  /** Run `body` for reading (no write lock). */
  read<T>(body: () => Steps<T>): Promise<T>;
  /** Run `body` in one write transaction: all of it or nothing (a retry calls `body` again). */
  write<T>(body: () => Steps<T>): Promise<T>;
}
