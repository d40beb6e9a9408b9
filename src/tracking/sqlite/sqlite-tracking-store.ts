/**
 * The embedded tracking backend: one SQLite file (better-sqlite3, WAL) holding experiments,
 * runs, metrics, params, tags, logged models and the model registry, with MLflow's
 * SQL-store semantics (spec §2-5). Split as MLflow splits its stores: runs and
 * experiments (sqlite-run-store.ts), the model registry (sqlite-registry-store.ts) and
 * logged models (sqlite-logged-model-store.ts), all on one shared handle (sqlite-db.ts:
 * connection, statement caches, transactions). This class is the TrackingStore the rest of
 * carprice sees; it opens the handle and hands the parts to CompositeTrackingStore.
 * Several processes can log to the same file at once without losing a row, and a process
 * killed mid-run leaves every committed write readable. Timestamps come from an injectable
 * clock.
 */
import { CompositeTrackingStore } from '../composite-store.js';
import { SqliteDb, type SqliteDbOptions } from './sqlite-db.js';
import { SqliteLoggedModelStore } from './sqlite-logged-model-store.js';
import { SqliteRegistryStore } from './sqlite-registry-store.js';
import { ensureDefaultExperiment, SqliteRunStore } from './sqlite-run-store.js';

export type SqliteTrackingStoreOptions = SqliteDbOptions;

/** SQLite-backed TrackingStore. */
export class SqliteTrackingStore extends CompositeTrackingStore {
  readonly kind = 'sqlite';
  private readonly h: SqliteDb;

  constructor(opts: SqliteTrackingStoreOptions) {
    const h = new SqliteDb(opts, ensureDefaultExperiment);
    super({
      runs: new SqliteRunStore(h),
      registry: new SqliteRegistryStore(h),
      loggedModels: new SqliteLoggedModelStore(h),
    });
    this.h = h;
  }

  async close(): Promise<void> {
    this.h.close();
  }
}
