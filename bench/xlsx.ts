/**
 * bench/xlsx: `carprice predict --data` on a big workbook (.xlsx), streamed (issue 11:
 * chunks in, prices out, constant memory however large the file), measured as a user runs
 * it: whole processes, wall and CPU time and peak RSS (/usr/bin/time), listings per second.
 *
 * The workbook: `carprice data synth --rows N` from the real dataset's train split (the
 * seed's jittered resampling), written as .xlsx by exceljs's streaming writer with shared
 * strings (as Excel stores text), plus a workbook of N/4 of those rows to show memory flat.
 * The model: the default (params.yaml) trained on the train split.
 *
 * Beside it, in the same run:
 *   - the same listings as a CSV through `carprice predict` (one thread): the CSV path;
 *   - the streaming reader alone (no model: read and map every cell), in a child process;
 *   - the whole-workbook reader (exceljs Workbook.xlsx.load, what `predict` did before,
 *     data/xlsx.ts parseXlsx) reading the same file, alone, in a child process: a lower
 *     bound of the old predict's time and memory, which also refused any workbook over its
 *     whole-file limit (1/256 of RAM / 10) unless CARPRICE_MAX_INPUT_MB was raised.
 *
 * Usage (from the project root, after `npm run build`):
 *   node dist/bench/xlsx.js [--rows 200000] [--dir DIR] [--keep] [--skip-whole]
 * The machine's load average is printed with every figure: on a shared machine compare the
 * ratios of one run.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import ExcelJS from 'exceljs';
import { loadParams } from '../src/config/params.js';
import { readCsvChunks } from '../src/data/csv-stream.js';
import { carprice, CLI, loadAverage, mb, timed, type Timed } from './process-timing.js';
import { WORK_DIR_OPTIONS, benchArgs, runBench, wholeNumber } from './bench-args.js';

const DATA = '../shared/data/cars24_v3.xlsx';

const args = benchArgs({
  name: 'xlsx',
  summary: '`carprice predict --data` on a big workbook, streamed: wall, CPU, peak RSS, listings/s',
  options: {
    rows: {
      type: 'string',
      value: 'N',
      default: '200000',
      help: 'listings in the big workbook',
      check: wholeNumber(100),
    },
    ...WORK_DIR_OPTIONS,
    'skip-whole': { type: 'boolean', help: 'skip the whole-workbook reader (the old path)' },
  },
});
const rows = args.number('rows')!;
const dir = args.string('dir') ?? mkdtempSync(join(tmpdir(), 'carprice-bench-xlsx-'));
mkdirSync(dir, { recursive: true });
const load = loadAverage;

/** A child node process running a module snippet against the built reader (prints JSON). */
function nodeScript(code: string): Timed {
  return timed([process.execPath, '--max-old-space-size=16384', '--input-type=module', '-e', code]);
}

const perSecond = (n: number, s: number) => Math.round(n / s).toLocaleString('en');

/** The CSV's listings as an .xlsx written by exceljs's streaming writer (shared strings, numbers as numbers). */
async function csvToXlsx(csv: string, out: string, numeric: Set<string>, limit = Infinity): Promise<number> {
  const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: out, useSharedStrings: true, useStyles: false });
  const ws = wb.addWorksheet('Listings');
  let n = 0;
  let header = false;
  for await (const c of readCsvChunks(csv, { chunkRows: 5000 })) {
    if (!header) {
      ws.addRow(c.columns).commit();
      header = true;
    }
    const isNum = c.columns.map((h) => numeric.has(h));
    for (const r of c.rows) {
      if (n >= limit) break;
      ws.addRow(
        r.map((v, j) => (typeof v === 'string' && isNum[j] && /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v)),
      ).commit();
      n++;
    }
  }
  ws.commit();
  await wb.commit();
  return n;
}

async function main(): Promise<void> {
  if (!existsSync(DATA)) {
    console.log(`skipped: ${DATA} not found (run from the project root next to ../shared)`);
    return;
  }
  if (!existsSync(CLI)) throw new Error(`${CLI} not found: run npm run build first`);
  console.log(
    `bench/xlsx in ${dir}; ${cpus().length} CPUs, ${(totalmem() / 2 ** 30).toFixed(0)} GB RAM, load average ${load()} (shared machine: compare ratios)`,
  );
  const params = loadParams({ path: 'params.yaml' });
  const numeric = new Set([
    ...params.data_ingestion.numerical_cols,
    ...params.data_ingestion.optional_cols,
    params.base.target_col,
  ]);

  const ingest = join(dir, 'ingest');
  const train = join(ingest, 'train.csv');
  if (!existsSync(train)) carprice(['data', 'ingest', '--source', DATA, '--out', ingest]);
  const model = join(dir, 'model-default');
  if (!existsSync(join(model, 'bundle.json'))) {
    const t = carprice(['train', '--train', train, '--test', join(ingest, 'test.csv'), '--out', model]);
    console.log(`  default model trained on the train split: ${t.wall.toFixed(1)} s`);
  }
  const csv = join(dir, `listings-${rows}.csv`);
  if (!existsSync(csv)) carprice(['data', 'synth', '--rows', String(rows), '--source', train, '--out', csv]);
  const quarter = Math.floor(rows / 4);
  const big = join(dir, `listings-${rows}.xlsx`);
  const small = join(dir, `listings-${quarter}.xlsx`);
  if (!existsSync(big)) {
    const t0 = performance.now();
    await csvToXlsx(csv, big, numeric);
    await csvToXlsx(csv, small, numeric, quarter);
    console.log(
      `  ${rows.toLocaleString('en')} listings written as .xlsx (and ${quarter.toLocaleString('en')}): ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
  }
  const size = (p: string) => `${(statSync(p).size / 2 ** 20).toFixed(1)} MB`;
  console.log(
    `\n${rows.toLocaleString('en')} listings: .xlsx ${size(big)}, .csv ${size(csv)}; model ${model}; one thread (CARPRICE_THREADS=1)`,
  );
  console.log('| what | file | rows | wall (CPU) | listings/s wall | peak RSS | load average (before -> after) |');
  console.log('|---|---|---|---|---|---|---|');
  const line = (what: string, file: string, n: number, r: Timed) =>
    console.log(
      `| ${what} | ${file} | ${n.toLocaleString('en')} | ${r.wall.toFixed(1)} s (${r.cpu === null ? 'CPU n/a' : `${r.cpu.toFixed(1)} s CPU`}) | ${perSecond(n, r.wall)} | ${mb(r.peakMb)} | ${r.load} |`,
    );
  const out = join(dir, 'preds.csv');
  const env = { CARPRICE_THREADS: '1' };
  const predictBig = carprice(['predict', '--model', model, '--data', big, '--out', out], env);
  line('carprice predict, streamed .xlsx', `.xlsx ${size(big)}`, rows, predictBig);
  const predictSmall = carprice(['predict', '--model', model, '--data', small, '--out', out], env);
  line('carprice predict, streamed .xlsx', `.xlsx ${size(small)}`, quarter, predictSmall);
  const predictCsv = carprice(['predict', '--model', model, '--data', csv, '--out', out], env);
  line('carprice predict, .csv (anchor: the CSV path)', `.csv ${size(csv)}`, rows, predictCsv);
  const dist = resolve('dist/src/data');
  const streamOnly = nodeScript(
    `import { readXlsxChunks } from '${dist}/xlsx-stream.js'; let n = 0; for await (const c of readXlsxChunks(${JSON.stringify(big)})) n += c.rows.length; console.log(JSON.stringify({ rows: n }));`,
  );
  if (streamOnly.code !== 0) throw new Error(`the streaming reader failed: ${streamOnly.stderr}`);
  line('streaming reader alone (xlsx-stream.ts)', `.xlsx ${size(big)}`, rows, streamOnly);
  let whole: Timed | undefined;
  if (!args.flag('skip-whole')) {
    whole = nodeScript(
      `import { readFileSync } from 'node:fs'; import { parseXlsx } from '${dist}/xlsx.js'; const t = await parseXlsx(readFileSync(${JSON.stringify(big)}), 'big'); console.log(JSON.stringify({ rows: t.rows.length }));`,
    );
    if (whole.code === 0)
      line('anchor: whole-workbook reader alone (exceljs load, the old path)', `.xlsx ${size(big)}`, rows, whole);
    else
      console.log(
        `| anchor: whole-workbook reader | .xlsx ${size(big)} | ${rows} | failed (exit ${whole.code}): ${whole.stderr.trim().split('\n').pop()} | | | ${whole.load} |`,
      );
  }
  console.log(`\nFigures (load average now ${load()}):`);
  if (predictBig.peakMb && predictSmall.peakMb)
    console.log(
      `  predict peak RSS, ${rows.toLocaleString('en')} / ${quarter.toLocaleString('en')} rows: ${(predictBig.peakMb / predictSmall.peakMb).toFixed(2)} (flat = ~1; 4x the rows)`,
    );
  if (whole?.code === 0 && whole.peakMb && predictBig.peakMb && streamOnly.peakMb) {
    console.log(
      `  peak RSS, whole-workbook reader alone / streamed predict: ${(whole.peakMb / predictBig.peakMb).toFixed(1)}x`,
    );
    console.log(
      `  reading alone, whole-workbook / streaming: time ${(whole.wall / streamOnly.wall).toFixed(2)}x, peak RSS ${(whole.peakMb / streamOnly.peakMb).toFixed(1)}x`,
    );
  }
  console.log(
    `  predict .xlsx / .csv wall: ${(predictBig.wall / predictCsv.wall).toFixed(1)}x (an .xlsx is XML to parse: the reader sets the pace)`,
  );
  if (!args.flag('keep') && !args.string('dir')) rmSync(dir, { recursive: true, force: true });
}

runBench('xlsx', main);
