/**
 * Local blue/green deployments with the semantics of CodeDeploy's blue/green on an ALB, on
 * one machine: `deploy` starts the new version as the idle colour on its own port, waits
 * for /ready, runs smoke predictions, switches the load balancer to it, watches its error
 * rate through a bake window (rolling back by itself on a spike), keeps the old colour for
 * a drain period, then stops it. `rollback` returns to the previous version; `status`
 * shows both colours. The state lives in .carprice/deploy/state.json, so a restarted
 * command (or balancer) resumes where the last one left off.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppError } from '../core/errors.js';
import type { LoadBalancerSnapshot } from './load-balancer.js';
import { freePort, sleep, spawnDetached, stopProcess, tailLog, waitForHttp200 } from './processes.js';
import {
  type Color,
  type DeployEvent,
  type DeployState,
  type SlotState,
  deployDir,
  isAlive,
  otherColor,
  readDeployState,
  writeDeployState,
} from './state.js';
import { scalarText } from '../core/text.js';

/** How a colour's API process is started: the CLI's `serve` by default. */
export type SlotLauncher = (slot: { color: Color; port: number; model: string; logFile: string }) => number;

export interface DeployContext {
  cwd: string;
  /** Environment of the processes started (the API reads its own variables from it). */
  env: NodeJS.ProcessEnv;
  /** Path of the CLI entry (dist/src/cli/main.js) used to start the balancer and `serve`. */
  cliEntry: string;
  /** Progress lines for the user (stdout of the command). */
  say: (line: string) => void;
  /**
   * A listing in the original's request shape, POSTed to /predict as the smoke test of a new
   * colour (the CLI passes serving's example listing; deploy/ talks to serving only over HTTP).
   */
  smokeListing: Readonly<Record<string, unknown>>;
  /** Overrides how a colour starts (tests start other real servers); default `carprice serve`. */
  launcher?: SlotLauncher;
}

export interface DeployOptions {
  /** What `carprice serve --model` gets (registry URI or bundle directory); '' = its default. */
  model: string;
  tag: string;
  /** Public address of the load balancer. */
  host: string;
  port: number;
  /** Milliseconds to wait for /ready of the new colour. */
  readyTimeoutMs: number;
  /** Milliseconds the new colour is watched after the switch before the old one is stopped. */
  bakeMs: number;
  /** Milliseconds the old colour keeps running (in-flight requests finish) after the bake. */
  drainMs: number;
  /** Error share of the new colour's requests during the bake that triggers a rollback. */
  maxErrorRate: number;
}

export const DEFAULT_DEPLOY_OPTIONS: Omit<DeployOptions, 'model' | 'tag'> = Object.freeze({
  host: '127.0.0.1',
  port: 8000,
  readyTimeoutMs: 60_000,
  bakeMs: 10_000,
  drainMs: 5_000,
  maxErrorRate: 0.01,
});

export interface DeployResult {
  color: Color;
  port: number;
  version: string;
  url: string;
}

const now = () => new Date().toISOString();

function cliLauncher(ctx: DeployContext): SlotLauncher {
  return ({ port, model, logFile }) =>
    spawnDetached(
      process.execPath,
      [ctx.cliEntry, 'serve', '--host', '127.0.0.1', '--port', String(port), ...(model ? ['--model', model] : [])],
      {
        cwd: ctx.cwd,
        env: ctx.env,
        logFile,
      },
    );
}

/** One deploy operation at a time per project: an O_EXCL lock file holding the pid. */
function acquireLock(cwd: string): () => void {
  const file = join(deployDir(cwd), 'lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeFileSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(file, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        // the directory does not exist yet
        writeDeployState(cwd, readDeployState(cwd));
        continue;
      }
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const holder = Number(readFileSync(file, 'utf8').trim());
      if (holder && isAlive(holder)) {
        throw new AppError(
          'DEPLOY_FAILED',
          `another carprice deploy (pid ${holder}) is running in this project; wait for it to finish`,
        );
      }
      rmSync(file, { force: true }); // its holder died: the lock is stale
    }
  }
  throw new AppError('DEPLOY_FAILED', `could not take the deploy lock ${file}`);
}

async function lbCall(
  state: DeployState,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<LoadBalancerSnapshot> {
  const lb = state.loadBalancer;
  if (!lb) throw new AppError('DEPLOY_FAILED', 'no load balancer is running');
  const r = await fetch(`http://127.0.0.1:${lb.port}${path}`, {
    method,
    headers: { authorization: `Bearer ${lb.controlToken}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(5000),
  });
  const text = await r.text();
  if (r.status !== 200)
    throw new AppError('DEPLOY_FAILED', `load balancer answered ${r.status} to ${method} ${path}: ${text}`);
  return JSON.parse(text) as LoadBalancerSnapshot;
}

async function lbReachable(state: DeployState): Promise<boolean> {
  if (!state.loadBalancer || !isAlive(state.loadBalancer.pid)) return false;
  try {
    await lbCall(state, 'GET', '/_carprice/lb/state');
    return true;
  } catch {
    return false;
  }
}

/** Makes sure the balancer runs on host:port, starting it (and resuming the active colour) if not. */
async function ensureLoadBalancer(ctx: DeployContext, state: DeployState, host: string, port: number): Promise<void> {
  if (await lbReachable(state)) {
    const lb = state.loadBalancer!;
    if (lb.port !== port || lb.host !== host) {
      throw new AppError(
        'USAGE',
        `the load balancer already serves on ${lb.host}:${lb.port}; use that address or \`carprice deploy stop\` first`,
      );
    }
    return;
  }
  const controlToken = randomBytes(24).toString('hex');
  const tokenFile = join(deployDir(ctx.cwd), 'lb.token');
  writeFileSync(tokenFile, controlToken, { mode: 0o600 });
  const logFile = join(deployDir(ctx.cwd), 'lb.log');
  const pid = spawnDetached(
    process.execPath,
    [ctx.cliEntry, 'deploy', 'lb', '--host', host, '--port', String(port), '--token-file', tokenFile],
    {
      cwd: ctx.cwd,
      env: ctx.env,
      logFile,
    },
  );
  state.loadBalancer = { pid, port, host, controlToken };
  const deadline = Date.now() + 10_000;
  while (!(await lbReachable(state))) {
    if (!isAlive(pid) || Date.now() > deadline) {
      state.loadBalancer = null;
      throw new AppError('DEPLOY_FAILED', `the load balancer did not start on ${host}:${port}:\n${tailLog(logFile)}`);
    }
    await sleep(50);
  }
  ctx.say(`load balancer listening on http://${host}:${port} (pid ${pid})`);
  // A balancer restarted after a crash resumes routing to the colour that served.
  const active = state.active ? state.slots[state.active] : undefined;
  if (state.active && active && isAlive(active.pid))
    await lbCall(state, 'POST', '/_carprice/lb/switch', { color: state.active, port: active.port });
}

interface Started {
  color: Color;
  slot: SlotState;
  logFile: string;
}

/** Starts `model` as `color`, waits for /ready and passes a smoke prediction; stops it and throws otherwise. */
async function startSlot(
  ctx: DeployContext,
  state: DeployState,
  color: Color,
  model: string,
  tag: string,
  readyTimeoutMs: number,
): Promise<Started> {
  const leftover = state.slots[color];
  if (leftover && isAlive(leftover.pid)) {
    ctx.say(`stopping the leftover ${color} process (pid ${leftover.pid})`);
    await stopProcess(leftover.pid);
  }
  const port = await freePort();
  const logFile = join(deployDir(ctx.cwd), `${color}.log`);
  writeFileSync(logFile, '');
  const pid = (ctx.launcher ?? cliLauncher(ctx))({ color, port, model, logFile });
  const slot: SlotState = { pid, port, model, version: '', tag, startedAt: now() };
  state.slots[color] = slot;
  writeDeployState(ctx.cwd, state);
  ctx.say(`${color}: started ${model || 'the default model'} on 127.0.0.1:${port} (pid ${pid}), waiting for /ready`);
  const fail = async (why: string): Promise<never> => {
    await stopProcess(pid, 5000);
    delete state.slots[color];
    state.history.push({ at: now(), action: 'deploy', color, tag, model, outcome: 'failed', reason: why });
    writeDeployState(ctx.cwd, state);
    const log = tailLog(logFile);
    throw new AppError(
      'HEALTH_CHECK_FAILED',
      `${color} (${model || 'default model'}) ${why}; the previous version keeps serving${log ? `\n--- ${logFile} ---\n${log}` : ''}`,
    );
  };
  const t0 = Date.now();
  if (!(await waitForHttp200(`http://127.0.0.1:${port}/ready`, pid, readyTimeoutMs))) {
    return fail(isAlive(pid) ? `was not ready within ${readyTimeoutMs} ms` : 'exited before it was ready');
  }
  let version: string;
  try {
    const r = await fetch(`http://127.0.0.1:${port}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(ctx.smokeListing),
      signal: AbortSignal.timeout(5000),
    });
    const body = (await r.json()) as { predicted_price?: unknown; model?: { version?: unknown } };
    const price = body.predicted_price;
    if (r.status !== 200 || typeof price !== 'number' || !Number.isFinite(price) || price <= 0) {
      return fail(`failed the smoke prediction (HTTP ${r.status}: ${JSON.stringify(body).slice(0, 200)})`);
    }
    version = body.model?.version === undefined ? '' : scalarText(body.model.version);
  } catch (e) {
    return fail(`failed the smoke prediction (${(e as Error).message})`);
  }
  slot.version = version;
  writeDeployState(ctx.cwd, state);
  ctx.say(
    `${color}: ready in ${Date.now() - t0} ms, smoke prediction passed${version ? ` (model version ${version})` : ''}`,
  );
  return { color, slot, logFile };
}

/** Errors of `color` in the balancer's counters. */
function errorsOf(s: LoadBalancerSnapshot, color: Color): { requests: number; errors: number } {
  const st = s.upstreams[color].stats;
  return { requests: st.requests, errors: st.responses5xx + st.proxyErrors };
}

/**
 * Switches to `started`, watches it for `bakeMs`, and rolls back to `previous` by itself
 * on an error-rate spike or a crash; then drains and stops `previous`.
 */
async function switchBakeDrain(
  ctx: DeployContext,
  state: DeployState,
  started: Started,
  previous: Color | null,
  opts: DeployOptions,
  action: DeployEvent['action'],
): Promise<void> {
  const { color, slot } = started;
  const before = errorsOf(await lbCall(state, 'POST', '/_carprice/lb/switch', { color, port: slot.port }), color);
  const prevSlot = previous ? state.slots[previous] : undefined;
  state.previous = prevSlot && previous ? { ...prevSlot, color: previous } : state.previous;
  state.active = color;
  writeDeployState(ctx.cwd, state);
  ctx.say(`switched the load balancer to ${color}; baking for ${opts.bakeMs} ms`);

  const bakeEnd = Date.now() + opts.bakeMs;
  while (Date.now() < bakeEnd) {
    await sleep(Math.min(200, Math.max(0, bakeEnd - Date.now())));
    const now_ = errorsOf(await lbCall(state, 'GET', '/_carprice/lb/state'), color);
    const requests = now_.requests - before.requests;
    const errors = now_.errors - before.errors;
    const crashed = !isAlive(slot.pid);
    if (crashed || (errors > 0 && errors / Math.max(1, requests) > opts.maxErrorRate)) {
      const reason = crashed
        ? `${color} exited during the bake window`
        : `${errors} of ${requests} requests failed on ${color} during the bake window`;
      if (prevSlot && previous && isAlive(prevSlot.pid)) {
        await lbCall(state, 'POST', '/_carprice/lb/switch', { color: previous, port: prevSlot.port });
        state.active = previous;
      } else {
        state.active = null;
      }
      await stopProcess(slot.pid, 10_000);
      delete state.slots[color];
      state.history.push({
        at: now(),
        action: 'auto-rollback',
        color,
        tag: slot.tag,
        model: slot.model,
        outcome: 'rolled back',
        reason,
      });
      writeDeployState(ctx.cwd, state);
      throw new AppError(
        'DEPLOY_FAILED',
        `${reason}: rolled back${state.active ? ` to ${state.active}` : ''}\n--- ${started.logFile} ---\n${tailLog(started.logFile)}`,
      );
    }
  }

  if (prevSlot && previous) {
    ctx.say(`draining ${previous} for ${opts.drainMs} ms`);
    await sleep(opts.drainMs);
    await stopProcess(prevSlot.pid);
    delete state.slots[previous];
    ctx.say(`stopped ${previous} (pid ${prevSlot.pid})`);
  }
  state.history.push({ at: now(), action, color, tag: slot.tag, model: slot.model, outcome: 'serving', reason: '' });
  writeDeployState(ctx.cwd, state);
}

/** `carprice deploy`: the new version as the idle colour, then switch, bake, drain. */
export async function deploy(ctx: DeployContext, opts: DeployOptions): Promise<DeployResult> {
  const release = acquireLock(ctx.cwd);
  try {
    const state = readDeployState(ctx.cwd);
    await ensureLoadBalancer(ctx, state, opts.host, opts.port);
    writeDeployState(ctx.cwd, state);
    const activeSlot = state.active ? state.slots[state.active] : undefined;
    const previous = state.active && activeSlot && isAlive(activeSlot.pid) ? state.active : null;
    const color = otherColor(previous);
    const started = await startSlot(ctx, state, color, opts.model, opts.tag, opts.readyTimeoutMs);
    await switchBakeDrain(ctx, state, started, previous, opts, 'deploy');
    return { color, port: started.slot.port, version: started.slot.version, url: `http://${opts.host}:${opts.port}` };
  } finally {
    release();
  }
}

/** `carprice deploy rollback`: back to the version that served before the active one. */
export async function rollback(ctx: DeployContext, opts: Omit<DeployOptions, 'model' | 'tag'>): Promise<DeployResult> {
  const release = acquireLock(ctx.cwd);
  try {
    const state = readDeployState(ctx.cwd);
    const target = state.previous;
    if (!target)
      throw new AppError(
        'DEPLOY_FAILED',
        'nothing to roll back to: no earlier deployment is recorded (see `carprice deploy status`)',
      );
    if (!state.loadBalancer || !(await lbReachable(state))) {
      await ensureLoadBalancer(ctx, state, opts.host, opts.port);
    }
    const current = state.active;
    const currentSlot = current ? state.slots[current] : undefined;
    const color = otherColor(current && currentSlot && isAlive(currentSlot.pid) ? current : null);
    ctx.say(
      `rolling back to ${target.model || 'the default model'}${target.version ? ` (version ${target.version})` : ''}${target.tag ? ` [${target.tag}]` : ''}`,
    );
    const started = await startSlot(ctx, state, color, target.model, target.tag, opts.readyTimeoutMs);
    await switchBakeDrain(
      ctx,
      state,
      started,
      currentSlot && isAlive(currentSlot.pid) ? current : null,
      { ...opts, model: target.model, tag: target.tag },
      'rollback',
    );
    return {
      color,
      port: started.slot.port,
      version: started.slot.version,
      url: `http://${state.loadBalancer!.host}:${state.loadBalancer!.port}`,
    };
  } finally {
    release();
  }
}

export interface DeployStatus {
  active: Color | null;
  loadBalancer: (DeployState['loadBalancer'] & { alive: boolean }) | null;
  slots: { color: Color; alive: boolean; serving: boolean; slot: SlotState }[];
  previous: DeployState['previous'];
  history: DeployEvent[];
  counters: LoadBalancerSnapshot | null;
}

/** `carprice deploy status`: both colours, which serves, the balancer and recent events. */
export async function deployStatus(cwd: string): Promise<DeployStatus> {
  const state = readDeployState(cwd);
  const reachable = await lbReachable(state);
  const counters = reachable ? await lbCall(state, 'GET', '/_carprice/lb/state') : null;
  return {
    active: state.active,
    loadBalancer: state.loadBalancer ? { ...state.loadBalancer, controlToken: '***', alive: reachable } : null,
    slots: (Object.entries(state.slots) as [Color, SlotState][]).map(([color, slot]) => ({
      color,
      alive: isAlive(slot.pid),
      serving: state.active === color,
      slot,
    })),
    previous: state.previous,
    history: state.history.slice(-10),
    counters,
  };
}

/** `carprice deploy stop`: stops both colours and the balancer; the history is kept. */
export async function stopDeployment(ctx: DeployContext): Promise<void> {
  const release = acquireLock(ctx.cwd);
  try {
    const state = readDeployState(ctx.cwd);
    for (const [color, slot] of Object.entries(state.slots) as [Color, SlotState][]) {
      await stopProcess(slot.pid);
      ctx.say(`stopped ${color} (pid ${slot.pid})`);
    }
    if (state.loadBalancer) {
      await stopProcess(state.loadBalancer.pid);
      ctx.say(`stopped the load balancer (pid ${state.loadBalancer.pid})`);
    }
    state.history.push({
      at: now(),
      action: 'stop',
      color: state.active,
      tag: '',
      model: '',
      outcome: 'stopped',
      reason: '',
    });
    state.slots = {};
    state.active = null;
    state.loadBalancer = null;
    writeDeployState(ctx.cwd, state);
    rmSync(join(deployDir(ctx.cwd), 'lb.token'), { force: true });
  } finally {
    release();
  }
}
