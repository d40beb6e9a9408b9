/**
 * The supervisor of one stage command line (run as `node stage-supervisor.js <line>` by
 * run-command.ts, in a new process group of which it is the leader).
 *
 * It runs `/bin/sh -c <line>` in its own process group, so the command and everything it
 * starts can be signalled as one, and it ties that group's life to the carprice process
 * that started it: its stdin is a pipe from that process, and when the pipe closes (the
 * parent exited, crashed or was killed with SIGKILL, which nothing can catch) the whole
 * group gets SIGTERM and, after a grace period, SIGKILL. So a killed `repro` never leaves a
 * stage writing outputs outside the repo lock.
 *
 * The command's stdout/stderr are the supervisor's own (pipes to the parent). The outcome
 * `{"code":N,"signal":S}` (or `{"error":"..."}` when /bin/sh cannot start) is written to
 * fd 3 before exiting.
 */
import { spawn } from 'node:child_process';
import { writeSync } from 'node:fs';

/** Time the command gets to exit after SIGTERM before the group is killed. */
const GRACE_MS = 3000;

function report(result: object): void {
  try {
    writeSync(3, JSON.stringify(result));
  } catch {
    /* parent gone */
  }
}

function killGroup(sig: NodeJS.Signals): void {
  try {
    process.kill(-process.pid, sig);
  } catch {
    /* nothing left */
  }
}

const line = process.argv[2] ?? '';
// The parent signals the whole group (SIGTERM, then SIGKILL) to abort: the command gets the
// signal too; the supervisor stays to report how the command ended.
for (const s of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(s, () => undefined);

const child = spawn('/bin/sh', ['-c', line], { stdio: ['ignore', 'inherit', 'inherit'] });
let parentGone = false;
child.on('error', (e) => {
  report({ error: e.message });
  process.exit(0);
});
child.on('exit', (code, signal) => {
  if (parentGone) {
    // Whatever the command left running dies with it.
    killGroup('SIGKILL');
  }
  report({ code, signal });
  process.exit(0);
});

const onParentGone = (): void => {
  if (parentGone) return;
  parentGone = true;
  killGroup('SIGTERM');
  setTimeout(() => killGroup('SIGKILL'), GRACE_MS).unref();
};
process.stdin.on('data', () => undefined);
process.stdin.on('end', onParentGone);
process.stdin.on('close', onParentGone);
process.stdin.on('error', onParentGone);
