/**
 * DVC 3 hashing: the test vectors of ../shared/reference/dvc-formats.md §3.3 (dvc-data's
 * own expectations), code point ordering, ASCII escaping of names, ignores, and the hash
 * cache (an unchanged file is not re-read; a changed one is).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, statSync, utimesSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { hashDir, hashFile, hashPath } from './hash.js';
import { JsonHashState } from './hash-state.js';
import { parseIgnore } from './dvcignore.js';
import { manifestJson } from './py-json.js';

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'carprice-hash-'));
}

test('vector 1: foo/bar without newline', async (t) => {
  const d = tmp();
  t.after(() => rmSync(d, { recursive: true, force: true }));
  writeFileSync(join(d, 'foo'), 'foo');
  writeFileSync(join(d, 'bar'), 'bar');
  const h = await hashDir(d, 'x', undefined);
  assert.equal(
    h.manifest,
    '[{"md5": "37b51d194a7513e45b56f6524f2d51f2", "relpath": "bar"}, {"md5": "acbd18db4cc2f85cedef654fccc4a4d8", "relpath": "foo"}]',
  );
  assert.equal(h.manifest.length, 126);
  assert.deepEqual([h.md5, h.size, h.nfiles], ['5ea40360f5b4ec688df672a4db9c17d1.dir', 6, 2]);
});

test('vector 2: bar/baz with newline', async (t) => {
  const d = tmp();
  t.after(() => rmSync(d, { recursive: true, force: true }));
  writeFileSync(join(d, 'bar'), 'bar\n');
  writeFileSync(join(d, 'baz'), 'baz\n');
  const h = await hashDir(d, 'x', undefined);
  assert.deepEqual([h.md5, h.size, h.nfiles], ['1f69c66028c35037e8bf67e5bc4ceb6a.dir', 8, 2]);
});

test('vector 5: empty directory (empty sub-directories contribute nothing)', async (t) => {
  const d = tmp();
  t.after(() => rmSync(d, { recursive: true, force: true }));
  mkdirSync(join(d, 'sub', 'deeper'), { recursive: true });
  const h = await hashDir(d, 'x', undefined);
  assert.deepEqual([h.manifest, h.md5, h.size, h.nfiles], ['[]', 'd751713988987e9331980363e24189ce.dir', 0, 0]);
});

test('file hash is the plain md5 of raw bytes (CRLF kept), isexec from mode', async (t) => {
  const d = tmp();
  t.after(() => rmSync(d, { recursive: true, force: true }));
  const p = join(d, 'p.yaml');
  writeFileSync(p, 'a: 1\r\nb: 2\r\n');
  const h = await hashFile(p, statSync(p));
  assert.equal(h.md5, createHash('md5').update('a: 1\r\nb: 2\r\n').digest('hex'));
  assert.equal(h.size, 12);
  assert.equal(h.isexec, undefined);
  chmodSync(p, 0o755);
  assert.equal((await hashFile(p, statSync(p))).isexec, true);
});

test('relpaths sorted by code point, joined with /, non-ASCII escaped; .git/.dvc and .dvcignore skipped', async (t) => {
  const d = tmp();
  t.after(() => rmSync(d, { recursive: true, force: true }));
  mkdirSync(join(d, 'a'));
  mkdirSync(join(d, '.git'));
  mkdirSync(join(d, 'logs'));
  for (const f of ['B.txt', 'a-b.txt', 'a.txt', 'a/b.txt', 'é.txt', '.git/HEAD', 'logs/x.log'])
    writeFileSync(join(d, f), f);
  const h = await hashDir(d, 'data', parseIgnore('*.log\n'));
  const rel = h.entries.map((e) => e.relpath);
  assert.deepEqual(rel, ['B.txt', 'a-b.txt', 'a.txt', 'a/b.txt', 'é.txt']);
  assert.ok(h.manifest.includes('"relpath": "\\u00e9.txt"'));
  assert.equal(h.md5, createHash('md5').update(h.manifest).digest('hex') + '.dir');
  assert.equal(
    manifestJson([{ md5: 'm', relpath: 'q"\\\n\u007f😀' }]),
    '[{"md5": "m", "relpath": "q\\"\\\\\\n\\u007f\\ud83d\\ude00"}]',
  );
  assert.equal(await hashPath(join(d, 'missing'), 'data/missing', undefined), undefined);
});

test('hash state: an unchanged (inode, mtime, size) is not re-read; a changed mtime is', async (t) => {
  const d = tmp();
  t.after(() => rmSync(d, { recursive: true, force: true }));
  mkdirSync(join(d, '.dvc'));
  const p = join(d, 'big.bin');
  writeFileSync(p, 'aaaa');
  const fixed = new Date('2024-01-01T00:00:00Z');
  utimesSync(p, fixed, fixed);
  const s1 = new JsonHashState(d);
  const h1 = await hashFile(p, statSync(p), s1);
  s1.save();
  // Same size, same inode, same mtime but other bytes: a fresh state trusts the cache.
  writeFileSync(p, 'bbbb');
  utimesSync(p, fixed, fixed);
  const s2 = new JsonHashState(d);
  assert.equal((await hashFile(p, statSync(p), s2)).md5, h1.md5);
  // Touch: re-hashed.
  const later = new Date('2024-01-02T00:00:00Z');
  utimesSync(p, later, later);
  assert.equal((await hashFile(p, statSync(p), s2)).md5, createHash('md5').update('bbbb').digest('hex'));
});
