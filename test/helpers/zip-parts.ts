/**
 * Workbooks taken apart and put back together, for tests of the .xlsx reader on files no
 * writer at hand produces: parts in another order, a part missing or edited (malformed
 * XML, inline strings, a 1904 workbook). `readZipParts` lists a zip's parts (with yauzl),
 * `zipParts` writes parts, in the order given, as a valid zip (deflated, CRC-32 checked).
 */
import { deflateRawSync } from 'node:zlib';
import yauzl from 'yauzl';

export interface ZipPart {
  name: string;
  data: Buffer;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** The parts of a zip, in stored order. */
export async function readZipParts(zip: Uint8Array): Promise<ZipPart[]> {
  const file = await new Promise<yauzl.ZipFile>((res, rej) =>
    yauzl.fromBuffer(Buffer.from(zip), { lazyEntries: true }, (e, z) => (e ? rej(e) : res(z))),
  );
  const parts: ZipPart[] = [];
  await new Promise<void>((res, rej) => {
    file.on('entry', (entry: yauzl.Entry) => {
      file.openReadStream(entry, (e, s) => {
        if (e) return rej(e);
        const bufs: Buffer[] = [];
        s.on('data', (b: Buffer) => bufs.push(b));
        s.on('error', rej);
        s.on('end', () => {
          parts.push({ name: entry.fileName, data: Buffer.concat(bufs) });
          file.readEntry();
        });
      });
    });
    file.on('end', res);
    file.on('error', rej);
    file.readEntry();
  });
  return parts;
}

/** A zip of `parts` in the order given, each deflated. */
export function zipParts(parts: readonly ZipPart[]): Buffer {
  const locals: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const p of parts) {
    const name = Buffer.from(p.name, 'utf8');
    const body = deflateRawSync(p.data);
    const crc = crc32(p.data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(8, 8); // deflate
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(p.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    locals.push(local, name, body);
    const dir = Buffer.alloc(46);
    dir.writeUInt32LE(0x02014b50, 0);
    dir.writeUInt16LE(20, 4);
    dir.writeUInt16LE(20, 6);
    dir.writeUInt16LE(0x0800, 8);
    dir.writeUInt16LE(8, 10);
    dir.writeUInt32LE(crc, 16);
    dir.writeUInt32LE(body.length, 20);
    dir.writeUInt32LE(p.data.length, 24);
    dir.writeUInt16LE(name.length, 28);
    dir.writeUInt32LE(offset, 42);
    central.push(dir, name);
    offset += 30 + name.length + body.length;
  }
  const dirBytes = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(parts.length, 8);
  end.writeUInt16LE(parts.length, 10);
  end.writeUInt32LE(dirBytes.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, dirBytes, end]);
}
