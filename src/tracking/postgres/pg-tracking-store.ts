/**
 * The team-scale tracking backend: PostgreSQL through the pg driver's connection pool,
 * with the same MLflow SQL-store semantics as the embedded SQLite store, because the
 * stores are the same code (../sql/: runs and experiments, the model registry, logged
 * models), here on the PostgreSQL engine (pg-db.ts: connections, migrations,
 * serializable transactions). Opening is lazy: the first call connects and migrates (once
 * across servers, under an advisory lock).
 */
import { CompositeTrackingStore } from '../composite-store.js';
import { sqlStoreParts } from '../sql/sql-store-parts.js';
import { PgDb, type PgDbOptions } from './pg-db.js';

export type PgTrackingStoreOptions = PgDbOptions;

export class PgTrackingStore extends CompositeTrackingStore {
  readonly kind = 'postgresql';
  private readonly h: PgDb;

  constructor(opts: PgTrackingStoreOptions) {
    const h = new PgDb(opts);
    super(sqlStoreParts(h));
    this.h = h;
  }

  /** Connect and migrate now (otherwise the first call does). */
  open(): Promise<void> {
    return this.h.open();
  }

  async close(): Promise<void> {
    await this.h.close();
  }
}
