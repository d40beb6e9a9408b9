/**
 * Test helpers for the prediction API: small real bundles trained on the synthetic
 * fixture listings (no dataset needed), saved to temp directories when a test needs a
 * bundle on disk, and the built CLI's `serve` as a child process that reports its URL.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseParams } from '../../src/config/params.js';
import { trainBundle } from '../../src/bundle/train-bundle.js';
import type { ModelBundle } from '../../src/bundle/model-bundle.js';
import { asInput, fixtureFrame, generateListings } from '../fixtures/listings.js';
import { BUILT_CLI, cleanEnv } from './built-cli.js';

const params = parseParams({});

/** A bundle fitted on `n` fixture listings (ridge by default, a few seconds at most). */
export function fixtureBundle(o: { algo?: string; seed?: number; n?: number; alpha?: number } = {}): ModelBundle {
  const { frame, y, schema } = fixtureFrame({ n: o.n ?? 150, seed: o.seed ?? 5 });
  const algoParams = {
    ...params.model_trainer.params,
    ridge: { alpha: o.alpha ?? 0.01 },
    gbdt: { n_estimators: 30, max_depth: 3 },
  };
  return trainBundle(frame, y, schema, {
    algo: o.algo ?? 'ridge',
    algoParams,
    features: params.features,
    seed: 42,
    metadata: {
      createdAt: '2025-01-01T00:00:00.000Z',
      training: { dataHash: 'fixture', rows: frame.nRows, source: 'fixture' },
      params: {},
      carpriceVersion: 'test',
    },
  });
}

/** Save a bundle under a new temp directory; returns the bundle directory. */
export function savedBundle(bundle: ModelBundle): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'carprice-serve-')), 'model');
  bundle.save(dir);
  return dir;
}

/** Fixture listings as API request bodies. */
export function listings(n: number, seed = 3): Record<string, unknown>[] {
  return generateListings({ n, seed }).map(asInput);
}

export interface ServeProcess {
  url: string;
  child: ChildProcessWithoutNullStreams;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
}

/** Start `carprice serve ...args` (built CLI) and wait for its "listening on URL" line. */
export function startServe(
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
  timeoutMs = 60_000,
): Promise<ServeProcess> {
  const child = spawn(process.execPath, [BUILT_CLI, ...args], { cwd, env: cleanEnv(env) });
  let out = '';
  let err = '';
  const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`serve did not start in ${timeoutMs} ms\nstdout: ${out}\nstderr: ${err.slice(-3000)}`));
    }, timeoutMs);
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+?)[ ;]/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1], child, stdout: () => out, stderr: () => err, exited });
      }
    });
    child.stderr.on('data', (d) => (err += d));
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code} before listening\nstdout: ${out}\nstderr: ${err.slice(-3000)}`));
    });
  });
}
