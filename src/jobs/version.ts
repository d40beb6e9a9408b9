/** carprice's version, recorded in saved models and shown by --version. */
export const CARPRICE_VERSION = '0.1.0';
