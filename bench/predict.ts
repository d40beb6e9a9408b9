/**
 * bench/predict: how long a trained model bundle takes to price listings, the way the
 * prediction API and `carprice predict` use it: raw listing columns in, prices out, through
 * the whole feature pipeline and every blend member. One listing per call (2,000 calls over
 * 500 different listings, after a warm-up) and the whole dataset in one call.
 * Usage (from the project root): node dist/bench/predict.js [algo...]   (default: ridge gbdt blend)
 */
import { existsSync } from 'node:fs';
import { loadParams } from '../src/config/params.js';
import { train } from '../src/jobs/train.js';
import { loadListings } from '../src/jobs/load-listings.js';
import { takeFrameRows } from '../src/data/frame.js';
import { ModelBundle } from '../src/bundle/model-bundle.js';

const DATA = '../shared/data/cars24_v3.xlsx';

async function main(): Promise<void> {
  if (!existsSync(DATA)) {
    console.log(`skipped: ${DATA} not found (run from the project root next to ../shared)`);
    return;
  }
  const algos = process.argv.slice(2).length ? process.argv.slice(2) : ['ridge', 'gbdt', 'blend'];
  const params = loadParams({ path: 'params.yaml' });
  const all = await loadListings(DATA, { params });
  const rows = Array.from({ length: 500 }, (_, i) => takeFrameRows(all.frame, [(i * 7) % all.frame.nRows]));
  console.log(`bundle prediction on ${DATA} listings (bundle saved and loaded back first, as a server would)`);
  console.log('model'.padEnd(12), 'features'.padStart(9), 'one listing/call'.padStart(18), 'calls/s'.padStart(9), `all ${all.frame.nRows} in one call`.padStart(22));
  for (const algo of algos) {
    const r = await train({ params, train: DATA, algo });
    const bundle = ModelBundle.fromJSON(JSON.parse(JSON.stringify(r.bundle.toJSON())));
    for (let k = 0; k < 3; k++) for (const f of rows) bundle.predictFrame(f); // warm-up (JIT)
    const t0 = performance.now();
    for (let k = 0; k < 4; k++) for (const f of rows) bundle.predictFrame(f);
    const us = ((performance.now() - t0) * 1000) / (4 * rows.length);
    const t1 = performance.now();
    bundle.predictFrame(all.frame);
    const batchMs = performance.now() - t1;
    const width = bundle.members.map((m) => m.features.columns().length).join('+');
    console.log(
      algo.padEnd(12),
      width.padStart(9),
      `${us.toFixed(0)} µs`.padStart(18),
      (1e6 / us).toFixed(0).padStart(9),
      `${batchMs.toFixed(0)} ms (${((batchMs * 1000) / all.frame.nRows).toFixed(1)} µs/listing)`.padStart(22),
    );
  }
}

await main();
