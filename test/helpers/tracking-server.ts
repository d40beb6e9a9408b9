/**
 * `carprice tracking serve` as a child process, for integration tests and the team-scale
 * bench: the built CLI on a port (0 = any) with a SQLite backend (or `backendStoreUri`) and
 * an artifact folder; resolves with its URL once it listens, and stops it (SIGTERM, then
 * waits for it to close) or kills it (e.g. SIGKILL). `output()` is everything it printed
 * so far. `mlflowApi` calls its REST API with fetch, as an MLflow client would.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { BUILT_CLI, cleanEnv } from './built-cli.js';

export interface TrackingServer {
  uri: string;
  /** The server process's id (its CPU time in /proc for benches). */
  pid: number;
  /** SIGTERM, then wait for it to close. */
  stop(): Promise<void>;
  kill(signal: NodeJS.Signals): Promise<void>;
  /** Its exit code once it has closed (null while running or after a signal). */
  exitCode(): number | null;
  /** stdout and stderr so far. */
  output(): string;
  stdout(): string;
}

export interface TrackingServerOptions {
  /** Default: sqlite:///<dir>/server.db. */
  backendStoreUri?: string;
  /** Default: <dir>/arts. */
  artifactsDestination?: string;
  /** Default 0 (the OS picks one); a fixed port lets a restarted server take the place of a killed one. */
  port?: number;
  /** Extra environment (e.g. CARPRICE_TRACKING_USERS). */
  env?: Record<string, string>;
}

export async function startTrackingServer(dir: string, opts: TrackingServerOptions = {}): Promise<TrackingServer> {
  let server: ChildProcessWithoutNullStreams | undefined;
  let out = '';
  let err = '';
  const uri = await new Promise<string>((res, rej) => {
    server = spawn(
      process.execPath,
      [
        BUILT_CLI,
        'tracking',
        'serve',
        '--port',
        String(opts.port ?? 0),
        '--backend-store-uri',
        opts.backendStoreUri ?? `sqlite:///${join(dir, 'server.db')}`,
        '--artifacts-destination',
        opts.artifactsDestination ?? join(dir, 'arts'),
      ],
      { cwd: dir, env: cleanEnv(opts.env) },
    );
    server.stderr.on('data', (d) => (err += d));
    server.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) res(m[1]);
    });
    server.on('close', (code) => rej(new Error(`tracking server exited early (${code}): ${err}`)));
  });
  const child = server!;
  const kill = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) {
      const closed = new Promise((r) => child.once('close', r));
      child.kill(signal);
      await closed;
    }
  };
  return {
    uri,
    pid: child.pid!,
    stop: () => kill('SIGTERM'),
    kill,
    exitCode: () => child.exitCode,
    output: () => out + err,
    stdout: () => out,
  };
}

/** One MLflow REST call (`path` under /api/2.0/mlflow/): GET without a body, POST with one; throws on non-2xx. */
export async function mlflowApi<T>(url: string, path: string, body?: unknown): Promise<T> {
  const r = await fetch(`${url}/api/2.0/mlflow/${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`${path}: HTTP ${r.status} ${text.slice(0, 200)}`);
  return JSON.parse(text) as T;
}
