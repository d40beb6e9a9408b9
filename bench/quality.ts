/**
 * bench/quality: model quality on our seeded 80/20 split of ../shared/data/cars24_v3.xlsx,
 * printed next to the Python original's figures. Usage: node dist/bench/quality.js [algo...]
 */
import { existsSync } from 'node:fs';
import { loadParams } from '../src/config/params.js';
import { train } from '../src/jobs/train.js';

const DATA = '../shared/data/cars24_v3.xlsx';
const SEED_FIGURES = [
  { name: 'Python original: shipped XGBoost', r2: 0.854, mape: 0.162 },
  { name: 'Python original: best linear (Ridge)', r2: 0.875, mape: 0.196 },
];

async function main(): Promise<void> {
  if (!existsSync(DATA)) {
    console.log(`skipped: ${DATA} not found (run from the project root next to ../shared)`);
    return;
  }
  const algos = process.argv.slice(2).length ? process.argv.slice(2) : ['mean', 'linear', 'ridge', 'lasso'];
  const params = loadParams({ path: 'params.yaml' });
  console.log(`dataset ${DATA}, seeded ${params.data_ingestion.test_size * 100}% test split (seed ${params.data_ingestion.random_state})`);
  console.log('model'.padEnd(40), 'R2'.padStart(7), 'RMSE'.padStart(10), 'MAPE'.padStart(7), 'MedAPE'.padStart(7), 'within10'.padStart(9), 'train s'.padStart(8));
  for (const algo of algos) {
    const r = await train({ params, train: DATA, algo });
    const m = r.metrics;
    console.log(
      `carprice ${algo}`.padEnd(40),
      m.r2.toFixed(4).padStart(7),
      m.rmse.toFixed(0).padStart(10),
      (100 * m.mape).toFixed(1).padStart(6) + '%',
      (100 * m.medape).toFixed(1).padStart(6) + '%',
      (100 * m.within10).toFixed(1).padStart(8) + '%',
      r.seconds.toFixed(2).padStart(8),
    );
  }
  for (const s of SEED_FIGURES) console.log(s.name.padEnd(40), s.r2.toFixed(3).padStart(7), '-'.padStart(10), (100 * s.mape).toFixed(1).padStart(6) + '%');
}

await main();
