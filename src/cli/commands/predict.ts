/** `carprice predict`: prices for listings given as JSON or as a file. */
import { readFileSync } from 'node:fs';
import { AppError } from '../../core/errors.js';
import type { Command } from '../command.js';
import { ttyProgress } from '../progress.js';
import { PARAMS_HELP, PARAMS_OPTIONS, paramsFromFlags, resolvePath } from './params-flags.js';

function parseInput(text: string, where: string): Record<string, unknown>[] {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new AppError(
      'INPUT_INVALID',
      `${where} is not valid JSON (${(e as Error).message}); give an object like {"make":"Maruti",...} or a list of them`,
    );
  }
  return (Array.isArray(v) ? v : [v]) as Record<string, unknown>[];
}

export const predictCommand: Command = {
  name: 'predict',
  summary: 'Predict prices for listings (--input JSON or --data FILE)',
  help: `Usage: carprice predict --model DIR (--input JSON | --data FILE [--out FILE] [--format csv|jsonl]) [--json]

  --model DIR          model bundle directory
  --input JSON         one listing object or a list, inline or @file.json, e.g.
                       '{"odometer":50000,"fitnessAge":10,"featureCount":30,"make":"Maruti",
                         "model":"SWIFT","variant":"VXI","year":2019,"transmissionType":"Manual",
                         "bodyType":"Hatchback","fuelType":"Petrol","ownership":1,"color":"White"}'
  --data FILE          listings file (.csv streamed in chunks, any size; .xlsx or URL read whole);
                       one output row per input row: row,predicted_price,error
                       (a row that cannot be priced gets its error instead of a price)
  --out FILE           write the --data output to FILE, atomically (default: stdout)
  --format csv|jsonl   --data output format (default csv; --json means jsonl)
  --json               print JSON (default for --input)
${PARAMS_HELP}
`,
  options: {
    model: { type: 'string' },
    input: { type: 'string' },
    data: { type: 'string' },
    out: { type: 'string' },
    format: { type: 'string' },
    json: { type: 'boolean' },
    ...PARAMS_OPTIONS,
  },
  async run(args, ctx) {
    const v = args.values;
    if (!v.model) throw new AppError('USAGE', 'missing --model DIR; see `carprice predict --help`');
    if ((v.input === undefined) === (v.data === undefined))
      throw new AppError('USAGE', 'give exactly one of --input JSON or --data FILE; see `carprice predict --help`');
    if (v.format !== undefined && v.format !== 'csv' && v.format !== 'jsonl')
      throw new AppError('USAGE', `--format must be csv or jsonl, got "${String(v.format)}"`);
    if (v.input !== undefined && (v.out !== undefined || v.format !== undefined))
      throw new AppError('USAGE', '--out and --format go with --data FILE; --input prints JSON');
    const params = await paramsFromFlags(args, ctx);
    const model = resolvePath(ctx, v.model as string);
    if (typeof v.data === 'string') {
      const { predictFile } = await import('../../jobs/predict.js');
      const out = typeof v.out === 'string' ? resolvePath(ctx, v.out) : undefined;
      await predictFile({
        params,
        model,
        data: resolvePath(ctx, v.data),
        format: v.format ?? (v.json ? 'jsonl' : 'csv'),
        out,
        write: (t) => (ctx.stdout.writeAsync ? ctx.stdout.writeAsync(t) : ctx.stdout.write(t)),
        env: ctx.env,
        signal: ctx.signal,
        onReport: (s) => ctx.stderr.write(s + '\n'),
        // a meter on stderr (a terminal only), unless the prices themselves scroll by on it
        progress: out || !ctx.stdout.isTTY ? ttyProgress(ctx.stderr) : undefined,
      });
      if (out) ctx.stderr.write(`predictions written to ${v.out as string}\n`);
      return;
    }
    const raw = (v.input as string).startsWith('@')
      ? readInputFile(resolvePath(ctx, (v.input as string).slice(1)))
      : (v.input as string);
    const input = parseInput(raw, (v.input as string).startsWith('@') ? (v.input as string).slice(1) : '--input');
    const { predict } = await import('../../jobs/predict.js');
    const preds = await predict({ params, model, input, env: ctx.env, signal: ctx.signal });
    if (!v.json && preds.length === 1) ctx.stdout.write(JSON.stringify(preds[0]) + '\n');
    else ctx.stdout.write(JSON.stringify(preds) + '\n');
  },
};

function readInputFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new AppError('FILE_NOT_FOUND', `cannot read input file ${path}: ${(e as Error).message}`);
  }
}
