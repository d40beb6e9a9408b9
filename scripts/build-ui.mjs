#!/usr/bin/env node
// Builds the web dashboard's browser code (src/dashboard/web) into dist/ui/app.js and
// dist/ui/app.css with esbuild: one minified ES module (preact, uPlot bundled in; no CDN)
// and one stylesheet. Type-checks the browser code first (tsc with the DOM library).
// Written to a temporary folder and renamed into place, so an interrupted build never
// leaves half an app behind. Usage: node scripts/build-ui.mjs [--no-check]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

const root = new URL('..', import.meta.url).pathname;
const web = join(root, 'src/dashboard/web');
const out = join(root, 'dist/ui');
const tmp = join(root, `dist/.ui-${process.pid}`);

if (!process.argv.includes('--no-check')) {
  const tsc = spawnSync(
    process.execPath,
    [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(web, 'tsconfig.json')],
    {
      stdio: 'inherit',
    },
  );
  if (tsc.status !== 0) process.exit(tsc.status ?? 1);
}
rmSync(tmp, { recursive: true, force: true });
mkdirSync(tmp, { recursive: true });
try {
  await build({
    entryPoints: { app: join(web, 'main.tsx') },
    bundle: true,
    minify: true,
    format: 'esm',
    target: 'es2020',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    outdir: tmp,
    legalComments: 'none',
    logLevel: 'warning',
  });
  await build({
    entryPoints: { app: join(web, 'app.css') },
    bundle: true,
    minify: true,
    outdir: tmp,
    logLevel: 'warning',
  });
  const old = `${out}.old-${process.pid}`;
  if (existsSync(out)) renameSync(out, old);
  renameSync(tmp, out);
  rmSync(old, { recursive: true, force: true });
} catch (e) {
  rmSync(tmp, { recursive: true, force: true });
  console.error(`build-ui: ${e.message}`);
  process.exit(1);
}
