/**
 * docs/ARCHITECTURE.md tells the truth about the code: its folder table names exactly the
 * top folders of src/, each entry point it names exists, and its dependency matrix is the
 * one dependency-cruiser enforces (LAYERS in .dependency-cruiser.cjs: a cell with ✓ or a
 * named surface means the row may import that folder; an empty cell means it may not).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { runInNewContext } from 'node:vm';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const doc = readFileSync(join(root, 'docs/ARCHITECTURE.md'), 'utf8');
const topFolders = readdirSync(join(root, 'src'))
  .filter((f) => statSync(join(root, 'src', f)).isDirectory())
  .sort();

/** The rows of the markdown table whose header row starts with `header`. */
function table(header: string): string[][] {
  const lines = doc.split('\n');
  const at = lines.findIndex((l) => l.startsWith(`| ${header}`));
  assert.ok(at >= 0, `docs/ARCHITECTURE.md has no table starting with '| ${header}'`);
  const rows: string[][] = [];
  for (let i = at; i < lines.length && lines[i].startsWith('|'); i++)
    if (!/^\|(-+\|)+$/.test(lines[i]))
      rows.push(
        lines[i]
          .split('|')
          .slice(1, -1)
          .map((c) => c.trim()),
      );
  return rows;
}

test('the folder table names every top folder of src/ and no other; its entry points exist', () => {
  const rows = table('Folder').slice(1);
  const named = rows.map((r) => /^`(\w+)\/`$/.exec(r[0])?.[1] ?? r[0]).sort();
  assert.deepEqual(named, topFolders);
  for (const [folder, , entries] of rows) {
    const dir = join(root, 'src', folder.replace(/[`/]/g, ''));
    for (const file of entries.match(/[\w/.-]+\.tsx?/g) ?? [])
      assert.ok(existsSync(join(dir, file)), `${folder} names entry point ${file}, which does not exist`);
  }
});

test('the dependency matrix is the one .dependency-cruiser.cjs enforces', () => {
  // the config's own LAYERS constant, read by running the file (it exports only the config)
  const LAYERS = runInNewContext(`${readFileSync(join(root, '.dependency-cruiser.cjs'), 'utf8')}\n;LAYERS`, {
    module: { exports: {} },
    require: createRequire(join(root, '.dependency-cruiser.cjs')),
  }) as Record<string, string[]>;
  const [header, ...rows] = table('From \\ may import');
  const columns = header.slice(1);
  const documented: Record<string, string[]> = {};
  for (const [from, ...cells] of rows)
    documented[from] = columns.filter((_c, i) => cells[i] !== '' && cells[i] !== undefined).sort();
  const enforced = Object.fromEntries(Object.entries(LAYERS).map(([k, v]) => [k, [...v].sort()]));
  assert.deepEqual(documented, enforced);
  assert.deepEqual(Object.keys(documented).sort(), topFolders, 'every top folder has a row');
});
