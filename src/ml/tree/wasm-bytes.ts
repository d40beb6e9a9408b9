/**
 * The WebAssembly binary format, as much of it as carprice generates: a growable byte buffer
 * with the format's LEB128 and float encoders, and the assembly of a module (one imported
 * memory, functions, their exports) from function bodies. Used by the compiled tree
 * ensembles (wasm-trees.ts) and the tree grower's kernels (wasm-kernels.ts), which both
 * write their code at run time for the shapes they are given.
 */

/** The part of the WebAssembly JavaScript API used here (the Node build's libraries do not declare it). */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
declare const WebAssembly: {
  Memory: new (d: { initial: number; maximum?: number }) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
};

/** A memory of `bytes` bytes at least (whole 64 KiB pages). */
export function newMemory(bytes: number): WasmMemory {
  return new WebAssembly.Memory({ initial: Math.max(1, Math.ceil(bytes / 65536)) });
}

/** Little growable byte buffer with the LEB128 and float encoders of the wasm binary format. */
export class Bytes {
  buf = new Uint8Array(1 << 16);
  len = 0;

  private room(k: number): void {
    if (this.len + k <= this.buf.length) return;
    const b = new Uint8Array(Math.max(this.buf.length * 2, this.len + k));
    b.set(this.buf.subarray(0, this.len));
    this.buf = b;
  }

  byte(...bs: number[]): void {
    this.room(bs.length);
    for (const b of bs) this.buf[this.len++] = b;
  }

  /** Unsigned LEB128. */
  u32(x: number): void {
    this.room(5);
    let v = x >>> 0;
    do {
      let b = v & 0x7f;
      v >>>= 7;
      if (v) b |= 0x80;
      this.buf[this.len++] = b;
    } while (v);
  }

  /** Signed LEB128 (i32). */
  s32(x: number): void {
    this.room(5);
    let v = x | 0;
    for (;;) {
      const b = v & 0x7f;
      v >>= 7;
      if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) {
        this.buf[this.len++] = b;
        return;
      }
      this.buf[this.len++] = b | 0x80;
    }
  }

  /** f64.const x (the exact bits). */
  f64const(x: number): void {
    this.room(9);
    this.buf[this.len++] = 0x44;
    F64[0] = x;
    for (let k = 0; k < 8; k++) this.buf[this.len++] = F64_BYTES[k];
  }

  append(b: Bytes): void {
    this.room(b.len);
    this.buf.set(b.buf.subarray(0, b.len), this.len);
    this.len += b.len;
  }

  /** Append `b` preceded by its length (a vector's or section's size). */
  sized(b: Bytes): void {
    this.u32(b.len);
    this.append(b);
  }

  name(s: string): void {
    this.u32(s.length);
    for (let k = 0; k < s.length; k++) this.byte(s.charCodeAt(k));
  }

  bytes(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

const F64 = new Float64Array(1);
const F64_BYTES = new Uint8Array(F64.buffer);

/** Value types. */
export const I32 = 0x7f;
export const F64T = 0x7c;
export const V128 = 0x7b;

/** One function of a module: its parameter and result types and its body (locals and code, without the size). */
export interface WasmFunction {
  name: string;
  params: readonly number[];
  results: readonly number[];
  body: Bytes;
}

/**
 * The bytes of a module that imports its memory as e.m and exports every function under its
 * name (instantiate with `instantiate`).
 */
export function wasmModule(fns: readonly WasmFunction[]): Uint8Array {
  const m = new Bytes();
  m.byte(0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00);
  const section = (id: number, content: Bytes) => {
    m.byte(id);
    m.sized(content);
  };
  // one type per distinct signature
  const sigs: string[] = [];
  const typeOf = fns.map((f) => {
    const key = `${f.params.join(',')}:${f.results.join(',')}`;
    const at = sigs.indexOf(key);
    return at >= 0 ? at : sigs.push(key) - 1;
  });
  const types = new Bytes();
  types.u32(sigs.length);
  for (const key of sigs) {
    const [ps, rs] = key.split(':').map((x) => (x ? x.split(',').map(Number) : []));
    types.byte(0x60);
    types.u32(ps.length);
    types.byte(...ps);
    types.u32(rs.length);
    types.byte(...rs);
  }
  section(1, types);
  const imports = new Bytes();
  imports.u32(1);
  imports.name('e');
  imports.name('m');
  imports.byte(0x02, 0x00, 0x00); // memory, min 0 pages
  section(2, imports);
  const funcs = new Bytes();
  funcs.u32(fns.length);
  for (const t of typeOf) funcs.u32(t);
  section(3, funcs);
  const exports = new Bytes();
  exports.u32(fns.length);
  fns.forEach((f, k) => {
    exports.name(f.name);
    exports.byte(0x00);
    exports.u32(k);
  });
  section(7, exports);
  const code = new Bytes();
  code.u32(fns.length);
  for (const f of fns) code.sized(f.body);
  section(10, code);
  return m.bytes();
}

/** Instantiate module bytes on `memory`: its exports by name. */
export function instantiate(bytes: Uint8Array, memory: WasmMemory): Record<string, unknown> {
  return new WebAssembly.Instance(new WebAssembly.Module(bytes), { e: { m: memory } }).exports;
}
