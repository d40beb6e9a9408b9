/**
 * The YAML emitter's comparison corpus: every dvc.lock and .dvc file real DVC 3.64 wrote in
 * the recorded sessions (test/fixtures/dvc/*.json, ruamel.yaml 0.18.16: long and special
 * strings, unicode, numbers as strings, empty dicts and lists, NaN/inf, nested params,
 * special file names). carprice's loader reads each and its emitter must write the same
 * bytes back. (The replay test also checks that carprice writes these files itself, from
 * the same pipeline, byte for byte.)
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { FIXTURES, loadDvcRecording } from '../helpers/dvc-replay.js';
import { loadYaml } from '../../src/pipeline/yaml-load.js';
import { dumpYaml } from '../../src/pipeline/yaml-dump.js';
import type { PyValue } from '../../src/pipeline/py-value.js';

const corpus: Array<{ from: string; path: string; text: string }> = [];
for (const f of readdirSync(FIXTURES).filter((x) => x.endsWith('.json'))) {
  const rec = loadDvcRecording(f.slice(0, -5));
  for (const [i, step] of rec.steps.entries())
    for (const [path, text] of Object.entries(step.files ?? {}))
      if (text !== null && (path.endsWith('dvc.lock') || path.endsWith('.dvc')))
        corpus.push({ from: `${f} #${i}`, path, text });
}

describe("YAML emitter: DVC's own dvc.lock and .dvc files read and written back byte for byte", () => {
  it('has a corpus (fixtures present)', () => {
    assert.ok(corpus.length >= 8, `only ${corpus.length} YAML files in the recordings`);
    assert.ok(corpus.some((c) => c.text.includes('.nan')) && corpus.some((c) => c.text.includes('{}')));
  });
  for (const c of corpus)
    it(`${c.path} (${c.from})`, () => {
      const doc = loadYaml(c.text, c.path).value as Record<string, PyValue>;
      assert.equal(dumpYaml(doc), c.text);
    });
});
