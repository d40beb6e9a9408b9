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

/** A bad request and the answer it must get. */
export interface BadRequest {
  name: string;
  payload?: unknown;
  body?: string;
  contentType?: string;
  url?: string;
  status: number;
  field: string;
}

/**
 * Requests that must all be answered 4xx with a JSON body naming the field (POST /predict
 * unless `url` says otherwise), built around a valid `listing`; for a server whose body
 * limit is 4 KiB, whose longest string is 100 characters and whose latest year is before 2031.
 */
export function badRequests(listing: Record<string, unknown>): BadRequest[] {
  const rows = [listing];
  return [
    { name: 'wrong type', payload: { ...rows[0], odometer: 'far' }, status: 422, field: 'odometer' },
    { name: 'number as string for a text field', payload: { ...rows[0], make: 5 }, status: 422, field: 'make' },
    { name: 'missing field', payload: { ...rows[0], make: undefined }, status: 422, field: 'make' },
    { name: 'null required field', payload: { ...rows[0], fitnessAge: null }, status: 422, field: 'fitnessAge' },
    { name: 'negative odometer', payload: { ...rows[0], odometer: -10 }, status: 422, field: 'odometer' },
    { name: 'year in the future', payload: { ...rows[0], year: 2031 }, status: 422, field: 'year' },
    { name: 'fractional year', payload: { ...rows[0], year: 2019.5 }, status: 422, field: 'year' },
    { name: 'over-long string', payload: { ...rows[0], variant: 'x'.repeat(101) }, status: 422, field: 'variant' },
    { name: 'empty string', payload: { ...rows[0], make: '' }, status: 422, field: 'make' },
    { name: 'flag out of range', payload: { ...rows[0], AlloyWheels: 3 }, status: 422, field: 'AlloyWheels' },
    { name: 'array instead of object', payload: [rows[0]], status: 422, field: '(body)' },
    { name: 'JSON string body', body: '"hello"', status: 422, field: '(body)' },
    { name: 'JSON null body', body: 'null', status: 422, field: '(body)' },
    { name: 'malformed JSON', body: '{"odometer": 5,', status: 400, field: '(body)' },
    { name: 'empty JSON body', body: '', status: 400, field: '(body)' },
    { name: 'prototype poisoning', body: '{"__proto__": {"x": 1}}', status: 400, field: '(body)' },
    {
      name: 'nested 100 deep in an unknown field',
      body: `${JSON.stringify(rows[0]).slice(0, -1)},"x":${'['.repeat(100)}${']'.repeat(100)}}`,
      status: 400,
      field: '(body)',
    },
    {
      name: 'wrong content type',
      body: 'odometer=5',
      contentType: 'application/x-www-form-urlencoded',
      status: 415,
      field: '(content-type)',
    },
    { name: 'text body', body: 'hello', contentType: 'text/plain', status: 415, field: '(content-type)' },
    {
      name: 'body too large',
      body: JSON.stringify({ ...rows[0], pad: 'x'.repeat(5000) }),
      status: 413,
      field: '(body)',
    },
    { name: 'batch without listings', url: '/predict/batch', payload: { rows: [] }, status: 422, field: 'listings' },
    { name: 'empty batch', url: '/predict/batch', payload: { listings: [] }, status: 422, field: 'listings' },
    {
      name: 'batch of strings',
      url: '/predict/batch',
      payload: { listings: ['a'] },
      status: 422,
      field: 'listings[0]',
    },
    {
      name: 'explain with a bad field',
      url: '/explain',
      payload: { ...rows[0], ownership: 'first' },
      status: 422,
      field: 'ownership',
    },
  ];
}
