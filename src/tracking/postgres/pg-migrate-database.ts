/**
 * `carprice tracking migrate` on PostgreSQL: migrate the database behind a connection with a
 * one-connection pool. Its own module so that pg-db.ts (which migrates on open) and
 * pg-migrations.ts (the migrations) do not import each other.
 */
import { PgDb, type PgConnection } from './pg-db.js';
import { migratePg, type PgMigrateResult } from './pg-migrations.js';

/** Migrate the database behind `connection` with a one-connection pool (`carprice tracking migrate`). */
export async function migratePgDatabase(connection: PgConnection, where: string): Promise<PgMigrateResult> {
  const h = new PgDb({ connection: { ...connection, max: 1 }, where, defaultArtifactRoot: '' });
  try {
    return await migratePg(h.pool, where);
  } catch (e) {
    throw h.mapError(e);
  } finally {
    await h.close();
  }
}
