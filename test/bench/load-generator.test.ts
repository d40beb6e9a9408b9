import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { fixedRate } from '../../bench/load-generator.js';

test('fixedRate: the warm-up seconds are sent but not counted; latencies kept on request; its own CPU measured', async () => {
  let served = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      served++;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const { port } = server.address() as AddressInfo;
    const r = await fixedRate({
      host: '127.0.0.1',
      port,
      bodies: ['{"a":1}'],
      rate: 200,
      durationS: 0.5,
      warmupS: 0.25,
      keepLatencies: true,
    });
    // 50 warm-up requests + 100 counted were due; every counted one is answered or an error
    assert.equal(r.total + r.errors, 100, JSON.stringify(r));
    assert.ok(r.total >= 95, `answered ${r.total}`);
    assert.ok(served >= 50 + r.total, `served ${served}, counted ${r.total}`);
    assert.equal(r.non2xx, 0);
    assert.equal(r.latencies?.length, r.total);
    assert.ok((r.latencies ?? []).every((x) => x > 0 && x < 1000));
    assert.ok(r.p99 >= r.p50);
    assert.ok(r.rps > 150 && r.rps < 250, `rps ${r.rps}`);
    assert.ok((r.generatorCpuS ?? -1) >= 0);
    const plain = await fixedRate({ host: '127.0.0.1', port, bodies: ['{}'], rate: 200, durationS: 0.2 });
    assert.equal(plain.total + plain.errors, 40);
    assert.equal(plain.latencies, undefined);
  } finally {
    server.close();
  }
});
