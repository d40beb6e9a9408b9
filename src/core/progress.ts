/**
 * Progress of long steps (reading a file, building features, fitting trees), reported to
 * whoever shows it (the CLI draws a one-line meter on a TTY and nothing elsewhere).
 */

/**
 * Told the units done so far as a step goes, `finished` once at its end, and when known
 * the share of its source read so far (0..1, for an ETA).
 */
export type ProgressMeter = (done: number, finished?: boolean, fraction?: number) => void;

/**
 * Starts a meter for a step: `what` is its subject (a file, a model), `total` the units
 * expected when known (for an ETA), `unit` what is counted (default 'listings').
 */
export type ProgressFactory = (step: string, what: string, total?: number, unit?: string) => ProgressMeter;
