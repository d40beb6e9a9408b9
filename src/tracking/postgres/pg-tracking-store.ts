/**
 * The team-scale tracking backend: PostgreSQL through the pg driver's connection pool,
 * with the same MLflow SQL-store semantics as the embedded SQLite store and split the same
 * way: runs and experiments (pg-run-store.ts), the model registry (pg-registry-store.ts)
 * and logged models (pg-logged-model-store.ts), all on one shared pool (pg-db.ts:
 * connections, migrations, serializable transactions). Opening is lazy: the first call
 * connects and migrates (once across servers, under an advisory lock).
 */
import { CompositeTrackingStore } from '../composite-store.js';
import { PgDb, type PgDbOptions } from './pg-db.js';
import { PgLoggedModelStore } from './pg-logged-model-store.js';
import { PgRegistryStore } from './pg-registry-store.js';
import { ensureDefaultExperiment, PgRunStore } from './pg-run-store.js';

export type PgTrackingStoreOptions = PgDbOptions;

export class PgTrackingStore extends CompositeTrackingStore {
  readonly kind = 'postgresql';
  private readonly h: PgDb;

  constructor(opts: PgTrackingStoreOptions) {
    const h = new PgDb(opts, ensureDefaultExperiment);
    super({ runs: new PgRunStore(h), registry: new PgRegistryStore(h), loggedModels: new PgLoggedModelStore(h) });
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
