/**
 * Runs the tracking store contract against PgTrackingStore on a real PostgreSQL (a
 * throwaway cluster from test/helpers/postgres-cluster.ts); skips, saying why, only when
 * PostgreSQL cannot start here.
 */
import { after, test } from 'node:test';
import { PgTrackingStore } from '../../src/tracking/postgres/pg-tracking-store.js';
import { startPostgres } from '../helpers/postgres-cluster.js';
import { trackingStoreContract } from './tracking-store-contract.js';

const cluster = await startPostgres();
if (typeof cluster === 'string') {
  test('TrackingStore contract: PgTrackingStore', { skip: cluster }, () => {});
} else {
  after(() => cluster.stop());
  trackingStoreContract('PgTrackingStore (PostgreSQL)', async () => {
    const connection = await cluster.newDatabase();
    let t = 1_700_000_000_000;
    const store = new PgTrackingStore({
      connection,
      where: connection.uri,
      defaultArtifactRoot: '/tmp/carprice-pg-artifacts',
      clock: { now: () => t++ },
    });
    return { store, cleanup: () => store.close() };
  });
}
