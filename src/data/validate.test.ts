/** Tests of listing validation: bad cells with row/column/value, missing columns, limits. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AppError } from '../core/errors.js';
import { parseCsv } from './csv.js';
import { buildListingSchema } from './listing-schema.js';
import { describeReport, ListingAccumulator, validateListings } from './validate.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { readCsvChunks } from './csv-stream.js';
import { readCsvColumnChunks } from './csv-columns.js';

const HEADER = 'odometer,fitnessAge,featureCount,make,model,variant,year,transmissionType,bodyType,fuelType,ownership,color,AlloyWheels,listingPrice';
const good = (odo: string | number, price: string | number, color = 'White', alloy = '1') =>
  `${odo},10,30,Maruti,SWIFT,VXI,2019,Manual,Hatchback,Petrol,1,${color},${alloy},${price}`;

// file lines: header is line 1
const LINES = [
  HEADER, // 1
  good(50000, 500000), // 2
  good('abc', 510000), // 3  odometer not a number
  good('"12,500"', 520000), // 4  thousands separator accepted
  good(40000, ''), // 5  missing price
  good(30000, 530000, ''), // 6  missing color: kept (imputed later)
  good(-1, 540000), // 7  negative odometer
  good(50000, 500000), // 8  exact duplicate of line 2
  good(20000, 0), // 9  price must be positive
  good(10000, 550000, 'Red', 'x'), // 10 optional numeric column not a number
  good(15000, 560000), // 11
];

const schema = buildListingSchema({ optionalNumeric: ['AlloyWheels', 'Sunroof/Moonroof'] });

test('bad cells are reported with file line, column, value and reason; their rows dropped', () => {
  const t = parseCsv(LINES.join('\n') + '\n', 'cars.csv');
  const v = validateListings(t, schema, { maxInvalidFraction: 0.6 });
  assert.deepEqual(v.report.badCells, [
    { row: 3, column: 'odometer', value: 'abc', reason: 'not a number' },
    { row: 7, column: 'odometer', value: '-1', reason: 'below 0' },
    { row: 10, column: 'AlloyWheels', value: 'x', reason: 'not a number' },
    { row: 5, column: 'listingPrice', value: null, reason: 'missing price' },
    { row: 9, column: 'listingPrice', value: '0', reason: 'price must be positive' },
  ]);
  assert.equal(v.report.rowsRead, 10);
  assert.equal(v.report.duplicatesDropped, 1);
  assert.equal(v.report.invalidRowsDropped, 5);
  assert.equal(v.report.rowsKept, 4);
  assert.deepEqual(v.report.missingOptional, ['Sunroof/Moonroof']);
  assert.deepEqual(v.schema.optionalNumeric, ['AlloyWheels'], 'the optional column the file lacks is skipped');
  assert.deepEqual(v.rowNumbers, [2, 4, 6, 11]);
  assert.deepEqual(Array.from(v.frame.numeric.odometer), [50000, 12500, 30000, 15000]);
  assert.deepEqual(Array.from(v.y!), [500000, 520000, 530000, 560000]);
  assert.deepEqual(v.frame.categorical.color, ['White', 'White', null, 'White']);
  assert.deepEqual(v.frame.categorical.year, ['2019', '2019', '2019', '2019']);
  assert.deepEqual(Object.keys(v.frame.numeric), ['odometer', 'fitnessAge', 'featureCount', 'AlloyWheels']);
  const text = describeReport(v.report);
  assert.match(text, /^cars\.csv: 10 rows read, 1 exact duplicates dropped, 5 invalid rows dropped, 4 kept\n/);
  assert.match(text, /dropped row 3: odometer = "abc" \(not a number\)/);
  assert.match(text, /optional columns absent \(skipped\): Sunroof\/Moonroof/);
});

test('more invalid rows than max_invalid_fraction is DATA_INVALID listing them', () => {
  const t = parseCsv(LINES.join('\n') + '\n', 'cars.csv');
  try {
    validateListings(t, schema);
    assert.fail('should throw');
  } catch (e) {
    assert.ok(e instanceof AppError);
    assert.equal(e.code, 'DATA_INVALID');
    const lines = e.message.split('\n');
    // 5 of the 9 de-duplicated rows = 55.6% > 5.0%
    assert.equal(lines[0], 'cars.csv: 5 of 9 rows (55.6%) have invalid cells, more than the 5.0% allowed; fix them or raise data_ingestion.max_invalid_fraction:');
    assert.equal(lines[1], '  row 3, odometer: "abc" (not a number)');
    assert.equal(lines.length, 6);
  }
});

test('a missing required column is DATA_INVALID naming it, with a rename hint for a near match', () => {
  const t = parseCsv(HEADER.replace('odometer', 'Odometer').replace(',fuelType', '') + '\n', 'x.csv');
  try {
    validateListings(t, schema);
    assert.fail('should throw');
  } catch (e) {
    assert.ok(e instanceof AppError);
    assert.equal(e.code, 'DATA_INVALID');
    assert.match(e.message, /^x\.csv is missing required column\(s\): odometer \(the file has "Odometer": rename it\), fuelType; the header \(first line\) must name each\. Columns found: Odometer,/);
    assert.deepEqual(e.details?.missing, ['odometer', 'fuelType']);
  }
});

test('a column the model reads, named twice, is DATA_INVALID naming both positions (the first one used to win silently)', () => {
  const t = parseCsv([`${HEADER},year`, `${good(5000, 400000)},1999`].join('\n') + '\n', 'dup.csv');
  assert.throws(
    () => validateListings(t, schema),
    (e: unknown) =>
      e instanceof AppError &&
      e.code === 'DATA_INVALID' &&
      e.message === 'dup.csv names year (columns 7 and 15) more than once; keep one column of each name',
  );
  // a repeated column the model does not read is left alone
  const other = parseCsv([`${HEADER},note,note`, `${good(5000, 400000)},a,b`].join('\n') + '\n', 'notes.csv');
  assert.equal(validateListings(other, schema).frame.nRows, 1);
});

test('a header read as one column holding semicolons or tabs says how the file was saved', () => {
  for (const [sep, word] of [
    [';', 'semicolons'],
    ['\t', 'tabs'],
  ]) {
    const t = parseCsv([HEADER.replaceAll(',', sep), good(5000, 400000).replaceAll(',', sep)].join('\n') + '\n', 's.csv');
    assert.throws(
      () => validateListings(t, schema),
      (e: unknown) =>
        e instanceof AppError &&
        e.code === 'DATA_INVALID' &&
        e.message.endsWith(`. The header is one column holding ${word}: save the file as CSV separated by commas`),
      word,
    );
  }
});

test('a header without rows is DATA_EMPTY; all rows invalid under the limit is DATA_EMPTY', () => {
  assert.throws(() => validateListings(parseCsv(HEADER + '\n', 'h.csv'), schema), (e: unknown) => e instanceof AppError && e.code === 'DATA_EMPTY' && e.message === 'h.csv has a header but no listings');
  const allBad = parseCsv([HEADER, good('a', 1), good('b', 1)].join('\n'), 'b.csv');
  assert.throws(() => validateListings(allBad, schema, { maxInvalidFraction: 1 }), (e: unknown) => e instanceof AppError && e.code === 'DATA_EMPTY');
});

test('duplicates are kept when dropDuplicates is false; the target is optional for prediction input', () => {
  const t = parseCsv([HEADER, good(1, 2), good(1, 2)].join('\n'), 'd.csv');
  assert.equal(validateListings(t, schema, { dropDuplicates: false }).frame.nRows, 2);
  const noTarget = parseCsv([HEADER.replace(',listingPrice', ''), good(1, 2).replace(/,2$/, '')].join('\n'), 'p.csv');
  const v = validateListings(noTarget, schema, { requireTarget: false });
  assert.equal(v.y, undefined);
  assert.equal(v.frame.nRows, 1);
  assert.throws(() => validateListings(noTarget, schema), (e: unknown) => e instanceof AppError && /missing required column\(s\): listingPrice/.test(e.message));
});

test('xlsx-typed cells: numbers stay numbers, booleans count as 0/1, numeric years become category strings', () => {
  const cols = HEADER.split(',');
  const row = [52000, 9, 20, 'Honda', 'CITY', 'V', 2018, 'Manual', 'Sedan', 'Petrol', 2, null, true, 900000];
  const v = validateListings({ source: 's.xlsx', sheet: 'S', columns: cols, rows: [row], rowNumbers: [2] }, schema);
  assert.equal(v.frame.numeric.AlloyWheels[0], 1);
  assert.equal(v.frame.categorical.year[0], '2018');
  assert.equal(v.frame.categorical.ownership[0], '2');
  assert.equal(v.y![0], 900000);
});

test('a CSV read columnar (addColumns) keeps, drops and reports exactly what its rows do (add)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'carprice-columnar-'));
  try {
    const lines = [
      ...LINES,
      good(50000, 500000), // duplicate of line 2 again
      good('abc', 510000), // duplicate of a bad row: dropped as a duplicate, not reported again
      `"50000",10,30,Maruti,SWIFT,VXI,2019,Manual,Hatchback,Petrol,1,White,1,500000`, // quoted: same cells as line 2
      `70000,10,30,Maruti, SWIFT ,"VXI, AMT",2019,Manual,Hatchback,Petrol,1,White,,610000`,
      good(1e9, 620000), // outside the plausible odometer range
      good(80000, 630000, 'Blue', '0'),
    ];
    const path = join(dir, 'cars.csv');
    writeFileSync(path, lines.join('\r\n') + '\r\n');
    const opts = { maxInvalidFraction: 0.6, ranges: { odometer: { min: 0, max: 1e7 } } };
    const rows = new ListingAccumulator(schema, opts);
    for await (const c of readCsvChunks(path, { chunkRows: 3 })) rows.add(c.columns, c.rows, c.rowNumbers, { source: path });
    // tiny chunks: duplicates and bad rows fall in other chunks than their first occurrence
    const cols = new ListingAccumulator(schema, opts);
    for await (const c of readCsvColumnChunks(path, { chunkBytes: 150, readBytes: 97 })) cols.addColumns(c, { source: path });
    const a = rows.finish();
    const b = cols.finish();
    assert.deepEqual(b, a);
    assert.equal(a.report.duplicatesDropped, 4);
    assert.ok(a.report.badCells.some((c) => c.column === 'odometer' && c.value === '1000000000'));
    assert.ok(a.frame.categorical.variant.includes('VXI, AMT'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
