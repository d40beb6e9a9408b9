/** tracking-flags: its params flags match params-flags.ts, and the URI precedence order. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PARAMS_OPTIONS } from './params-flags.js';
import { TRACKING_PARAMS_OPTIONS, TRACKING_STORE_OPTIONS, trackingUriFromFlags } from './tracking-flags.js';
import { silentLogger } from '../../core/logger.js';
import type { CommandContext, ParsedArgs } from '../command.js';

test('TRACKING_PARAMS_OPTIONS restates PARAMS_OPTIONS exactly', () => {
  assert.deepEqual(TRACKING_PARAMS_OPTIONS, PARAMS_OPTIONS);
  assert.deepEqual(Object.keys(TRACKING_STORE_OPTIONS).sort(), ['params', 'set', 'tracking-uri']);
});

test('trackingUriFromFlags: flag, then MLFLOW_TRACKING_URI, then params.yaml, then the default', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'carprice-tracking-flags-'));
  try {
    const ctx = (env: Record<string, string> = {}): CommandContext => ({
      cwd: dir,
      env,
      stdout: { write: () => undefined, isTTY: false },
      stderr: { write: () => undefined, isTTY: false },
      logger: silentLogger,
      signal: new AbortController().signal,
    });
    const args = (values: ParsedArgs['values'] = {}): ParsedArgs => ({ values, positionals: [] });
    assert.equal(await trackingUriFromFlags(args(), ctx()), `sqlite:///${join(dir, '.carprice', 'mlflow.db')}`);
    writeFileSync(join(dir, 'params.yaml'), 'mlflow:\n  tracking_uri: http://127.0.0.1:5999\n');
    assert.equal(await trackingUriFromFlags(args(), ctx()), 'http://127.0.0.1:5999');
    assert.equal(
      await trackingUriFromFlags(args({ set: ['mlflow.tracking_uri=sqlite:///x.db'] }), ctx()),
      'sqlite:///x.db',
    );
    assert.equal(
      await trackingUriFromFlags(args(), ctx({ MLFLOW_TRACKING_URI: 'sqlite:///env.db' })),
      'sqlite:///env.db',
    );
    assert.equal(
      await trackingUriFromFlags(
        args({ 'tracking-uri': 'sqlite:///flag.db' }),
        ctx({ MLFLOW_TRACKING_URI: 'sqlite:///env.db' }),
      ),
      'sqlite:///flag.db',
    );
    assert.equal(
      await trackingUriFromFlags(args({ 'backend-store-uri': 'sqlite:///b.db' }), ctx(), 'backend-store-uri'),
      'sqlite:///b.db',
    );
    writeFileSync(join(dir, 'alt.yaml'), 'mlflow:\n  tracking_uri: sqlite:///alt.db\n');
    assert.equal(await trackingUriFromFlags(args({ params: 'alt.yaml' }), ctx()), 'sqlite:///alt.db');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
