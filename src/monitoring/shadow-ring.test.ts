import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  addTally,
  createShadowRing,
  decodeRecords,
  readTally,
  ShadowRingReader,
  ShadowRingWriter,
} from './shadow-ring.js';

const listing = (i: number) => JSON.stringify([{ make: 'Maruti', model: 'Swift', odometer: i, variant: 'VXI ₹ é 🚗' }]);

test('records come back in order with their id, route, time, count and text (UTF-8 kept)', () => {
  const ring = createShadowRing(1);
  const w = new ShadowRingWriter(ring);
  const r = new ShadowRingReader(ring);
  assert.deepEqual(r.take(), []);
  for (let i = 0; i < 10; i++)
    assert.equal(w.append(`req-${i}`, '/predict', 1_700_000_000_000 + i, 1, listing(i)), true);
  const got = r.take();
  assert.equal(got.length, 10);
  got.forEach((g, i) => {
    assert.deepEqual(g, {
      requestId: `req-${i}`,
      route: '/predict',
      ts: 1_700_000_000_000 + i,
      listings: 1,
      json: listing(i),
      shape: 'array',
    });
    assert.deepEqual(JSON.parse(g.json), JSON.parse(listing(i)));
  });
  assert.equal(w.used, 0);
});

test('the ring wraps around its end many times over and refuses a record when full', () => {
  const ring = createShadowRing(1); // 64 KiB
  const w = new ShadowRingWriter(ring);
  const r = new ShadowRingReader(ring);
  let next = 0;
  let seen = 0;
  // 200 rounds of ~90 records of ~150 bytes: ~2.7 MB through 64 KiB, every split position
  for (let round = 0; round < 200; round++) {
    const k = 50 + (round % 40);
    for (let j = 0; j < k; j++) assert.equal(w.append(`id${next}`, '/predict/batch', next, 2, listing(next++)), true);
    for (const g of r.take()) {
      assert.equal(g.requestId, `id${seen}`);
      assert.equal(g.json, listing(seen));
      assert.equal(g.listings, 2);
      seen++;
    }
  }
  assert.equal(seen, next);
  // fill it: appends fail once there is no room, and nothing half-written is read back
  let n = 0;
  while (w.append(`f${n}`, '/predict', n, 1, listing(n))) n++;
  assert.ok(n > 300 && n < 600, `${n} records of ~160 bytes in 64 KiB`);
  const all = r.take();
  assert.equal(all.length, n);
  assert.equal(all[n - 1].json, listing(n - 1));
  assert.equal(w.append('again', '/predict', 0, 1, listing(0)), true);
});

test('a record larger than the scratch buffer is written whole; one larger than the ring is refused', () => {
  const ring = createShadowRing(1);
  const w = new ShadowRingWriter(ring);
  const r = new ShadowRingReader(ring);
  const big = JSON.stringify(Array.from({ length: 200 }, (_, i) => ({ odometer: i, make: 'Hyundai' })));
  assert.equal(w.append('big', '/predict/batch', 1, 200, big), true);
  assert.equal(r.take()[0].json, big);
  assert.equal(w.append('huge', '/predict/batch', 1, 1, 'x'.repeat(70_000)), false);
  assert.equal(w.append('x'.repeat(300), '/predict', 1, 1, '[]'), false);
});

test('the reader sees the records written from another thread', async () => {
  const { Worker } = await import('node:worker_threads');
  const ring = createShadowRing(1);
  const url = new URL('./shadow-ring.js', import.meta.url).href;
  const w = new Worker(
    `import('${url}').then(({ ShadowRingWriter }) => {
       const { workerData, parentPort } = require('node:worker_threads');
       const w = new ShadowRingWriter(workerData);
       let i = 0;
       const tick = () => { while (i < 5000 && w.append('r' + i, '/predict', i, 1, JSON.stringify([{ i }]))) i++; if (i < 5000) setImmediate(tick); else parentPort.postMessage('done'); };
       tick();
     });`,
    { eval: true, workerData: ring },
  );
  const r = new ShadowRingReader(ring);
  let seen = 0;
  let done = false;
  w.on('message', () => (done = true));
  while (!done || seen < 5000) {
    for (const g of r.take()) {
      assert.equal(g.requestId, `r${seen}`);
      assert.deepEqual(JSON.parse(g.json), [{ i: seen }]);
      seen++;
    }
    await new Promise((res) => setImmediate(res));
  }
  assert.equal(seen, 5000);
  await w.terminate();
});

test("takeBytes hands over whole records (the child process's pipe), as many as fit the limit; decodeRecords reads them back and leaves a cut-off record", () => {
  const ring = createShadowRing(1); // 64 KiB
  const w = new ShadowRingWriter(ring);
  const r = new ShadowRingReader(ring);
  assert.equal(r.takeBytes(), null);
  let next = 0;
  let seen = 0;
  // many rounds through the ring's end: records split by the wrap come out whole
  for (let round = 0; round < 120; round++) {
    for (let j = 0; j < 40 + (round % 30); j++)
      assert.equal(w.append(`id${next}`, '/predict', next, 1, listing(next++)), true);
    for (;;) {
      const bytes = r.takeBytes(1000);
      if (!bytes) break;
      const { items, used } = decodeRecords(bytes);
      assert.equal(used, bytes.length);
      assert.ok(items.length >= 1);
      assert.ok(bytes.length <= 1000 || items.length === 1, `${bytes.length} bytes in ${items.length} records`);
      for (const g of items) {
        assert.equal(g.requestId, `id${seen}`);
        assert.deepEqual(JSON.parse(g.json), JSON.parse(listing(seen++)));
      }
    }
  }
  assert.equal(seen, next);
  assert.equal(w.used, 0);
  // a stream cut inside a record: the whole ones before it, and where the cut one starts
  for (let i = 0; i < 3; i++) w.append(`c${i}`, '/predict', i, 1, listing(i));
  const all = r.takeBytes()!;
  const first = decodeRecords(all);
  assert.equal(first.items.length, 3);
  const cut = decodeRecords(all.subarray(0, all.length - 5));
  assert.deepEqual(cut.items, first.items.slice(0, 2));
  assert.equal(decodeRecords(all.subarray(cut.used)).items.length, 1);
});

test("a record keeps what its JSON holds (a body's one listing, a batch body, an array); the challenger's tally adds up batch by batch, read without a message", async () => {
  const ring = createShadowRing(1);
  const w = new ShadowRingWriter(ring);
  const r = new ShadowRingReader(ring);
  w.append('a', '/predict', 1, 1, '{"make":"Kia"}', 'listing');
  w.append('b', '/predict/batch', 2, 2, '{"listings":[{"make":"Kia"},{"make":"Tata"}]}', 'batch');
  w.append('c', '/predict/batch', 3, 1, '[{"make":"Kia"}]');
  assert.deepEqual(
    r.take().map((g) => [g.requestId, g.shape, g.json]),
    [
      ['a', 'listing', '{"make":"Kia"}'],
      ['b', 'batch', '{"listings":[{"make":"Kia"},{"make":"Tata"}]}'],
      ['c', 'array', '[{"make":"Kia"}]'],
    ],
  );
  assert.equal(w.done(), 0);
  assert.deepEqual(readTally(w.ctl), { listings: 0, ok: 0, failed: 0, logged: 0, notLogged: 0, batches: 0 });
  // from another thread, as the challenger's thread (or its relay) adds them
  const { Worker } = await import('node:worker_threads');
  const url = new URL('./shadow-ring.js', import.meta.url).href;
  const t = new Worker(
    `import('${url}').then(({ addTally }) => {
       const { workerData, parentPort } = require('node:worker_threads');
       for (let i = 0; i < 1000; i++) addTally(workerData, { listings: 3, ok: 2, failed: 1, logged: 3, notLogged: 0 });
       parentPort.postMessage('done');
     });`,
    { eval: true, workerData: ring },
  );
  await new Promise((res) => t.once('message', res));
  await t.terminate();
  addTally(ring, { listings: 1, ok: 0, failed: 1, logged: 0, notLogged: 1 });
  assert.equal(w.done(), 3001);
  assert.deepEqual(readTally(w.ctl), {
    listings: 3001,
    ok: 2000,
    failed: 1001,
    logged: 3000,
    notLogged: 1,
    batches: 1001,
  });
});
