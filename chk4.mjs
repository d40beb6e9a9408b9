import { readFileSync } from 'node:fs';
const mode = process.argv[2];
const t0 = performance.now();
let n = 0;
if (mode === 'whole') { const { parseXlsx } = await import('./dist/src/data/xlsx.js'); n = (await parseXlsx(readFileSync('/tmp/big40k.xlsx'), 'x')).rows.length; }
else { const { readXlsxChunks } = await import('./dist/src/data/xlsx-stream.js'); for await (const c of readXlsxChunks('/tmp/big40k.xlsx')) n += c.rows.length; }
console.log(mode, n, ((performance.now() - t0) / 1000).toFixed(1), 's', Math.round(process.memoryUsage().rss / 2**20), 'MB rss now');
