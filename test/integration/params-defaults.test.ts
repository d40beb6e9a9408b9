/**
 * params.yaml is the single source of truth for defaults: an empty params file must give
 * exactly the shipped params.yaml, except the keys the shipped file declares tuned
 * (model_trainer.algo and model_trainer.params: the tuned blend and its hyper-parameters;
 * without them carprice trains ridge with each estimator's own defaults, as the file's
 * header says). A default changed in code but not in the file (or the reverse) fails here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadParams } from '../../src/config/params.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** Keys where the shipped file departs from the code default on purpose (see its header). */
const TUNED = ['model_trainer.algo', 'model_trainer.params'];

function flatten(x: unknown, path = '', out: Record<string, string> = {}): Record<string, string> {
  if (x !== null && typeof x === 'object' && !Array.isArray(x) && !TUNED.includes(path)) {
    for (const [k, v] of Object.entries(x)) flatten(v, path ? `${path}.${k}` : k, out);
  } else if (!TUNED.includes(path)) out[path] = JSON.stringify(x);
  return out;
}

test('an empty params file gives the shipped params.yaml (tuned model choice excepted)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'carprice-params-'));
  try {
    writeFileSync(join(dir, 'params.yaml'), '');
    const defaults = flatten(loadParams({ path: join(dir, 'params.yaml'), mustExist: true }));
    const shipped = flatten(loadParams({ path: join(root, 'params.yaml'), mustExist: true }));
    assert.deepEqual(defaults, shipped);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the tuned keys really are the only departures (the exception list is not stale)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'carprice-params-'));
  try {
    writeFileSync(join(dir, 'params.yaml'), '');
    const d = loadParams({ path: join(dir, 'params.yaml'), mustExist: true });
    const s = loadParams({ path: join(root, 'params.yaml'), mustExist: true });
    assert.notEqual(d.model_trainer.algo, s.model_trainer.algo);
    assert.notDeepEqual(d.model_trainer.params, s.model_trainer.params);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
