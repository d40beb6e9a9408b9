/**
 * `carprice deploy`, `deploy rollback`, `deploy status`, `deploy stop`: local blue/green
 * deployments of the prediction API behind a load balancer on one machine, and
 * `deploy lb`, the balancer process those commands start.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { AppError } from '../../core/errors.js';
import { childProcessEnv } from '../../config/env.js';
import { EXAMPLE_LISTING } from '../../serving/schemas.js';
import type { Command, CommandContext, ParsedArgs } from '../command.js';
import { checkHost, portFlag } from '../flag-values.js';

const CLI_ENTRY = fileURLToPath(new URL('../main.js', import.meta.url));

const COMMON_OPTIONS = {
  host: { type: 'string', default: '127.0.0.1' },
  port: { type: 'string', default: '8000' },
  'ready-timeout': { type: 'string', default: '60' },
  bake: { type: 'string', default: '10' },
  drain: { type: 'string', default: '5' },
  'max-error-rate': { type: 'string', default: '0.01' },
  json: { type: 'boolean', default: false },
} as const;

const COMMON_HELP = `  --host ADDR           address of the load balancer (default 127.0.0.1; 0.0.0.0 to expose it)
  --port N              port of the load balancer (default 8000)
  --ready-timeout S     seconds the new version has to answer /ready (default 60)
  --bake S              seconds the new version is watched after the switch (default 10)
  --drain S             seconds the old version keeps running after the bake (default 5)
  --max-error-rate R    share of failed requests during the bake that rolls back (default 0.01)
  --json                print the result as JSON`;

function seconds(args: ParsedArgs, flag: string, max: number): number {
  const raw = String(args.values[flag]);
  const n = Number(raw);
  if (!/^\d+(\.\d+)?$/.test(raw) || n > max)
    throw new AppError('USAGE', `--${flag} must be a number of seconds from 0 to ${max}, got "${raw}"`);
  return Math.round(n * 1000);
}

const port = (args: ParsedArgs): number => portFlag(args.values.port, 1)!;

function host(args: ParsedArgs): string {
  const raw = String(args.values.host);
  checkHost(raw);
  return raw;
}

function options(args: ParsedArgs) {
  const rate = Number(args.values['max-error-rate']);
  if (!(rate >= 0 && rate <= 1))
    throw new AppError(
      'USAGE',
      `--max-error-rate must be a share from 0 to 1, got "${String(args.values['max-error-rate'])}"`,
    );
  return {
    host: host(args),
    port: port(args),
    readyTimeoutMs: seconds(args, 'ready-timeout', 3600),
    bakeMs: seconds(args, 'bake', 3600),
    drainMs: seconds(args, 'drain', 3600),
    maxErrorRate: rate,
  };
}

function deployContext(ctx: CommandContext) {
  return {
    cwd: ctx.cwd,
    env: childProcessEnv(),
    cliEntry: CLI_ENTRY,
    smokeListing: EXAMPLE_LISTING,
    say: (line: string) => ctx.stderr.write(`${line}\n`),
  };
}

export const deployCommand: Command = {
  name: 'deploy',
  summary:
    'Deploy a model version blue/green behind a local load balancer (ready check, smoke test, bake, drain, automatic rollback)',
  help: `Usage: carprice deploy [--model URI|DIR] [--tag NAME] [--host 127.0.0.1] [--port 8000] [...]

Starts the new version as the idle colour (blue or green) with \`carprice serve\` on its own
port, waits for /ready, runs a smoke prediction, switches the load balancer on --port to it,
watches its error rate for --bake seconds (rolling back by itself on a spike or a crash),
keeps the old colour for --drain seconds, then stops it. Every response carries
x-carprice-slot. State: .carprice/deploy/ (survives restarts of this command).
  --model URI|DIR       what \`carprice serve --model\` gets (default: its default, the champion)
  --tag NAME            a label recorded with the deployment (e.g. the git sha)
${COMMON_HELP}
See also: carprice deploy status | deploy rollback | deploy stop
Exit codes: 0 serving, 8 the new version failed its checks (the previous one keeps serving).`,
  options: { model: { type: 'string', default: '' }, tag: { type: 'string', default: '' }, ...COMMON_OPTIONS },
  async run(args, ctx) {
    const { deploy } = await import('../../deploy/blue-green.js');
    const r = await deploy(deployContext(ctx), {
      ...options(args),
      model: String(args.values.model),
      tag: String(args.values.tag),
    });
    ctx.stdout.write(
      args.values.json
        ? `${JSON.stringify(r)}\n`
        : `serving ${r.color}${r.version ? ` (model version ${r.version})` : ''} at ${r.url}\n`,
    );
  },
};

export const deployRollbackCommand: Command = {
  name: 'deploy rollback',
  summary: 'Return the local deployment to the version that served before the current one',
  help: `Usage: carprice deploy rollback [--host 127.0.0.1] [--port 8000] [...]

Starts the previous version (as recorded in .carprice/deploy/state.json) in the idle colour,
with the same checks as \`carprice deploy\`, switches to it and stops the current one.
${COMMON_HELP}`,
  options: { ...COMMON_OPTIONS },
  async run(args, ctx) {
    const { rollback } = await import('../../deploy/blue-green.js');
    const r = await rollback(deployContext(ctx), options(args));
    ctx.stdout.write(
      args.values.json
        ? `${JSON.stringify(r)}\n`
        : `rolled back: serving ${r.color}${r.version ? ` (model version ${r.version})` : ''} at ${r.url}\n`,
    );
  },
};

export const deployStatusCommand: Command = {
  name: 'deploy status',
  summary: 'Show both colours of the local deployment, which one serves, and recent events',
  help: `Usage: carprice deploy status [--json]`,
  options: { json: { type: 'boolean', default: false } },
  async run(args, ctx) {
    const { deployStatus } = await import('../../deploy/blue-green.js');
    const s = await deployStatus(ctx.cwd);
    if (args.values.json) {
      ctx.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
      return;
    }
    const lb = s.loadBalancer;
    ctx.stdout.write(
      `load balancer: ${lb ? `${lb.host}:${lb.port} pid ${lb.pid} ${lb.alive ? 'running' : 'NOT RUNNING'}` : 'not started'}\n`,
    );
    if (s.slots.length === 0) ctx.stdout.write('no colour is running\n');
    for (const { color, alive, serving, slot } of s.slots) {
      const st = s.counters?.upstreams[color].stats;
      ctx.stdout.write(
        `${serving ? '*' : ' '} ${color.padEnd(5)} port ${slot.port} pid ${slot.pid} ${alive ? 'running' : 'STOPPED'}  model ${slot.model || '(default)'}${slot.version ? ` v${slot.version}` : ''}${slot.tag ? ` [${slot.tag}]` : ''}${st ? `  requests ${st.requests}, errors ${st.responses5xx + st.proxyErrors}` : ''}\n`,
      );
    }
    if (s.previous)
      ctx.stdout.write(
        `rollback target: ${s.previous.model || '(default)'}${s.previous.version ? ` v${s.previous.version}` : ''}${s.previous.tag ? ` [${s.previous.tag}]` : ''}\n`,
      );
    for (const e of s.history)
      ctx.stdout.write(`${e.at} ${e.action} ${e.color ?? '-'} ${e.outcome}${e.reason ? `: ${e.reason}` : ''}\n`);
  },
};

export const deployStopCommand: Command = {
  name: 'deploy stop',
  summary: 'Stop both colours and the load balancer of the local deployment',
  help: `Usage: carprice deploy stop`,
  options: {},
  async run(_args, ctx) {
    const { stopDeployment } = await import('../../deploy/blue-green.js');
    await stopDeployment(deployContext(ctx));
  },
};

export const deployLbCommand: Command = {
  name: 'deploy lb',
  summary: 'The load balancer process of local deployments (started by `carprice deploy`)',
  help: `Usage: carprice deploy lb --token-file FILE [--host 127.0.0.1] [--port 8000]

Forwards requests to the colour that serves; \`carprice deploy\` starts and controls it.`,
  options: { host: COMMON_OPTIONS.host, port: COMMON_OPTIONS.port, 'token-file': { type: 'string' } },
  async run(args, ctx) {
    const file = args.values['token-file'];
    if (typeof file !== 'string') throw new AppError('USAGE', '--token-file is required (carprice deploy writes it)');
    const controlToken = readFileSync(file, 'utf8').trim();
    const { startLoadBalancer } = await import('../../deploy/load-balancer.js');
    const lb = await startLoadBalancer({ host: host(args), port: port(args), controlToken }).catch(
      (e: NodeJS.ErrnoException) => {
        if (e.code === 'EADDRINUSE')
          throw new AppError(
            'USAGE',
            `port ${port(args)} is already in use on ${host(args)}: stop what listens there or pass --port`,
            { cause: e },
          );
        if (e.code === 'EADDRNOTAVAIL')
          throw new AppError(
            'USAGE',
            `${host(args)} is not an address of this machine: pass --host 127.0.0.1 or 0.0.0.0`,
            { cause: e },
          );
        throw e;
      },
    );
    ctx.stderr.write(`load balancer listening on ${lb.url}\n`);
    await new Promise<void>((resolve) => {
      if (ctx.signal.aborted) resolve();
      else ctx.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    await lb.close();
  },
};
