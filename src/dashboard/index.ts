/** The web dashboard: a Fastify plugin the tracking server and the prediction API mount at /ui. */
export { registerDashboard, dashboardError } from './dashboard.js';
export { knownValuesFrom, knownValuesOf } from './known-values.js';
export type * from './types.js';
