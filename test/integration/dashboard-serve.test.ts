/**
 * The dashboard as `carprice tracking serve` ships it: the built CLI as a child process with
 * CARPRICE_TRACKING_USERS set serves /ui from the built assets (dist/ui, made by
 * `npm run build`), asks for a user before the page, an asset or any JSON, and serves
 * them to a signed-in user; the built assets load nothing from another host (no CDN).
 * (`carprice up` serving /ui is in up.test.ts; every route's guard in dashboard-api.test.ts.)
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteTrackingStore } from '../../src/tracking/sqlite/sqlite-tracking-store.js';
import { startTrackingServer } from '../helpers/tracking-server.js';

const basic = (u: string, p: string) => 'Basic ' + Buffer.from(`${u}:${p}`).toString('base64');

describe('dashboard served by carprice tracking serve', () => {
  it('with CARPRICE_TRACKING_USERS: nothing under /ui without a user; the page, assets and data with one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'carprice-ui-serve-'));
    const store = new SqliteTrackingStore({ path: join(dir, 'server.db'), defaultArtifactRoot: join(dir, 'arts') });
    await store.createExperiment('secret-cars');
    await store.close();
    const server = await startTrackingServer(dir, { env: { CARPRICE_TRACKING_USERS: 'alice:s3cret' } });
    try {
      for (const path of ['/ui/', '/ui/assets/app.js', '/ui/assets/app.css', '/ui/api/experiments']) {
        const r = await fetch(server.uri + path);
        assert.equal(r.status, 401, path);
        assert.match(r.headers.get('www-authenticate') ?? '', /^Basic /);
        assert.doesNotMatch(await r.text(), /secret-cars|preact|<script/, path);
      }
      const auth = { authorization: basic('alice', 's3cret') };
      const page = await fetch(server.uri + '/ui/', { headers: auth });
      assert.equal(page.status, 200);
      const html = await page.text();
      const assets = [...html.matchAll(/(?:src|href)="(\/ui\/assets\/[^"]+)"/g)].map((m) => m[1]);
      assert.deepEqual(
        assets.map((a) => a.split('?')[0]),
        ['/ui/assets/app.css', '/ui/assets/app.js'],
      );
      // the page names no other host: scripts, styles and fonts are all this server's
      assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//);
      for (const a of assets) {
        const r = await fetch(server.uri + a, { headers: auth });
        assert.equal(r.status, 200, a);
        const text = await r.text();
        // the shipped file, byte for byte
        assert.equal(
          text,
          readFileSync(new URL(`../../ui/${a.split('/').pop()!.split('?')[0]}`, import.meta.url), 'utf8'),
        );
        // nothing fetched from elsewhere: no URL but XML namespace names (SVG, XHTML, MathML)
        const urls = [...text.matchAll(/https?:\/\/[^\s"'`)]+/g)].map((m) => m[0]);
        assert.deepEqual(
          urls.filter((u) => !u.startsWith('http://www.w3.org/')),
          [],
          a,
        );
      }
      const exps = (await (await fetch(server.uri + '/ui/api/experiments', { headers: auth })).json()) as {
        experiments: Array<{ name: string }>;
      };
      assert.ok(exps.experiments.some((e) => e.name === 'secret-cars'));
    } finally {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
