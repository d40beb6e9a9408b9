/** `carprice models download`: a registered model version's bundle into a local directory (what CI bakes into the image). */
import type { Command } from '../command.js';
import { openTrackingFromFlags, TRACKING_STORE_HELP, TRACKING_STORE_OPTIONS } from './tracking-flags.js';
import { resolve } from 'node:path';

export const modelsDownloadCommand: Command = {
  name: 'models download',
  summary: 'Download a model version (models:/Name/Production, models:/Name@champion, runs:/...) into a directory',
  help: `Usage: carprice models download URI --out DIR [--tracking-uri URI]

Copies the model bundle a models:/ or runs:/ URI names into DIR (written to a temporary
sibling first, so an interrupted download leaves nothing half-written), and prints the
version it resolved to. CI uses it to bake the Production bundle into the image.
  --out DIR            directory to create or replace
${TRACKING_STORE_HELP}
Example: carprice models download models:/UsedCarPriceModel/Production --out image-model`,
  options: { out: { type: 'string' }, ...TRACKING_STORE_OPTIONS },
  positionals: true,
  async run(args, ctx) {
    const { AppError } = await import('../../core/errors.js');
    const uri = args.positionals[0];
    if (!uri || !/^(models|runs):\//.test(uri))
      throw new AppError(
        'USAGE',
        'models download needs a URI such as models:/UsedCarPriceModel/Production; find versions with `carprice models show NAME`',
      );
    const out = args.values.out;
    if (typeof out !== 'string' || out === '')
      throw new AppError('USAGE', 'models download needs --out DIR (the directory to write the bundle to)');
    const { TrackingClient } = await import('../../tracking/client.js');
    const t = await openTrackingFromFlags(args, ctx);
    try {
      const client = new TrackingClient({ store: t.store, artifacts: t.artifacts, logger: ctx.logger });
      const version = uri.startsWith('models:/') ? await client.resolveModelVersion(uri) : undefined;
      const dest = await client.downloadModel(uri, resolve(ctx.cwd, out));
      ctx.stdout.write(
        `${version ? `${version.name} version ${version.version} (${version.currentStage})` : uri} -> ${dest}\n`,
      );
    } finally {
      await t.close();
    }
  },
};
