/**
 * `carprice up` end to end on a temp project (the repo's dvc.yaml, the repo's params.yaml
 * pointing at generated listings): it reproduces the pipeline, tests the Staging version and
 * promotes it, so the fresh clone ends with a Production model behind alias champion (the
 * registry says so, with the test report and the promotion's tags), and serves it; a
 * second run reproduces nothing, has nothing to release and serves the same version.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFixtureCsv } from '../fixtures/listings.js';
import { listings, startServe } from '../helpers/serving.js';
import { TrackingClient } from '../../src/tracking/client.js';
import { TEST_TAGS } from '../../src/jobs/model-test.js';
import { PROMOTION_TAGS } from '../../src/jobs/promotion.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

function project(): string {
  const dir = mkdtempSync(join(tmpdir(), 'carprice-up-'));
  mkdirSync(join(dir, 'data'));
  mkdirSync(join(dir, '.dvc'));
  writeFileSync(join(dir, '.dvc', 'config'), '');
  writeFixtureCsv(join(dir, 'data', 'listings.csv'), { n: 300, seed: 11 });
  writeFileSync(
    join(dir, 'dvc.yaml'),
    readFileSync(join(root, 'dvc.yaml'), 'utf8').replace('data/cars24_v3.xlsx', 'data/listings.csv'),
  );
  const params = readFileSync(join(root, 'params.yaml'), 'utf8')
    .replace('raw_data: data/cars24_v3.xlsx', 'raw_data: data/listings.csv')
    .replace(/^ {2}algo: \w+$/m, '  algo: ridge')
    .replace(/optional_cols: \[[^\]]*\]/s, 'optional_cols: [AlloyWheels, Bluetooth, Sunroof/Moonroof]');
  writeFileSync(join(dir, 'params.yaml'), params + '\nserving:\n  log_requests: false\n');
  return dir;
}

test('carprice up: pipeline, model test and promotion to Production (champion), then the API serves it; a second run reproduces nothing', async (t) => {
  const dir = project();
  const env = { CI: 'true' };
  try {
    const first = await startServe(['up', '--host', '127.0.0.1', '--port', '0'], dir, env, 300_000);
    let version: string;
    try {
      assert.match(first.stdout(), /pipeline up to date in .* model UsedCarPriceModel v1/);
      // the fresh clone ends with a Production model: the pipeline registered v1 in
      // Staging, its model test passed, and it was promoted (Production + champion)
      assert.match(first.stdout(), /registry: v1 -> Staging/);
      assert.match(first.stderr(), /model test: UsedCarPriceModel v1 passed/);
      assert.match(first.stdout(), /release: v1 -> Production \(alias champion\)/);
      assert.match(first.stderr(), /serving models:\/UsedCarPriceModel@champion\n/);
      const m = (await (await fetch(first.url + '/model')).json()) as {
        name: string;
        version: string;
        stage: string;
        aliases: string[];
      };
      assert.deepEqual([m.name, m.version, m.stage, m.aliases], ['UsedCarPriceModel', '1', 'Production', ['champion']]);
      version = m.version;
      const r = await fetch(first.url + '/predict', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(listings(1)[0]),
      });
      assert.equal(r.status, 200);
      assert.ok(((await r.json()) as { predicted_price: number }).predicted_price > 0);
      // the web dashboard rides along at /ui, reading the same store and pipeline
      assert.match(first.stdout(), /dashboard at http:\/\/127\.0\.0\.1:\d+\/ui\//);
      const ui = await fetch(first.url + '/ui/');
      assert.equal(ui.status, 200);
      assert.match(await ui.text(), /<script type="module" src="\/ui\/assets\/app\.js/);
      const models = (await (await fetch(first.url + '/ui/api/models')).json()) as { models: Array<{ name: string }> };
      assert.deepEqual(
        models.models.map((x) => x.name),
        ['UsedCarPriceModel'],
      );
      const pipe = (await (await fetch(first.url + '/ui/api/pipeline')).json()) as { stages: Array<{ state: string }> };
      assert.ok(
        pipe.stages.length >= 4 && pipe.stages.every((s) => s.state === 'up to date'),
        JSON.stringify(pipe.stages),
      );
    } finally {
      first.child.kill('SIGTERM');
      assert.equal(await first.exited, 0);
    }
    // the registry itself: v1 in Production with alias champion, its passed test report and
    // the promotion's who/when/why as version tags
    const client = TrackingClient.open({ env: {}, cwd: dir });
    try {
      const v1 = await client.store.getModelVersion('UsedCarPriceModel', '1');
      assert.equal(v1.currentStage, 'Production');
      assert.deepEqual(v1.aliases, ['champion']);
      const tags = Object.fromEntries(v1.tags.map((x) => [x.key, x.value]));
      assert.equal(tags[TEST_TAGS.status], 'passed');
      assert.equal(tags[PROMOTION_TAGS.promotionReason], 'released by carprice start: passed its model test');
      assert.ok(tags[PROMOTION_TAGS.promotedBy] && tags[PROMOTION_TAGS.promotedAt], JSON.stringify(tags));
      assert.deepEqual((await client.store.getLatestVersions('UsedCarPriceModel', ['Staging'])).length, 0);
      const report = JSON.parse(
        readFileSync(join(dir, 'artifacts/model_test/UsedCarPriceModel-v1/report.json'), 'utf8'),
      ) as { passed: boolean; model: { version: string } };
      assert.deepEqual([report.passed, report.model.version], [true, '1']);
    } finally {
      await client.close();
    }
    const t0 = performance.now();
    const second = await startServe(['up', '--host', '127.0.0.1', '--port', '0'], dir, env, 120_000);
    // a figure, not a timed assertion (the machine may be shared): the "about a second"
    t.diagnostic(
      `second run serving after ${((performance.now() - t0) / 1000).toFixed(2)} s (load ${loadavg()[0].toFixed(1)})`,
    );
    try {
      assert.doesNotMatch(second.stderr(), /Running stage/, 'nothing is reproduced the second time');
      // nothing new to release: the champion is served again
      assert.match(second.stdout(), /release: no UsedCarPriceModel version in Staging: nothing to release/);
      assert.match(second.stderr(), /serving models:\/UsedCarPriceModel@champion\n/);
      const m = (await (await fetch(second.url + '/model')).json()) as { version: string; stage: string };
      assert.deepEqual([m.version, m.stage], [version, 'Production']);
    } finally {
      second.child.kill('SIGTERM');
      assert.equal(await second.exited, 0);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
