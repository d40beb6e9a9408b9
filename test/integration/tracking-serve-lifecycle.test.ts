/**
 * `carprice tracking serve` as a real child process (issue 9, items 9 and 16): an open
 * server says so at start, a malformed user list is a configuration error (exit 3), the
 * server logs on stderr without CARPRICE_LOG_LEVEL, and SIGTERM finishes a request in
 * flight on a keep-alive connection (answered with `Connection: close`, its write kept)
 * before the process exits 0.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUILT_CLI, cleanEnv, runBuiltCli } from '../helpers/built-cli.js';
import { SqliteTrackingStore } from '../../src/tracking/sqlite/sqlite-tracking-store.js';

function body(res: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let t = '';
    res.setEncoding('utf8');
    res.on('data', (d: string) => (t += d));
    res.on('end', () => resolve(t));
  });
}

describe('tracking serve lifecycle', () => {
  it('refuses a malformed user list with exit code 3', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'carprice-serve-'));
    try {
      for (const users of ['alice:', 'alice:secret,bob']) {
        const r = await runBuiltCli(
          ['tracking', 'serve', '--port', '0', '--backend-store-uri', `sqlite:///${join(dir, 'db.sqlite')}`],
          dir,
          {
            CARPRICE_TRACKING_USERS: users,
          },
        );
        assert.equal(r.code, 3, r.stderr);
        assert.match(r.stderr, /^carprice: CARPRICE_TRACKING_USERS must be user:password/);
        assert.equal(r.stderr.trim().split('\n').length, 1);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it(
    'says it is open, logs on stderr by default, and drains a keep-alive request on SIGTERM',
    { timeout: 60_000 },
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'carprice-serve-'));
      const db = join(dir, 'db.sqlite');
      const child = spawn(
        process.execPath,
        [BUILT_CLI, 'tracking', 'serve', '--port', '0', '--backend-store-uri', `sqlite:///${db}`],
        { cwd: dir, env: cleanEnv() },
      );
      let stdout = '';
      let stderr = '';
      const waiters: { re: RegExp; on: () => void; stream: () => string }[] = [];
      const check = () => {
        for (const w of [...waiters]) {
          if (!w.re.test(w.stream())) continue;
          waiters.splice(waiters.indexOf(w), 1);
          w.on();
        }
      };
      const waitFor = (stream: () => string, re: RegExp) =>
        new Promise<void>((on) => (waiters.push({ re, on, stream }), check()));
      child.stdout.on('data', (d) => ((stdout += d), check()));
      child.stderr.on('data', (d) => ((stderr += d), check()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      try {
        await waitFor(() => stdout, /listening on http:\/\/127\.0\.0\.1:(\d+)/);
        const port = Number(/listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(stdout)![1]);
        await waitFor(() => stderr, /this tracking server is open: no users are set/);

        const agent = new Agent({ keepAlive: true, maxSockets: 1 });
        const send = (path: string, headers: Record<string, string> = {}) =>
          request({
            host: '127.0.0.1',
            port,
            method: 'POST',
            path,
            agent,
            headers: { 'Content-Type': 'application/json', ...headers },
          });

        // A warning logged without CARPRICE_LOG_LEVEL: a request with a foreign Host.
        const foreign = await new Promise<IncomingMessage>((resolve, reject) => {
          const r = request(
            {
              host: '127.0.0.1',
              port,
              path: '/api/2.0/mlflow/experiments/get?experiment_id=0',
              headers: { Host: 'rebind.example' },
            },
            resolve,
          );
          r.on('error', reject);
          r.end();
        });
        assert.equal(foreign.statusCode, 403);
        await body(foreign);
        await waitFor(() => stderr, /rebind\.example/);

        const first = await new Promise<IncomingMessage>((resolve, reject) => {
          const r = send('/api/2.0/mlflow/experiments/create');
          r.on('response', resolve);
          r.on('error', reject);
          r.end(JSON.stringify({ name: 'before' }));
        });
        assert.equal(first.statusCode, 200);
        assert.equal(first.headers.connection, 'keep-alive');
        await body(first);

        // The second request is in flight (headers parsed: the server sent 100 Continue)
        // on the kept-alive connection when SIGTERM arrives; its body follows afterwards.
        const payload = JSON.stringify({ name: 'in-flight' });
        const second = send('/api/2.0/mlflow/experiments/create', {
          Expect: '100-continue',
          'Content-Length': String(Buffer.byteLength(payload)),
        });
        const answered = new Promise<IncomingMessage>((resolve, reject) => {
          second.on('response', resolve);
          second.on('error', reject);
        });
        await new Promise<void>((resolve) => second.on('continue', resolve));
        second.write(payload.slice(0, 5));
        child.kill('SIGTERM');
        await waitFor(() => stderr, /SIGTERM received/);
        second.end(payload.slice(5));
        const res = await answered;
        const text = await body(res);
        assert.equal(res.statusCode, 200, text);
        assert.equal(res.headers.connection, 'close');
        assert.match(text, /"experiment_id":"\d+"/);
        agent.destroy();

        assert.equal(await exited, 0);
        assert.match(stdout, /carprice tracking server stopped\n$/);
        const store = new SqliteTrackingStore({ path: db, defaultArtifactRoot: 'mlflow-artifacts:' });
        try {
          assert.equal((await store.getExperimentByName('in-flight')).name, 'in-flight');
        } finally {
          await store.close();
        }
      } finally {
        child.kill('SIGKILL');
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
