/** carprice's version, recorded in saved models and shown by --version. */
export { CARPRICE_VERSION } from '../core/version.js';
