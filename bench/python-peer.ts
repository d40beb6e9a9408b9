/**
 * bench/python-peer: running the Python stack the benches compare carprice with (never a
 * runtime dependency). The interpreter is Debian's /usr/bin/python3, whose packages
 * (python3-numpy, -sklearn, -pandas, -xgboost, -openpyxl) the comparisons need; the python3
 * first on PATH may be another one. A bench asks `probePython` first and, when it reports a
 * problem, prints it and skips its Python side; `runPythonJson` runs one script and reads
 * the JSON object it prints on its last stdout line.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

/** The interpreter the benches use. */
export const PYTHON = '/usr/bin/python3';

/** Module name -> version of the modules a probe imported. */
export type PythonVersions = Record<string, string>;

/** The outcome of probing the interpreter: versions, or why it cannot serve. */
export type PythonProbe = { ok: true; versions: PythonVersions } | { ok: false; reason: string };

const probes = new Map<string, PythonProbe>();

const PROBE_CODE = [
  'import importlib, json, sys',
  'v = {}',
  'for m in sys.argv[1:]:',
  '    v[m] = getattr(importlib.import_module(m), "__version__", "?")',
  'print(json.dumps(v))',
].join('\n');

function lastLine(text: string): string {
  return text.trim().split('\n').pop() ?? '';
}

/**
 * Whether PYTHON can import every module (cached per module list). `hint` is appended to
 * the reason, e.g. "install python3-xgboost".
 */
export function probePython(modules: readonly string[], hint?: string): PythonProbe {
  const key = modules.join(',');
  const cached = probes.get(key);
  if (cached) return cached;
  let probe: PythonProbe;
  if (!existsSync(PYTHON)) probe = { ok: false, reason: `${PYTHON} not found` };
  else {
    const r = spawnSync(PYTHON, ['-c', PROBE_CODE, ...modules], { encoding: 'utf8' });
    if (r.status === 0) probe = { ok: true, versions: JSON.parse(lastLine(r.stdout)) as PythonVersions };
    else {
      const why = lastLine(r.stderr || String(r.error));
      probe = { ok: false, reason: `${PYTHON} cannot import ${modules.join(', ')} (${why})${hint ? `; ${hint}` : ''}` };
    }
  }
  probes.set(key, probe);
  return probe;
}

/** The result of one script run: its last stdout line parsed as JSON, or what went wrong. */
export type PythonRun<T> = { ok: true; value: T } | { ok: false; error: string };

/** Run `PYTHON script ...args` and parse the JSON its last stdout line holds. */
export function runPythonJson<T>(script: string, args: readonly string[]): PythonRun<T> {
  const r = spawnSync(PYTHON, [script, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) {
    const why = (r.stderr || String(r.error ?? `exit ${r.status}`)).trim().split('\n').slice(-3).join(' | ');
    return { ok: false, error: `${script} failed: ${why}` };
  }
  try {
    return { ok: true, value: JSON.parse(lastLine(r.stdout)) as T };
  } catch {
    return { ok: false, error: `${script} printed no JSON result line: ${lastLine(r.stdout).slice(0, 200)}` };
  }
}

/** The bytes of a float64 vector (little-endian on every machine the benches run on). */
export function float64Bytes(a: Float64Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** A file of little-endian float64 values written by numpy's tofile. */
export function readFloat64File(path: string): Float64Array {
  const b = readFileSync(path);
  return new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}
