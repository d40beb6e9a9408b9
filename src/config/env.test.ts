/** Tests of the declared environment: only declared names, empty = unset, secrets masked. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { childProcessEnv, describeEnv, ENV_VARS, readEnv } from './env.js';

test('readEnv keeps only declared, non-empty variables and freezes them', () => {
  const env = readEnv({ CARPRICE_PARAMS: 'p.yaml', PORT: '', UNRELATED: 'x', AWS_REGION: 'eu-west-1' });
  assert.deepEqual({ ...env }, { CARPRICE_PARAMS: 'p.yaml', AWS_REGION: 'eu-west-1' });
  assert.ok(Object.isFrozen(env));
  assert.ok('CARPRICE_DATA_URL' in ENV_VARS);
});

test('describeEnv masks secrets and shows the rest', () => {
  const env = readEnv({
    MLFLOW_TRACKING_PASSWORD: 'hunter2',
    AWS_SECRET_ACCESS_KEY: 'k',
    MLFLOW_TRACKING_USERNAME: 'me',
    CARPRICE_TRACKING_USERS: 'a:b',
  });
  assert.deepEqual(describeEnv(env), {
    MLFLOW_TRACKING_PASSWORD: '***',
    AWS_SECRET_ACCESS_KEY: '***',
    MLFLOW_TRACKING_USERNAME: 'me',
    CARPRICE_TRACKING_USERS: '***',
  });
  assert.ok(!JSON.stringify(describeEnv(env)).includes('hunter2'));
});

test('childProcessEnv passes the whole environment plus overrides', () => {
  const e = childProcessEnv({ CARPRICE_TEST_OVERRIDE: '1' });
  assert.equal(e.CARPRICE_TEST_OVERRIDE, '1');
  assert.equal(e.PATH, process.env.PATH);
});
