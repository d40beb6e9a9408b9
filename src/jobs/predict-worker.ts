/**
 * Worker-thread side of parallel batch prediction (predict-parallel.ts): receives the model
 * and the file's header once, then slices of the file (whole records, cut after a line
 * break outside quotes), parses each into columns and answers with its output bytes and
 * counts, computed by exactly the code the calling thread runs (ChunkScorer), or with the error's code,
 * message and details.
 */
import { parentPort } from 'node:worker_threads';
import { ModelBundle } from '../bundle/model-bundle.js';
import { CsvColumnParser } from '../data/csv-columns.js';
import { ChunkScorer } from './predict-chunk.js';
import type { SliceMessage, SliceReply, WorkerInit } from './predict-parallel.js';

const port = parentPort;
if (port) {
  let init: WorkerInit | undefined;
  let scorer: ChunkScorer | undefined;
  let parser: CsvColumnParser | undefined;
  const setUp = (i: WorkerInit) => {
    scorer = new ChunkScorer(
      ModelBundle.fromJSON(i.bundle),
      i.columns,
      i.schema,
      { source: i.source },
      i.ranges,
      i.format,
    );
    parser = new CsvColumnParser(i.source, i.columns, i.maxRecordChars);
  };
  port.on('message', (m: WorkerInit | SliceMessage) => {
    if ('bundle' in m) {
      init = m;
      // the model is loaded and its trees compiled now, while the first slices are read
      try {
        setUp(m);
      } catch {
        // reported with the first slice's reply, as the error of that slice
      }
      return;
    }
    let reply: SliceReply;
    try {
      if (!scorer || !parser) setUp(init!);
      reply = { seq: m.seq, result: scorer!.scoreColumns(parser!.parse(m.bytes, m.firstLine)) };
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
    port.postMessage(reply, 'result' in reply ? [reply.result.bytes.buffer as ArrayBuffer] : []);
  });
}
