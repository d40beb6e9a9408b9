#!/usr/bin/env node
// Records the HTTP exchanges of test/fixtures/mlflow/workflow.ts against a real MLflow
// server, for the replay tests (test/integration/mlflow-replay-*.test.ts). Nothing here runs
// at test time; the fixtures it writes are committed. Usage, after `npm run build`:
//   node scripts/record-mlflow-fixtures.mjs <mlflow-url> <out.json> <label> [--no-logged-models | --local-artifacts | --raw | --hostile | --exec -- CMD...]
// --local-artifacts runs the workflow for a server started with --no-serve-artifacts;
// --raw sends the raw probes of RAW_REQUESTS (malformed input, unusual methods) instead;
// --hostile sends HOSTILE_REQUESTS (error paths; {{name}} in a probe is an id an earlier
// probe's answer gave, see `save`);
// --exec -- CMD ARGS... runs another MLflow client (e.g. MLflow's own Python client) with
// MLFLOW_TRACKING_URI pointing at the recording proxy, and labels each exchange by endpoint.
// It puts a recording proxy between carprice's REST client and the server, runs the
// workflow through it, and writes every request/response pair (bodies as the exact text
// the server sent) with the workflow step that made it. Record against a fresh server: the
// workflow creates fixed names.
import { createServer, request } from 'node:http';
import { writeFileSync } from 'node:fs';

const [target, out, label, ...flags] = process.argv.slice(2);
if (!target || !out || !label) {
  console.error(
    'usage: node scripts/record-mlflow-fixtures.mjs <mlflow-url> <out.json> <label> [--no-logged-models | --local-artifacts | --raw | --hostile | --exec -- CMD...]',
  );
  process.exit(2);
}
const { fixtureWorkflow, localArtifactsWorkflow, RAW_REQUESTS, HOSTILE_REQUESTS } =
  await import('../dist/test/fixtures/mlflow/workflow.js');
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
          step:
            step ||
            new URL(req.url, 'http://x').pathname
              .replace(/^\/(ajax-)?api\/2\.0\/mlflow(-artifacts)?\//, '')
              .replace(/[0-9a-f]{32}/g, ':id'),
          request: {
            method: req.method,
            url: req.url,
            contentType: req.headers['content-type'] ?? null,
            body: body.toString('utf8'),
          },
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
const store = new RestTrackingStore({
  trackingUri: `http://127.0.0.1:${proxy.address().port}`,
  env: {},
  maxRetries: 0,
});
const setStep = (s) => (step = s);
const rawProbes = async (probes) => {
  const vars = {};
  const fill = (s) => (s ?? '').replace(/\{\{(\w+)\}\}/g, (_, k) => vars[k] ?? `{{${k}}}`);
  for (const probe of probes) {
    const r = { ...probe, url: fill(probe.url), body: probe.body === undefined ? undefined : fill(probe.body) };
    step = r.step;
    const answer = await new Promise((resolve, reject) => {
      const headers = r.contentType ? { 'content-type': r.contentType } : {};
      // A body is sent with its length (Node sends none for a DELETE without one).
      if (r.body) headers['content-length'] = String(Buffer.byteLength(r.body));
      const req = request(
        { host: '127.0.0.1', port: proxy.address().port, method: r.method, path: r.url, headers },
        (res) => {
          const parts = [];
          res.on('data', (c) => parts.push(c));
          res.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
        },
      );
      req.on('error', reject);
      req.end(r.body);
    });
    for (const [k, path] of Object.entries(probe.save ?? {}))
      vars[k] = path.split('.').reduce((o, x) => o?.[x], JSON.parse(answer));
    if (probe.carprice) exchanges[exchanges.length - 1].carprice = probe.carprice;
  }
  return { probes: probes.length };
};
const execAt = flags.indexOf('--');
const runExec = async () => {
  const [cmd, ...args] = flags.slice(execAt + 1);
  const env = { ...process.env, MLFLOW_TRACKING_URI: `http://127.0.0.1:${proxy.address().port}` };
  const r = await new Promise((resolve) => {
    import('node:child_process').then(({ spawn }) => {
      const c = spawn(cmd, args, { env, stdio: 'inherit' });
      c.on('exit', (code) => resolve(code));
    });
  });
  if (r !== 0) throw new Error(`${cmd} exited with ${r}`);
  return { exec: cmd };
};
const result = flags.includes('--exec')
  ? await runExec()
  : flags.includes('--raw') || flags.includes('--hostile')
    ? await rawProbes(flags.includes('--hostile') ? HOSTILE_REQUESTS : RAW_REQUESTS)
    : flags.includes('--local-artifacts')
      ? await localArtifactsWorkflow(store, setStep)
      : await fixtureWorkflow({ store, step: setStep, loggedModels: !flags.includes('--no-logged-models') });
proxy.close();
writeFileSync(out, JSON.stringify({ server: label, exchanges }, null, 1) + '\n');
console.log(`${exchanges.length} exchanges -> ${out}`);
console.log(JSON.stringify({ ...result, run: undefined }, null, 1));
