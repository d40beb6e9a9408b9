/** Tests of atomic writes: whole new file or the old one, never a temp file left behind. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AtomicFileWriter, writeFileAtomic } from './atomic-write.js';

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

test('AtomicFileWriter writes through a symbolic link or a named pipe instead of replacing it (as with --out /dev/stdout)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'carprice-atomic-'));
  try {
    // a link (/dev/stdout is one): the link stays, its target gets the bytes
    writeFileSync(join(dir, 'real.jsonl'), 'old\n');
    symlinkSync('real.jsonl', join(dir, 'link.jsonl'));
    const w = new AtomicFileWriter(join(dir, 'link.jsonl'));
    w.write('{"a":1}\n');
    w.commit();
    assert.ok(lstatSync(join(dir, 'link.jsonl')).isSymbolicLink(), 'the link was replaced by a file');
    assert.equal(readFileSync(join(dir, 'real.jsonl'), 'utf8'), '{"a":1}\n');
    assert.deepEqual(readdirSync(dir).sort(), ['link.jsonl', 'real.jsonl']);
    // a named pipe (a device node is the same case): still a pipe, its reader gets the bytes
    if (spawnSync('mkfifo', [join(dir, 'pipe')]).status !== 0) return t.skip('no mkfifo here');
    const reader = spawn('cat', [join(dir, 'pipe')]);
    let got = '';
    reader.stdout.on('data', (d) => (got += d));
    const closed = new Promise((res) => reader.on('close', res));
    const p = new AtomicFileWriter(join(dir, 'pipe'));
    p.write('row,predicted_price\n');
    p.write('0,100\n');
    p.commit();
    await closed;
    assert.equal(got, 'row,predicted_price\n0,100\n');
    assert.ok(lstatSync(join(dir, 'pipe')).isFIFO(), 'the pipe was replaced by a file');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('AtomicFileWriter through a symbolic link to a regular file stays atomic: an aborted write leaves the target as it was, a committed one replaces it whole', () => {
  const dir = mkdtempSync(join(tmpdir(), 'carprice-atomic-'));
  try {
    mkdirSync(join(dir, 'shared'));
    writeFileSync(join(dir, 'shared', 'week.jsonl'), 'old\n');
    symlinkSync(join('shared', 'week.jsonl'), join(dir, 'link.jsonl'));
    const a = new AtomicFileWriter(join(dir, 'link.jsonl'));
    a.write('{"half":');
    // the target is untouched while the writer runs (the bytes are in a temp file beside it)
    assert.equal(readFileSync(join(dir, 'shared', 'week.jsonl'), 'utf8'), 'old\n');
    a.abort();
    assert.equal(readFileSync(join(dir, 'shared', 'week.jsonl'), 'utf8'), 'old\n');
    assert.deepEqual(readdirSync(join(dir, 'shared')), ['week.jsonl'], 'no temp file left beside the target');
    const b = new AtomicFileWriter(join(dir, 'link.jsonl'));
    b.write('{"a":1}\n');
    b.commit();
    assert.ok(lstatSync(join(dir, 'link.jsonl')).isSymbolicLink(), 'the link was replaced by a file');
    assert.equal(readFileSync(join(dir, 'link.jsonl'), 'utf8'), '{"a":1}\n');
    assert.deepEqual(readdirSync(dir).sort(), ['link.jsonl', 'shared']);
    assert.deepEqual(readdirSync(join(dir, 'shared')), ['week.jsonl']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
