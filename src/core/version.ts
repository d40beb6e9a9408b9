/**
 * carprice's version, recorded in saved models, shown by --version and by the API. The one
 * place it is written down is package.json; this reads it from there (two levels above the
 * compiled dist/src/core/, i.e. the package root, in the repository and when installed).
 */
import { readFileSync } from 'node:fs';

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    version?: unknown;
  };
  if (typeof pkg.version !== 'string') throw new Error('package.json has no "version"');
  return pkg.version;
}

export const CARPRICE_VERSION: string = packageVersion();
