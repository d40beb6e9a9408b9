/** Tests of md5 helpers against RFC 1321 test vectors. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { md5File, md5Hex } from './md5.js';

test('md5Hex matches the RFC 1321 test vectors', () => {
  assert.equal(md5Hex(''), 'd41d8cd98f00b204e9800998ecf8427e');
  assert.equal(md5Hex('abc'), '900150983cd24fb0d6963f7d28e17f72');
  assert.equal(md5Hex('message digest'), 'f96b697d7cb7938d525a2f31aaf161d0');
  assert.equal(md5Hex(new Uint8Array([0x61, 0x62, 0x63])), '900150983cd24fb0d6963f7d28e17f72');
});

test('md5File streams a multi-chunk file to the same digest as md5Hex', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'carprice-md5-'));
  try {
    // 2.5 MiB: three 1 MiB stream chunks
    const data = Buffer.alloc(2.5 * 1024 * 1024);
    for (let i = 0; i < data.length; i++) data[i] = (i * 31 + 7) & 0xff;
    const p = join(dir, 'big.bin');
    writeFileSync(p, data);
    assert.equal(await md5File(p), md5Hex(data));
    const empty = join(dir, 'empty');
    writeFileSync(empty, '');
    assert.equal(await md5File(empty), 'd41d8cd98f00b204e9800998ecf8427e');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
