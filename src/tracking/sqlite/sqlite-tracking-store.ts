/**
 * The embedded tracking backend: one SQLite file (better-sqlite3, WAL) holding experiments,
 * runs, metrics, params, tags, logged models and the model registry, with MLflow's
 * SQL-store semantics (spec §2-5). The stores are the SQL ones (../sql/: runs and
 * experiments, the model registry, logged models, written once for SQLite and
 * PostgreSQL), all on one engine (sqlite-db.ts: connection, statement caches,
 * transactions). This class is the TrackingStore the rest of carprice sees.
 * Several processes can log to the same file at once without losing a row, and a process
 * killed mid-run leaves every committed write readable. Timestamps come from an injectable
 * clock.
 */
import { CompositeTrackingStore } from '../composite-store.js';
import { sqlStoreParts } from '../sql/sql-store-parts.js';
import { SqliteDb, type SqliteDbOptions } from './sqlite-db.js';

export type SqliteTrackingStoreOptions = SqliteDbOptions;

/** SQLite-backed TrackingStore. */
export class SqliteTrackingStore extends CompositeTrackingStore {
  readonly kind = 'sqlite';
  private readonly h: SqliteDb;

  constructor(opts: SqliteTrackingStoreOptions) {
    const h = new SqliteDb(opts);
    super(sqlStoreParts(h));
    this.h = h;
  }

  async close(): Promise<void> {
    this.h.close();
  }
}
