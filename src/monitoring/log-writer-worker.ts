/**
 * The prediction log's writer thread: owns the SQLite connection, so inserts, retention and
 * the periodic drift scores never run on the thread that answers requests. Messages in:
 * `write` (a batch of records), `drift` (the reference and thresholds to score against, or
 * null to stop), `close`. Messages out: `ready` / `init-failed`, `written` / `write-failed`
 * per batch (so the sender knows its queue shrank), `drift` reports, `closed`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openLogDatabase, pruneLog, recordInserter, type LogDatabase } from './log-store.js';
import { driftReport, type DriftInputs } from './drift-report.js';
import type { PredictionRecord } from './prediction-record.js';

export interface WriterInit {
  path: string;
  retentionDays: number;
  maxRows: number;
}

/** What the writer needs to score drift on its own: the window is the last `windowMs` at each run. */
export type DriftSchedule = Omit<DriftInputs, 'db' | 'now' | 'since' | 'until'> & { windowMs: number };

export type WriterRequest =
  | { type: 'write'; records: PredictionRecord[] }
  | { type: 'drift'; inputs: DriftSchedule | null; intervalMs: number }
  | { type: 'close' };

export type WriterReply =
  | { type: 'ready' }
  | { type: 'init-failed'; code: string; message: string }
  | { type: 'written'; n: number }
  | { type: 'write-failed'; n: number; message: string }
  | { type: 'drift'; report: ReturnType<typeof driftReport> | null; message?: string }
  | { type: 'closed' };

const port = parentPort!;
const init = workerData as WriterInit;
const send = (m: WriterReply) => port.postMessage(m);

let db: LogDatabase | undefined;
try {
  db = openLogDatabase(init.path);
  send({ type: 'ready' });
} catch (e) {
  const err = e as { code?: string; message?: string };
  send({ type: 'init-failed', code: err.code ?? 'FILE_UNWRITABLE', message: err.message ?? String(e) });
}

if (db) {
  const database = db;
  const insert = recordInserter(database);
  let sincePrune = 0;
  let lastPrune = 0;
  let driftTimer: NodeJS.Timeout | undefined;
  const prune = () => {
    try {
      pruneLog(database, { now: Date.now(), retentionDays: init.retentionDays, maxRows: init.maxRows });
    } catch {
      // a busy database: retention runs again with the next batches
    }
    sincePrune = 0;
    lastPrune = Date.now();
  };
  prune();
  const write = (records: PredictionRecord[]): string | null => {
    let failure: string | null = null;
    try {
      insert(records);
    } catch (e) {
      failure = (e as Error).message;
    }
    sincePrune += records.length;
    if (sincePrune >= 5000 || Date.now() - lastPrune > 60_000) prune();
    return failure;
  };
  port.on('message', (m: WriterRequest) => {
    if (m.type === 'write') {
      const failure = write(m.records);
      send(
        failure === null
          ? { type: 'written', n: m.records.length }
          : { type: 'write-failed', n: m.records.length, message: failure },
      );
    } else if (m.type === 'drift') {
      if (driftTimer) clearInterval(driftTimer);
      driftTimer = undefined;
      const inputs = m.inputs;
      if (!inputs) return;
      const score = () => {
        try {
          const now = Date.now();
          send({ type: 'drift', report: driftReport({ ...inputs, db: database, now, since: now - inputs.windowMs }) });
        } catch (e) {
          send({ type: 'drift', report: null, message: (e as Error).message });
        }
      };
      score();
      if (m.intervalMs > 0) driftTimer = setInterval(score, m.intervalMs);
    } else if (m.type === 'close') {
      if (driftTimer) clearInterval(driftTimer);
      try {
        database.close();
      } finally {
        send({ type: 'closed' });
        port.close();
      }
    }
  });
}
