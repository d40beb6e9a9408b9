/**
 * The dashboard's HTTP side on the real tracking server (127.0.0.1, real SQLite file):
 * with users, nothing under /ui (page, assets, JSON, artifacts) answers without them;
 * changes need the dashboard's header and a same-origin request; artifacts are never
 * rendered as HTML; bad parameters are 4xx naming the parameter.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { seedStore, startDashboard, PNG, type RunningDashboard, type Seeded } from '../helpers/dashboard.js';

let seeded: Seeded;
let open: RunningDashboard;
let locked: RunningDashboard;
const lockedRoutes: Array<{ method: string; url: string }> = [];
const basic = (u: string, p: string) => 'Basic ' + Buffer.from(`${u}:${p}`).toString('base64');

before(async () => {
  seeded = await seedStore({ runs: 5, children: 2 });
  open = await startDashboard(seeded.store);
  // a registered model too, so the model routes would have data to leak
  await seeded.store.createRegisteredModel('SecretModel');
  await seeded.store.createModelVersion({
    name: 'SecretModel',
    source: `runs:/${seeded.runIds[0]}/model`,
    runId: seeded.runIds[0],
  });
  locked = await startDashboard(seeded.store, { users: 'alice:s3cret,bob:hunter2', routes: lockedRoutes });
});
after(async () => {
  await open?.close();
  await locked?.close();
  await seeded?.store.close();
});

describe('dashboard HTTP', () => {
  it('serves the page and its assets; /ui redirects or serves the shell', async () => {
    const page = await fetch(open.url + '/ui/');
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.match(html, /<script type="module" src="\/ui\/assets\/app\.js\?v=[0-9a-f]{12}">/);
    assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    const js = await fetch(open.url + '/ui/assets/app.js');
    assert.equal(js.status, 200);
    assert.match(js.headers.get('content-type') ?? '', /javascript/);
    const etag = js.headers.get('etag')!;
    assert.equal((await fetch(open.url + '/ui/assets/app.js', { headers: { 'if-none-match': etag } })).status, 304);
    assert.equal((await fetch(open.url + '/ui/assets/../../package.json')).status, 404);
    assert.equal((await fetch(open.url + '/ui/assets/secret.js')).status, 404);
    assert.equal((await fetch(open.url + '/ui/api/nope')).status, 404);
  });

  it('with users: every /ui route answers 401 with a challenge and no data until signed in', async () => {
    const runId = seeded.runIds[0];
    for (const path of [
      '/ui',
      '/ui/',
      '/ui/assets/app.js',
      '/ui/assets/app.css',
      '/ui/api/session',
      '/ui/api/experiments',
      `/ui/api/runs?experiment_ids=${seeded.experimentId}`,
      `/ui/api/runs/${runId}`,
      `/ui/api/runs/${runId}/artifact?path=notes.txt`,
      '/ui/api/models',
    ]) {
      for (const auth of [undefined, basic('alice', 'wrong'), basic('mallory', 's3cret')]) {
        const r = await fetch(locked.url + path, { headers: auth ? { authorization: auth } : {}, redirect: 'manual' });
        const body = await r.text();
        assert.equal(r.status, 401, `${path} with ${auth ?? 'nothing'}`);
        assert.match(r.headers.get('www-authenticate') ?? '', /^Basic realm=/);
        assert.ok(!body.includes('cars') && !body.includes(runId) && !body.includes('hello'), `${path} leaks: ${body}`);
      }
    }
    const ok = await fetch(locked.url + '/ui/api/session', { headers: { authorization: basic('bob', 'hunter2') } });
    assert.equal(ok.status, 200);
    const s = (await ok.json()) as { user: string; canWrite: boolean };
    assert.equal(s.user, 'bob');
    assert.equal(s.canWrite, false, 'no governance on this server: nobody may promote');
  });

  it('with users: every route the dashboard registers (walked from the server itself) answers 401 and leaks nothing', async () => {
    const runId = seeded.runIds[0];
    const ui = lockedRoutes.filter((r) => r.url.startsWith('/ui') && r.method !== 'OPTIONS');
    // the walk found the dashboard: the shell, assets, runs, artifacts, models, pipeline, predictions
    assert.ok(ui.length >= 20, `only ${ui.length} routes found`);
    const fill: Record<string, string> = { id: runId, name: 'SecretModel', version: '1', file: 'app.js' };
    const query = `?experiment_ids=${seeded.experimentId}&path=notes.txt&keys=rmse&ids=${runId}`;
    const secrets = ['cars', runId, 'hello', 'SecretModel', 'rmse', 'preact', 'mlflow.db'];
    const checked = new Set<string>();
    for (const { method, url } of ui) {
      const path = url.replace(/:(\w+)/g, (_m, k: string) => {
        assert.ok(fill[k], `no value for :${k} in ${url}`);
        return fill[k];
      });
      // the shell is registered as /ui and answers /ui/ too
      for (const [p, auth] of (path === '/ui' ? ['/ui', '/ui/'] : [path]).flatMap((p) =>
        [undefined, basic('alice', 'wrong'), basic('mallory', 's3cret'), 'Bearer s3cret'].map((a) => [p, a] as const),
      )) {
        const r = await fetch(locked.url + p + query, {
          method,
          headers: {
            ...(auth ? { authorization: auth } : {}),
            ...(method === 'POST' ? { 'content-type': 'application/json', 'x-carprice-ui': '1' } : {}),
          },
          body: method === 'POST' ? JSON.stringify({ version: '1', reason: 'a good reason' }) : undefined,
          redirect: 'manual',
        });
        const body = await r.text();
        assert.equal(r.status, 401, `${method} ${p} with ${auth ?? 'nothing'}`);
        // (/ui without the slash meets the tracking server's own guard first: realm "mlflow")
        assert.match(r.headers.get('www-authenticate') ?? '', /^Basic realm="(carprice|mlflow)"/, `${method} ${p}`);
        for (const s of secrets) assert.ok(!body.includes(s), `${method} ${p} leaks '${s}': ${body}`);
      }
      checked.add(`${method} ${url}`);
    }
    for (const must of [
      'GET /ui',
      'HEAD /ui/',
      'GET /ui/assets/:file',
      'GET /ui/api/runs/:id/artifact',
      'POST /ui/api/models/:name/promote',
    ])
      assert.ok(checked.has(must), `${must} was not walked`);
    // the same routes answer a signed-in user (the 401 above is the guard, not a missing route)
    const ok = await fetch(`${locked.url}/ui/api/models/SecretModel`, {
      headers: { authorization: basic('alice', 's3cret') },
    });
    assert.equal(ok.status, 200);
  });

  it('refuses changes without the dashboard header or from another origin', async () => {
    const auth = basic('alice', 's3cret');
    const url = `${locked.url}/ui/api/models/M/rollback`;
    const body = JSON.stringify({ reason: 'test it' });
    const plain = await fetch(url, {
      method: 'POST',
      headers: { authorization: auth, 'content-type': 'application/json' },
      body,
    });
    assert.equal(plain.status, 403);
    const cross = await fetch(url, {
      method: 'POST',
      headers: {
        authorization: auth,
        'content-type': 'application/json',
        'x-carprice-ui': '1',
        origin: 'http://evil.example',
      },
      body,
    });
    assert.equal(cross.status, 403);
    const form = await fetch(url, {
      method: 'POST',
      headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded', 'x-carprice-ui': '1' },
      body: 'reason=x',
    });
    assert.equal(form.status, 400);
    // with the header, same origin: the server has no governance, so 501 saying so
    const same = await fetch(url, {
      method: 'POST',
      headers: { authorization: auth, 'content-type': 'application/json', 'x-carprice-ui': '1' },
      body,
    });
    assert.equal(same.status, 501);
    assert.match(((await same.json()) as { message: string }).message, /registry/);
  });

  it('sends artifacts as text, JSON or images, sandboxed; lists folders; downloads as attachments', async () => {
    const id = seeded.runIds[0];
    const list = (await (await fetch(`${open.url}/ui/api/runs/${id}/artifacts`)).json()) as {
      files: Array<{ path: string; isDir: boolean }>;
    };
    assert.deepEqual(
      list.files.map((f) => `${f.path}${f.isDir ? '/' : ''}`),
      ['metrics/', 'notes.txt', 'page.html', 'plots/'],
    );
    const html = await fetch(`${open.url}/ui/api/runs/${id}/artifact?path=page.html`);
    assert.match(html.headers.get('content-type')!, /^text\/plain/);
    assert.match(html.headers.get('content-security-policy')!, /sandbox/);
    const png = await fetch(`${open.url}/ui/api/runs/${id}/artifact?path=plots/residuals.png`);
    assert.equal(png.headers.get('content-type'), 'image/png');
    assert.deepEqual(Buffer.from(await png.arrayBuffer()), PNG);
    const json = await fetch(`${open.url}/ui/api/runs/${id}/artifact?path=metrics/summary.json`);
    assert.match(json.headers.get('content-type')!, /application\/json/);
    const dl = await fetch(`${open.url}/ui/api/runs/${id}/artifact?path=notes.txt&download=1`);
    assert.match(dl.headers.get('content-disposition')!, /^attachment; filename="notes.txt"/);
    assert.equal(await dl.text(), 'hello from run 0\nsecond line\n');
    const escape = await fetch(`${open.url}/ui/api/runs/${id}/artifact?path=../../mlflow.db`);
    assert.equal(escape.status, 400);
    const missing = await fetch(`${open.url}/ui/api/runs/${id}/artifact?path=nope.txt`);
    assert.equal(missing.status, 404);
  });

  it('answers bad parameters with a 4xx naming the parameter', async () => {
    const cases: Array<[string, number, RegExp]> = [
      ['/ui/api/runs', 400, /experiment_ids/],
      [`/ui/api/runs?experiment_ids=${seeded.experimentId}&max_results=0`, 400, /max_results/],
      [`/ui/api/runs?experiment_ids=${seeded.experimentId}&max_results=abc`, 400, /max_results/],
      [`/ui/api/runs?experiment_ids=${seeded.experimentId}&filter=metrics.x%20%3C%3C%201`, 400, /filter/i],
      [`/ui/api/runs?experiment_ids=${seeded.experimentId}&order_by=bogus.x`, 400, /order/i],
      [`/ui/api/runs?experiment_ids=${seeded.experimentId}&page_token=zzz`, 400, /page token/i],
      ['/ui/api/runs/not%20an%20id', 400, /run id/],
      ['/ui/api/runs/0123456789abcdef0123456789abcdef', 404, /run/i],
      [`/ui/api/runs/${seeded.runIds[0]}/metric-history`, 400, /keys/],
      ['/ui/api/compare', 400, /ids/],
      ['/ui/api/pipeline', 501, /pipeline/],
      ['/ui/api/known-values', 501, /listings/],
      ['/ui/api/models/NoSuchModel', 404, /NoSuchModel/],
    ];
    for (const [path, status, msg] of cases) {
      const r = await fetch(open.url + path);
      const b = (await r.json()) as { message: string };
      assert.equal(r.status, status, `${path}: ${b.message}`);
      assert.match(b.message, msg, path);
    }
  });

  it('pages runs with the store tokens and folds children under their parent', async () => {
    const get = async (q: string) =>
      (await (await fetch(`${open.url}/ui/api/runs?experiment_ids=${seeded.experimentId}${q}`)).json()) as {
        runs: Array<{ id: string; name: string; children?: Array<{ id: string }> }>;
        nextPageToken: string | null;
        metricKeys: string[];
        paramKeys: string[];
      };
    const all = await get('&max_results=100');
    assert.equal(all.runs.length, 6, '5 runs + the parent; its 2 children folded');
    const parent = all.runs.find((r) => r.id === seeded.parentId)!;
    assert.deepEqual(parent.children!.map((c) => c.id).sort(), [...seeded.childIds].sort());
    assert.deepEqual(all.metricKeys, ['mae', 'r2', 'rmse']);
    assert.deepEqual(all.paramKeys, ['algo', 'alpha', 'max_depth']);
    const first = await get('&max_results=3&nest=0');
    assert.equal(first.runs.length, 3);
    assert.ok(first.nextPageToken);
    const second = await get(`&max_results=3&nest=0&page_token=${encodeURIComponent(first.nextPageToken)}`);
    assert.equal(second.runs.length, 3);
    assert.deepEqual(new Set([...first.runs, ...second.runs].map((r) => r.id)).size, 6);
    const kids = await get(`&parent=${seeded.parentId}`);
    assert.deepEqual(kids.runs.map((r) => r.id).sort(), [...seeded.childIds].sort());
  });
});
