/**
 * `carprice tracking serve` as a child process for integration tests: the built CLI on
 * port 0 with a SQLite backend (or `backendStoreUri`) and an artifact folder under `dir`;
 * resolves with its URL once it listens, and stops it (SIGTERM, then waits for it to
 * close) or kills it (e.g. SIGKILL). `output()` is everything it printed so far.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { BUILT_CLI, cleanEnv } from './built-cli.js';

export interface TrackingServer {
  uri: string;
  stop(): Promise<void>;
  kill(signal: NodeJS.Signals): Promise<void>;
  output(): string;
}

export interface TrackingServerOptions {
  /** Default: sqlite:///<dir>/server.db. */
  backendStoreUri?: string;
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
        '0',
        '--backend-store-uri',
        opts.backendStoreUri ?? `sqlite:///${join(dir, 'server.db')}`,
        '--artifacts-destination',
        join(dir, 'arts'),
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
  const kill = async (signal: NodeJS.Signals) => {
    if (server && server.exitCode === null && server.signalCode === null) {
      const closed = new Promise((r) => server!.once('close', r));
      server.kill(signal);
      await closed;
    }
  };
  return { uri, stop: () => kill('SIGTERM'), kill, output: () => out + err };
}
