/**
 * `carprice models download` (what CI uses to bake the Production bundle into the image):
 * a version logged and registered in a real SQLite store comes back byte for byte through
 * the built CLI, by stage and by number; bad URIs and unknown versions fail clearly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/tracking/resolve-store.js';
import { TrackingClient } from '../../src/tracking/client.js';
import { runBuiltCli } from '../helpers/built-cli.js';

test(
  'models download copies a registered version into a directory, by stage or number',
  { timeout: 60_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'carprice-dl-'));
    const uri = `sqlite:///${join(dir, 'mlflow.db')}`;
    const bundle = join(dir, 'bundle');
    mkdirSync(bundle);
    writeFileSync(join(bundle, 'bundle.json'), '{"kind":"demo"}\n');
    writeFileSync(join(bundle, 'CARPRICE_BUNDLE'), 'demo\n');
    const t = openStore(uri, { env: {}, cwd: dir });
    try {
      const client = new TrackingClient({ store: t.store, artifacts: t.artifacts });
      const exp = await client.getOrCreateExperiment('dl');
      const run = await client.startRun({ experimentId: exp });
      const modelUri = await client.logModel(run.runId, bundle);
      const v = await client.registerModel('CarModel', modelUri);
      await client.transitionStage('CarModel', v.version, 'Production');
    } finally {
      await t.close();
    }
    const out = await runBuiltCli(
      ['models', 'download', 'models:/CarModel/Production', '--out', 'image-model', '--tracking-uri', uri],
      dir,
    );
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /CarModel version 1 \(Production\)/);
    assert.equal(readFileSync(join(dir, 'image-model', 'bundle.json'), 'utf8'), '{"kind":"demo"}\n');
    assert.equal(readFileSync(join(dir, 'image-model', 'CARPRICE_BUNDLE'), 'utf8'), 'demo\n');

    const missing = await runBuiltCli(
      ['models', 'download', 'models:/CarModel/7', '--out', 'x', '--tracking-uri', uri],
      dir,
    );
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /CarModel/);
    assert.doesNotMatch(missing.stderr, /\n\s+at /, 'no stack trace');
    const bad = await runBuiltCli(['models', 'download', 'CarModel', '--out', 'x'], dir);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /models:\/UsedCarPriceModel\/Production/);
    const noOut = await runBuiltCli(['models', 'download', 'models:/CarModel/1'], dir);
    assert.equal(noOut.code, 2);
    assert.match(noOut.stderr, /--out DIR/);
  },
);
