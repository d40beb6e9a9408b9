/**
 * Realized accuracy and the shadow comparison on a real log: sold prices (csv and xlsx,
 * keyed by request id or listing id) joined to logged predictions; MAPE and interval
 * coverage against values computed here from the same rows; the shadow report's agreement
 * and its verdict when the challenger is clearly worse (a mean model) or the same model.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { runBuiltCli } from '../helpers/built-cli.js';
import { startHttpFixture } from '../helpers/http-fixture.js';
import { recordsOf, referenceBundle } from '../helpers/monitoring.js';
import { asInput, generateListings } from '../fixtures/listings.js';
import { openLogDatabase, recordInserter } from '../../src/monitoring/log-store.js';
import { monitorFeedback } from '../../src/jobs/monitor-feedback.js';
import { monitorShadow } from '../../src/jobs/monitor-shadow.js';
import { parseParams } from '../../src/config/params.js';

const params = parseParams({});
const champion = referenceBundle({ n: 600, seed: 5 });
const weak = referenceBundle({ n: 600, seed: 5, algo: 'mean' });
const cars = generateListings({ n: 120, seed: 31 });
const T0 = Date.parse('2026-11-02T10:00:00Z'); // a Monday

function setup(challenger: typeof champion) {
  const dir = mkdtempSync(join(tmpdir(), 'carprice-feedback-'));
  const db = openLogDatabase(join(dir, 'log.db'));
  const inputs = cars.map(asInput);
  const champ = recordsOf(champion, inputs, T0);
  // half the cars a week later
  champ.forEach((r, i) => (r.ts = T0 + (i >= 60 ? 7 * 86_400_000 : 0) + i));
  const chall = recordsOf(challenger, inputs, T0).map((r, i) => ({
    ...r,
    ts: champ[i].ts,
    role: 'challenger' as const,
    modelName: 'challenger',
    modelVersion: '2',
  }));
  recordInserter(db)([...champ, ...chall]);
  db.close();
  return { dir, champ };
}

test('monitor feedback: realized MAPE and coverage overall, by week and by slice, from a csv keyed by request id', async () => {
  const { dir, champ } = setup(weak);
  try {
    // the first 80 cars sold at their true price; one unknown request; one bad row
    const lines = ['request_id,sold_price,sold_at'];
    for (let i = 0; i < 80; i++) lines.push(`${champ[i].requestId},${cars[i].listingPrice},2026-11-20`);
    lines.push('nope-123,500000,2026-11-20', `${champ[0].requestId},not-a-price,`);
    writeFileSync(join(dir, 'sold.csv'), lines.join('\n') + '\n');
    const r = await monitorFeedback({
      logPath: join(dir, 'log.db'),
      file: join(dir, 'sold.csv'),
      now: T0 + 30 * 86_400_000,
    });
    // expected values computed here from the same rows
    const ape = champ.slice(0, 80).map((c, i) => Math.abs(c.price! - cars[i].listingPrice) / cars[i].listingPrice);
    const covered = champ
      .slice(0, 80)
      .filter((c, i) => c.lower! <= cars[i].listingPrice && cars[i].listingPrice <= c.upper!);
    assert.equal(r.overall.n, 80);
    assert.ok(Math.abs(r.overall.mape - ape.reduce((a, b) => a + b, 0) / 80) < 1e-12);
    assert.equal(r.overall.coverage, covered.length / 80);
    assert.equal(r.intervalLevel, 0.9);
    assert.equal(r.file.imported, 81);
    assert.equal(r.file.unmatchedInFile, 1);
    assert.deepEqual(r.file.skipped, ['line 83: sold_price must be a positive number, got "not-a-price"']);
    assert.deepEqual(
      r.byPeriod.map((g) => [g.key, g.n]),
      [
        ['week of 2026-11-02', 60],
        ['week of 2026-11-09', 20],
      ],
    );
    assert.ok(r.bySlice.some((s) => s.column === 'make' && s.n >= 10));
    assert.ok(r.bySlice.some((s) => s.column === 'price band'));
    assert.deepEqual(
      r.byModel.map((g) => g.key),
      ['model v-'],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('monitor feedback (CLI): an xlsx keyed by listing id; a file without a key column is refused naming the fix', async () => {
  const { dir } = setup(weak);
  try {
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('sales');
    ws.addRow(['listing_id', 'Sold Price']);
    for (let i = 0; i < 30; i++) ws.addRow([`L${i}`, cars[i].listingPrice]);
    await wb.xlsx.writeFile(join(dir, 'sold.xlsx'));
    const r = await runBuiltCli(
      ['monitor', 'feedback', 'sold.xlsx', '--log', 'log.db', '--by', 'month', '--json'],
      dir,
    );
    assert.equal(r.code, 0, r.stderr);
    const rep = JSON.parse(r.stdout);
    assert.equal(rep.overall.n, 30);
    assert.deepEqual(
      rep.byPeriod.map((g: { key: string }) => g.key),
      ['2026-11'],
    );
    const text = await runBuiltCli(['monitor', 'feedback', 'sold.xlsx', '--log', 'log.db'], dir);
    assert.match(text.stdout, /realized accuracy over 30 sold listing\(s\)/);
    assert.match(text.stdout, /interval coverage \d+\.\d% \(nominal 90\.0%\)/);
    writeFileSync(join(dir, 'bad.csv'), 'car,sold_price\nx,1000\n');
    const bad = await runBuiltCli(['monitor', 'feedback', 'bad.csv', '--log', 'log.db'], dir);
    assert.equal(bad.code, 4);
    assert.match(bad.stderr, /has no key column: add request_id .* or listing_id/);
    // a mistyped --log used to be created empty, the sales stored there, unmatched, exit 0
    const typo = await runBuiltCli(['monitor', 'feedback', 'sold.xlsx', '--log', 'logg.db'], dir);
    assert.equal(typo.code, 4, typo.stdout);
    assert.match(
      typo.stderr,
      /^carprice: no prediction log at .*logg\.db, so no prediction to join the sales to; `carprice serve` writes it .*Nothing was imported\n$/,
    );
    assert.equal(existsSync(join(dir, 'logg.db')), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('monitor feedback (CLI) reads the sales file at an http(s) URL like a local one', async () => {
  const { dir, champ } = setup(weak);
  const lines = ['request_id,sold_price'];
  for (let i = 0; i < 20; i++) lines.push(`${champ[i].requestId},${cars[i].listingPrice}`);
  const http = await startHttpFixture((req, res) => {
    if (req.url === '/sales/sold.csv') res.writeHead(200, { 'content-type': 'text/csv' }).end(lines.join('\n') + '\n');
    else res.writeHead(404).end();
  });
  try {
    // the URL used to be joined to the working directory: "data file <cwd>/http:/127.0.0.1:..." not found
    const r = await runBuiltCli(
      ['monitor', 'feedback', `${http.base}/sales/sold.csv`, '--log', 'log.db', '--json'],
      dir,
    );
    assert.equal(r.code, 0, r.stderr);
    const rep = JSON.parse(r.stdout);
    assert.equal(rep.overall.n, 20);
    assert.equal(rep.file.path, `${http.base}/sales/sold.csv`);
    const missing = await runBuiltCli(['monitor', 'feedback', `${http.base}/sales/nope.csv`, '--log', 'log.db'], dir);
    assert.equal(missing.code, 6, missing.stderr);
    assert.match(
      missing.stderr,
      /^carprice: downloading http:\/\/127\.0\.0\.1:\d+\/sales\/nope\.csv failed with HTTP 404/,
    );
  } finally {
    await http.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('monitor shadow: agreement, and with feedback a bootstrap verdict (a mean-model challenger is worse)', async () => {
  const { dir, champ } = setup(weak);
  try {
    const lines = ['request_id,sold_price'];
    for (let i = 0; i < 100; i++) lines.push(`${champ[i].requestId},${cars[i].listingPrice}`);
    writeFileSync(join(dir, 'sold.csv'), lines.join('\n') + '\n');
    await monitorFeedback({ logPath: join(dir, 'log.db'), file: join(dir, 'sold.csv'), now: T0 });
    const r = monitorShadow({ logPath: join(dir, 'log.db'), params });
    assert.equal(r.pairs, 120);
    assert.deepEqual(r.challenger, ['challenger v2']);
    assert.ok(r.agreement!.within10 < 0.5, JSON.stringify(r.agreement));
    assert.equal(r.accuracy!.n, 100);
    assert.ok(r.accuracy!.challenger.mape > r.accuracy!.champion.mape);
    assert.equal(r.accuracy!.verdict, 'champion_better');
    assert.ok(r.accuracy!.difference!.lower > 0);
    const cli = await runBuiltCli(['monitor', 'shadow', '--log', 'log.db'], dir);
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, /120 request row\(s\) priced by both/);
    assert.match(cli.stdout, /verdict: the champion is more accurate/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const same = setup(champion);
  try {
    const r = monitorShadow({ logPath: join(same.dir, 'log.db'), params });
    assert.equal(r.agreement!.within5, 1);
    assert.equal(r.agreement!.medianAbsRelDiff, 0);
    assert.equal(r.accuracy, null);
  } finally {
    rmSync(same.dir, { recursive: true, force: true });
  }
});

test('monitor feedback: a repeated key is skipped naming both lines; prices in lakhs are refused before anything is stored', async () => {
  const { dir, champ } = setup(weak);
  try {
    const lines = ['request_id,sold_price'];
    for (let i = 0; i < 20; i++) lines.push(`${champ[i].requestId},${cars[i].listingPrice}`);
    lines.push(`${champ[3].requestId},${cars[3].listingPrice + 1000}`);
    writeFileSync(join(dir, 'sold.csv'), lines.join('\n') + '\n');
    const r = await monitorFeedback({ logPath: join(dir, 'log.db'), file: join(dir, 'sold.csv'), now: T0 });
    assert.equal(r.file.imported, 20);
    assert.deepEqual(r.file.skipped, [
      `line 22: the same request_id ${champ[3].requestId} row 0 as line 5; one sale per prediction, this line skipped`,
    ]);
    // the same sales written in lakhs (5.25 for 525,000): a unit, not a market
    const lakhs = ['request_id,sold_price'];
    for (let i = 20; i < 40; i++) lakhs.push(`${champ[i].requestId},${(cars[i].listingPrice / 100_000).toFixed(2)}`);
    writeFileSync(join(dir, 'lakhs.csv'), lakhs.join('\n') + '\n');
    await assert.rejects(
      monitorFeedback({ logPath: join(dir, 'log.db'), file: join(dir, 'lakhs.csv'), now: T0 }),
      (e: Error & { code?: string }) =>
        e.code === 'DATA_INVALID' &&
        /sold prices are a median \d+x below the logged predictions/.test(e.message) &&
        /not lakhs or thousands\)\. Nothing was imported/.test(e.message),
    );
    const db = openLogDatabase(join(dir, 'log.db'), { readonly: true });
    assert.equal((db.prepare('SELECT COUNT(*) AS n FROM feedback').get() as { n: number }).n, 20);
    db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
