/** `carprice predict`: prices for listings given as JSON or as a file. */
import { readFileSync } from 'node:fs';
import { AppError } from '../../core/errors.js';
import type { Command } from '../command.js';
import { PARAMS_HELP, PARAMS_OPTIONS, paramsFromFlags, resolvePath } from './params-flags.js';

function parseInput(text: string, where: string): Record<string, unknown>[] {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new AppError('INPUT_INVALID', `${where} is not valid JSON (${(e as Error).message}); give an object like {"make":"Maruti",...} or a list of them`);
  }
  return (Array.isArray(v) ? v : [v]) as Record<string, unknown>[];
}

export const predictCommand: Command = {
  name: 'predict',
  summary: 'Predict prices for listings (--input JSON or --data FILE)',
  help: `Usage: carprice predict --model DIR (--input JSON | --data FILE) [--json]

  --model DIR          model bundle directory
  --input JSON         one listing object or a list, inline or @file.json, e.g.
                       '{"odometer":50000,"fitnessAge":10,"featureCount":30,"make":"Maruti",
                         "model":"SWIFT","variant":"VXI","year":2019,"transmissionType":"Manual",
                         "bodyType":"Hatchback","fuelType":"Petrol","ownership":1,"color":"White"}'
  --data FILE          listings file (.xlsx/.csv); prints one price per row
  --json               print JSON (default for --input)
${PARAMS_HELP}
`,
  options: { model: { type: 'string' }, input: { type: 'string' }, data: { type: 'string' }, json: { type: 'boolean' }, ...PARAMS_OPTIONS },
  async run(args, ctx) {
    const v = args.values;
    if (!v.model) throw new AppError('USAGE', 'missing --model DIR; see `carprice predict --help`');
    let input: Record<string, unknown>[] | undefined;
    if (typeof v.input === 'string') {
      const raw = v.input.startsWith('@') ? readInputFile(resolvePath(ctx, v.input.slice(1))) : v.input;
      input = parseInput(raw, v.input.startsWith('@') ? v.input.slice(1) : '--input');
    }
    const { predict } = await import('../../jobs/predict.js');
    const preds = await predict({
      params: await paramsFromFlags(args, ctx),
      model: resolvePath(ctx, v.model as string),
      input,
      data: v.data ? resolvePath(ctx, v.data as string) : undefined,
      env: ctx.env,
      signal: ctx.signal,
      onReport: (s) => ctx.stderr.write(s + '\n'),
    });
    if (input && !v.json && preds.length === 1) ctx.stdout.write(JSON.stringify(preds[0]) + '\n');
    else if (v.json || input) ctx.stdout.write(JSON.stringify(preds) + '\n');
    else ctx.stdout.write('row,predicted_price\n' + preds.map((p) => `${p.row},${p.predicted_price}`).join('\n') + '\n');
  },
};

function readInputFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new AppError('FILE_NOT_FOUND', `cannot read input file ${path}: ${(e as Error).message}`);
  }
}
