/**
 * A one-line progress bar for long transfers, on stderr, shown only on an interactive
 * terminal and not under CI or NO_COLOR. Redraws at most every 100 ms.
 */

/** Where the bar is drawn. */
export interface ProgressSink {
  write(text: string): void;
  readonly isTTY: boolean;
}

/** A running progress bar. */
export interface Progress {
  tick(bytes: number): void;
  done(): void;
}

function human(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

/** Start a bar for `total` files; a no-op unless `enabled` and the sink is a TTY. */
export function startProgress(
  sink: ProgressSink | undefined,
  label: string,
  total: number,
  enabled: boolean,
): Progress {
  if (!sink || !enabled || !sink.isTTY || total === 0) return { tick: () => undefined, done: () => undefined };
  let files = 0;
  let bytes = 0;
  let last = 0;
  const draw = (force: boolean): void => {
    const now = Date.now();
    if (!force && now - last < 100) return;
    last = now;
    const width = 24;
    const filled = Math.round((files / total) * width);
    sink.write(
      `\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${files}/${total} files, ${human(bytes)}\x1b[K`,
    );
  };
  return {
    tick(b: number) {
      files += 1;
      bytes += b;
      draw(files === total);
    },
    done() {
      draw(true);
      sink.write('\n');
    },
  };
}
