/**
 * The worker thread `monitoringOverviewOffThread` starts: computes one monitoring overview
 * from its workerData and posts it back (or the error's code and message), then ends.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { monitoringOverview, type MonitoringOverviewOptions } from './monitor-overview.js';

try {
  parentPort!.postMessage({ ok: true, overview: monitoringOverview(workerData as MonitoringOverviewOptions) });
} catch (e) {
  const err = e as { code?: unknown; message?: string };
  parentPort!.postMessage({
    ok: false,
    code: typeof err.code === 'string' ? err.code : 'INTERNAL_ERROR',
    message: err.message ?? String(e),
  });
}
