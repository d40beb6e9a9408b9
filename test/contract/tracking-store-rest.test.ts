/**
 * Runs the tracking store contract against RestTrackingStore talking real HTTP (127.0.0.1,
 * port 0) to buildTrackingServer over a SQLite store: the wire format both ways.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { SqliteTrackingStore } from '../../src/tracking/sqlite/sqlite-tracking-store.js';
import { RestTrackingStore } from '../../src/tracking/rest/rest-tracking-store.js';
import { buildTrackingServer } from '../../src/tracking/server/build-tracking-server.js';
import { LocalArtifactRepository } from '../../src/tracking/artifacts/local-artifact-repository.js';
import { trackingStoreContract } from './tracking-store-contract.js';

trackingStoreContract('RestTrackingStore -> carprice tracking server', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'carprice-rest-contract-'));
  let t = 1_700_000_000_000;
  const backend = new SqliteTrackingStore({
    path: join(dir, 'mlflow.db'),
    defaultArtifactRoot: 'mlflow-artifacts:',
    clock: { now: () => t++ },
  });
  const app = await buildTrackingServer({
    store: backend,
    artifactsDestination: new LocalArtifactRepository(join(dir, 'mlartifacts')),
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as AddressInfo).port;
  const store = new RestTrackingStore({ trackingUri: `http://127.0.0.1:${port}`, maxRetries: 0, timeoutMs: 10_000 });
  return {
    store,
    async cleanup() {
      await store.close();
      await app.close();
      await backend.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
