/**
 * `carprice tracking serve` as a child process for integration tests: the built CLI on
 * port 0 with a SQLite backend and an artifact folder under `dir`; resolves with its URL
 * once it listens, and stops it (SIGTERM, then waits for it to close).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { BUILT_CLI, cleanEnv } from './built-cli.js';

export interface TrackingServer {
  uri: string;
  stop(): Promise<void>;
}

/** `env`: extra environment (e.g. CARPRICE_TRACKING_USERS). */
export async function startTrackingServer(dir: string, env: Record<string, string> = {}): Promise<TrackingServer> {
  let server: ChildProcessWithoutNullStreams | undefined;
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
        `sqlite:///${join(dir, 'server.db')}`,
        '--artifacts-destination',
        join(dir, 'arts'),
      ],
      { cwd: dir, env: cleanEnv(env) },
    );
    let out = '';
    let err = '';
    server.stderr.on('data', (d) => (err += d));
    server.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) res(m[1]);
    });
    server.on('close', (code) => rej(new Error(`tracking server exited early (${code}): ${err}`)));
  });
  return {
    uri,
    stop: async () => {
      if (server && server.exitCode === null) {
        server.kill('SIGTERM');
        await new Promise((r) => server!.once('close', r));
      }
    },
  };
}
