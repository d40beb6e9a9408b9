/**
 * One job per file: no file under src/ grows past 800 lines (docs/ARCHITECTURE.md). A file
 * that needs more has more than one job; split it the way the big ones were split (the
 * tracking stores into runs/registry/logged models, the tree grower into kernels and
 * partitioning, reproduce into a stage runner).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const MAX_LINES = 800;
const root = fileURLToPath(new URL('../../../', import.meta.url));

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p));
    else if (/\.(ts|js|mjs|cjs|css|html)$/.test(name)) out.push(p);
  }
  return out;
}

test(`no file under src/ is over ${MAX_LINES} lines`, () => {
  const files = sourceFiles(join(root, 'src'));
  assert.ok(files.length > 100, `expected the source tree under ${root}/src`);
  const over = files
    .map((f) => ({ f: relative(root, f), lines: readFileSync(f, 'utf8').split('\n').length - 1 }))
    .filter((x) => x.lines > MAX_LINES)
    .map((x) => `${x.f}: ${x.lines} lines`);
  assert.deepEqual(over, [], `split these files (one job each, at most ${MAX_LINES} lines):\n${over.join('\n')}`);
});
