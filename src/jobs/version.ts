/** carprice's version (from package.json, see core/version.ts), for the jobs that record it. */
export { CARPRICE_VERSION } from '../core/version.js';
