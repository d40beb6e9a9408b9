/** carprice's version, recorded in saved models, shown by --version and by the API. */
export const CARPRICE_VERSION = '0.1.0';
