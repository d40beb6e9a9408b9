/**
 * Enforces DESIGN.md's rules of direction by reading every import in src/.
 * A rule broken here means a layer reaches into one it must not know about.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const src = join(root, 'src');

function files(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...files(p));
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts') && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

interface Edge {
  from: string; // path relative to src, e.g. ml/linear/ridge.ts
  to: string; // resolved path relative to src, or a bare module name
}

function edges(): Edge[] {
  const out: Edge[] = [];
  const re = /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^import\s+['"]([^'"]+)['"]/gm;
  for (const f of files(src)) {
    const text = readFileSync(f, 'utf8');
    for (const m of text.matchAll(re)) {
      const spec = m[1] ?? m[2] ?? m[3];
      const from = relative(src, f);
      if (spec.startsWith('.')) out.push({ from, to: relative(src, resolve(dirname(f), spec)).replace(/\.js$/, '.ts') });
      else out.push({ from, to: spec });
    }
  }
  return out;
}

const all = edges();
const internal = (e: Edge) => !e.to.startsWith('node:') && !e.to.startsWith('..') && /^[a-z-]+\//.test(e.to) && !e.to.startsWith('@');
const top = (p: string) => p.split('/')[0];

function violations(pred: (e: Edge) => boolean): string[] {
  return all.filter(pred).map((e) => `${e.from} -> ${e.to}`);
}

test('the import graph was read', () => {
  assert.ok(all.length > 10, 'expected to find imports in src/');
});

test('core/ imports nothing internal', () => {
  assert.deepEqual(violations((e) => top(e.from) === 'core' && internal(e) && top(e.to) !== 'core'), []);
});

test('ml/ imports only core/ and no I/O modules', () => {
  assert.deepEqual(
    violations((e) => top(e.from) === 'ml' && ((internal(e) && !['ml', 'core'].includes(top(e.to))) || /^node:(fs|net|child_process|http|https)/.test(e.to))),
    [],
  );
});

test('features/ imports only core/, data/ types and ml/linalg', () => {
  assert.deepEqual(
    violations(
      (e) =>
        top(e.from) === 'features' &&
        internal(e) &&
        !['features', 'core', 'data'].includes(top(e.to)) &&
        !e.to.startsWith('ml/linalg/') &&
        !e.to.startsWith('ml/matrix'),
    ),
    [],
  );
});

test('pipeline/ never imports ml, jobs, tracking or serving', () => {
  assert.deepEqual(violations((e) => top(e.from) === 'pipeline' && internal(e) && ['ml', 'jobs', 'tracking', 'serving', 'features', 'bundle'].includes(top(e.to))), []);
});

test('tracking/sqlite and tracking/rest never import each other', () => {
  assert.deepEqual(
    violations(
      (e) =>
        (e.from.startsWith('tracking/sqlite/') && e.to.startsWith('tracking/rest/')) ||
        (e.from.startsWith('tracking/rest/') && e.to.startsWith('tracking/sqlite/')),
    ),
    [],
  );
});

test('serving/ never imports jobs/', () => {
  assert.deepEqual(violations((e) => top(e.from) === 'serving' && internal(e) && top(e.to) === 'jobs'), []);
});

test('nothing outside cli/ imports cli/', () => {
  assert.deepEqual(violations((e) => top(e.from) !== 'cli' && internal(e) && top(e.to) === 'cli'), []);
});

test('only config/env.ts reads process.env', () => {
  const offenders = files(src)
    .filter((f) => !f.endsWith(join('config', 'env.ts')) && !f.endsWith(join('cli', 'main.ts')))
    .filter((f) => /process\.env\b/.test(readFileSync(f, 'utf8')))
    .map((f) => relative(src, f));
  assert.deepEqual(offenders, []);
});
