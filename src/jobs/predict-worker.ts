/**
 * Worker-thread side of parallel batch prediction (predict-parallel.ts): receives the model
 * and the file's header once, then slices of the file (whole records, cut after a line
 * break outside quotes), and answers each with its output text and counts, computed by
 * exactly the code the calling thread runs (ChunkScorer), or with the error's code,
 * message and details.
 */
import { parentPort } from 'node:worker_threads';
import { ModelBundle } from '../bundle/model-bundle.js';
import { parseCsvRecords } from '../data/csv-stream.js';
import { ChunkScorer } from './predict-chunk.js';
import type { SliceMessage, SliceReply, WorkerInit } from './predict-parallel.js';

const port = parentPort;
if (port) {
  let init: WorkerInit | undefined;
  let scorer: ChunkScorer | undefined;
  const decoder = new TextDecoder('utf-8');
  port.on('message', (m: WorkerInit | SliceMessage) => {
    if ('bundle' in m) {
      init = m;
      return;
    }
    let reply: SliceReply;
    try {
      const i = init!;
      scorer ??= new ChunkScorer(
        ModelBundle.fromJSON(i.bundle),
        i.columns,
        i.schema,
        { source: i.source },
        i.ranges,
        i.format,
      );
      const text = decoder.decode(m.bytes);
      const { rows, rowNumbers } = parseCsvRecords(text, {
        source: i.source,
        firstLine: m.firstLine,
        width: i.columns.length,
        maxRecordChars: i.maxRecordChars,
      });
      reply = { seq: m.seq, result: scorer.score(rows, rowNumbers) };
    } catch (e) {
      const err = e as { code?: unknown; message?: unknown; details?: unknown };
      reply = {
        seq: m.seq,
        error: {
          code: typeof err.code === 'string' ? err.code : 'INTERNAL_ERROR',
          message: String(err.message ?? e),
          details: err.details as Record<string, unknown> | undefined,
        },
      };
    }
    port.postMessage(reply);
  });
}
