/** Runs the tracking store contract against the embedded SQLite store (a real file in a temp dir). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteTrackingStore } from '../../src/tracking/sqlite/sqlite-tracking-store.js';
import { trackingStoreContract } from './tracking-store-contract.js';

/** A clock that ticks 1 ms per reading, so creation times are distinct and ordered. */
export function tickingClock(start = 1_700_000_000_000) {
  let t = start;
  return { now: () => t++ };
}

trackingStoreContract('SqliteTrackingStore', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'carprice-sqlite-contract-'));
  const store = new SqliteTrackingStore({
    path: join(dir, 'mlflow.db'),
    defaultArtifactRoot: join(dir, 'artifacts'),
    clock: tickingClock(),
  });
  return {
    store,
    async cleanup() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
