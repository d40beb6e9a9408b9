/** Tests of atomic writes: whole new file or the old one, never a temp file left behind. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-write.js';

function withDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'carprice-atomic-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('creates parent directories, writes strings and bytes, replaces an existing file', () => {
  withDir((dir) => {
    const p = join(dir, 'a', 'b', 'out.txt');
    writeFileAtomic(p, 'first');
    assert.equal(readFileSync(p, 'utf8'), 'first');
    writeFileAtomic(p, new Uint8Array([0x68, 0x69]));
    assert.equal(readFileSync(p, 'utf8'), 'hi');
    assert.deepEqual(readdirSync(join(dir, 'a', 'b')), ['out.txt'], 'no temp file left behind');
  });
});

test('a failed rename (target is a directory) throws and leaves no temp file', () => {
  withDir((dir) => {
    const target = join(dir, 'taken');
    mkdirSync(join(target, 'inside'), { recursive: true });
    assert.throws(() => writeFileAtomic(target, 'x'));
    assert.deepEqual(readdirSync(dir), ['taken']);
  });
});

test('large buffers are written completely', () => {
  withDir((dir) => {
    const data = Buffer.alloc(3 * 1024 * 1024 + 17, 0x5a);
    const p = join(dir, 'big');
    writeFileAtomic(p, data);
    assert.equal(readFileSync(p).length, data.length);
  });
});
