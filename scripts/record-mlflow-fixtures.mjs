#!/usr/bin/env node
// Records the HTTP exchanges of test/fixtures/mlflow/workflow.ts against a real MLflow
// server, for the replay tests (test/integration/mlflow-replay-*.test.ts). Nothing here runs
// at test time; the fixtures it writes are committed. Usage, after `npm run build`:
//   node scripts/record-mlflow-fixtures.mjs <mlflow-url> <out.json> <label> [--no-logged-models | --local-artifacts]
// --local-artifacts runs the workflow for a server started with --no-serve-artifacts.
// It puts a recording proxy between carprice's REST client and the server, runs the
// workflow through it, and writes every request/response pair (bodies as the exact text
// the server sent) with the workflow step that made it. Record against a fresh server: the
// workflow creates fixed names.
import { createServer, request } from 'node:http';
import { writeFileSync } from 'node:fs';

const [target, out, label, ...flags] = process.argv.slice(2);
if (!target || !out || !label) {
  console.error('usage: node scripts/record-mlflow-fixtures.mjs <mlflow-url> <out.json> <label> [--no-logged-models | --local-artifacts]');
  process.exit(2);
}
const { fixtureWorkflow, localArtifactsWorkflow } = await import('../dist/test/fixtures/mlflow/workflow.js');
const { RestTrackingStore } = await import('../dist/src/tracking/rest/rest-tracking-store.js');

const upstream = new URL(target);
const exchanges = [];
let step = '';
const proxy = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const headers = { ...req.headers, host: upstream.host };
    delete headers['accept-encoding'];
    const up = request(new URL(req.url, upstream), { method: req.method, headers }, (ures) => {
      const parts = [];
      ures.on('data', (c) => parts.push(c));
      ures.on('end', () => {
        const text = Buffer.concat(parts).toString('utf8');
        exchanges.push({
          step,
          request: { method: req.method, url: req.url, contentType: req.headers['content-type'] ?? null, body: body.toString('utf8') },
          response: { status: ures.statusCode, contentType: ures.headers['content-type'] ?? null, body: text },
        });
        res.writeHead(ures.statusCode, { 'content-type': ures.headers['content-type'] ?? 'text/plain' });
        res.end(text);
      });
    });
    up.on('error', (e) => {
      res.writeHead(599);
      res.end(String(e));
    });
    up.end(body);
  });
});
await new Promise((r) => proxy.listen(0, '127.0.0.1', r));
const store = new RestTrackingStore({ trackingUri: `http://127.0.0.1:${proxy.address().port}`, env: {}, maxRetries: 0 });
const setStep = (s) => (step = s);
const result = flags.includes('--local-artifacts')
  ? await localArtifactsWorkflow(store, setStep)
  : await fixtureWorkflow({ store, step: setStep, loggedModels: !flags.includes('--no-logged-models') });
proxy.close();
writeFileSync(out, JSON.stringify({ server: label, exchanges }, null, 1) + '\n');
console.log(`${exchanges.length} exchanges -> ${out}`);
console.log(JSON.stringify({ ...result, run: undefined }, null, 1));
