/**
 * Child process for the tracking concurrency tests: opens the SQLite store at argv[2] and
 * logs argv[5] metric points (plus a param and a batch) to run argv[3] as writer argv[4].
 * With argv[6] === 'hang' it prints "committed N" after its writes and waits to be killed.
 */
import { SqliteTrackingStore } from '../../src/tracking/sqlite/sqlite-tracking-store.js';

const [db, runId, writer, countText, mode] = process.argv.slice(2);
const count = Number(countText);
const store = new SqliteTrackingStore({ path: db, defaultArtifactRoot: '/tmp/unused-artifacts' });
for (let i = 0; i < count; i++)
  await store.logMetric(runId, { key: `w${writer}`, value: i * 0.5, timestamp: 1000 + i, step: i });
await store.logParam(runId, { key: `param_${writer}`, value: writer });
await store.logBatch(runId, {
  metrics: Array.from({ length: 50 }, (_, i) => ({ key: `batch${writer}`, value: i, timestamp: 5000 + i, step: i })),
});
if (mode === 'hang') {
  process.stdout.write(`committed ${count}\n`);
  setInterval(() => undefined, 1000);
} else {
  await store.close();
}
