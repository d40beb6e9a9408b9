/**
 * The local blue/green deployment's state, kept in `.carprice/deploy/state.json` so that
 * `carprice deploy status|rollback` and a restarted `carprice deploy` see what is running:
 * the load balancer (pid, port, control token), both colours (pid, port, model, tag) and
 * which one serves, with a short history. Written atomically; a damaged file is an error
 * naming the file, never silently reset.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../core/atomic-write.js';
import { AppError } from '../core/errors.js';

export type Color = 'blue' | 'green';
export const COLORS: readonly Color[] = ['blue', 'green'];

/** One colour's API process. */
export interface SlotState {
  pid: number;
  port: number;
  /** What `carprice serve --model` was given (empty: the serve default). */
  model: string;
  /** Model version the process reported on /model or / once ready ('' when unknown). */
  version: string;
  tag: string;
  startedAt: string;
}

export interface LoadBalancerState {
  pid: number;
  port: number;
  host: string;
  controlToken: string;
}

export interface DeployEvent {
  at: string;
  action: 'deploy' | 'rollback' | 'auto-rollback' | 'stop';
  color: Color | null;
  tag: string;
  model: string;
  outcome: 'serving' | 'rolled back' | 'failed' | 'stopped';
  reason: string;
}

export interface DeployState {
  formatVersion: 1;
  active: Color | null;
  /** The colour that served before the active one, with what it ran, for `rollback`. */
  previous: (SlotState & { color: Color }) | null;
  slots: Partial<Record<Color, SlotState>>;
  loadBalancer: LoadBalancerState | null;
  history: DeployEvent[];
}

export const EMPTY_STATE: DeployState = Object.freeze({
  formatVersion: 1,
  active: null,
  previous: null,
  slots: {},
  loadBalancer: null,
  history: [],
});

/** Directory of the deployment's state and process logs, under the project. */
export function deployDir(cwd: string): string {
  return join(cwd, '.carprice', 'deploy');
}

export function statePath(cwd: string): string {
  return join(deployDir(cwd), 'state.json');
}

/** Reads the state; a missing file is the empty state, a damaged one an error. */
export function readDeployState(cwd: string): DeployState {
  const p = statePath(cwd);
  if (!existsSync(p)) return structuredClone(EMPTY_STATE);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(p, 'utf8'));
  } catch (e) {
    throw new AppError(
      'CONFIG_INVALID',
      `${p} is not valid JSON (${(e as Error).message}); run \`carprice deploy stop\` and remove it to start afresh`,
    );
  }
  const s = raw as Partial<DeployState>;
  if (
    !s ||
    typeof s !== 'object' ||
    s.formatVersion !== 1 ||
    typeof s.slots !== 'object' ||
    !Array.isArray(s.history)
  ) {
    throw new AppError(
      'FORMAT_VERSION',
      `${p} is not a carprice deploy state (formatVersion 1); run \`carprice deploy stop\` and remove it to start afresh`,
    );
  }
  return { ...structuredClone(EMPTY_STATE), ...s };
}

/** Writes the state atomically; the history keeps the last 50 events. */
export function writeDeployState(cwd: string, state: DeployState): void {
  const trimmed = { ...state, history: state.history.slice(-50) };
  writeFileAtomic(statePath(cwd), JSON.stringify(trimmed, null, 2) + '\n');
}

/** True when a process with this pid exists (signal 0 probes without touching it). */
export function isAlive(pid: number | undefined): boolean {
  if (!pid || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function otherColor(c: Color | null): Color {
  return c === 'blue' ? 'green' : 'blue';
}
