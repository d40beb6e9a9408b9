/**
 * Recorded MLflow exchanges (test/fixtures/mlflow/*.json, made by
 * scripts/record-mlflow-fixtures.mjs against real MLflow servers) and a replay server that
 * answers with them: each request that arrives is checked against the next recorded one
 * (method, URL with its query string, body: byte for byte) and answered with the recorded
 * status, content type and body, exactly as the real server sent them.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Project root (this file runs as dist/test/helpers/mlflow-fixtures.js). */
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

export interface RecordedExchange {
  /** The workflow step that made the request. */
  step: string;
  request: { method: string; url: string; contentType: string | null; body: string };
  response: { status: number; contentType: string | null; body: string };
  /**
   * Where carprice deliberately answers otherwise because MLflow's answer is a plain bug
   * (mlflow-3.5-hostile): carprice's status and error_code (none for a success), and why.
   */
  carprice?: { status: number; error_code?: string; note: string };
}

export interface Recording {
  /** Which server made it, e.g. "MLflow 3.5.2.dev0 (...)". */
  server: string;
  exchanges: RecordedExchange[];
}

/** Load test/fixtures/mlflow/<name>.json. */
export function loadRecording(name: string): Recording {
  return JSON.parse(readFileSync(join(root, 'test', 'fixtures', 'mlflow', `${name}.json`), 'utf8')) as Recording;
}

export interface ReplayServer {
  url: string;
  /** Requests that differed from the recording: "#3 create-run: expected ..., got ...". */
  mismatches: string[];
  /** How many recorded exchanges were served. */
  served(): number;
  close(): Promise<void>;
}

/** Serve `recording`'s responses in order on 127.0.0.1:0. */
export async function startReplayServer(recording: Recording): Promise<ReplayServer> {
  let next = 0;
  const mismatches: string[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const ex = recording.exchanges[next];
      if (!ex) {
        mismatches.push(`unexpected extra request ${req.method} ${req.url}`);
        res.writeHead(599, { 'Content-Type': 'text/plain' });
        res.end('replay exhausted');
        return;
      }
      const i = next++;
      const got = `${req.method} ${req.url} ${body}`;
      const want = `${ex.request.method} ${ex.request.url} ${ex.request.body}`;
      if (got !== want)
        mismatches.push(`#${i} ${ex.step}: expected ${want.slice(0, 400)}\n   got ${got.slice(0, 400)}`);
      const headers: Record<string, string> = {};
      if (ex.response.contentType) headers['Content-Type'] = ex.response.contentType;
      res.writeHead(ex.response.status, headers);
      res.end(ex.response.body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    mismatches,
    served: () => next,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
