import { duration } from './format.js';

/** How often a bar is redrawn, at most. */
const EVERY_MS = 100;
const WIDTH = 24;

/** A progress bar on stderr: `tick` with how far the work has got, `done` when it ends. */
export interface Progress {
  tick(done: number): void;
  done(): void;
}

const SILENT: Progress = { tick: () => {}, done: () => {} };

/**
 * A bar for long work (count, rate, time left) on stderr when stderr is a terminal, and nothing
 * otherwise: a pipe or a log file gets no carriage returns. `MIYABI_PROGRESS=always|never`
 * overrides the guess. `total` and the ticks count `unit`s (bytes are shown as MB).
 */
export function progressBar(label: string, total: number, unit: 'bytes' | 'events' | 'sessions'): Progress {
  const setting = process.env['MIYABI_PROGRESS'];
  const shown = setting === 'always' || (setting !== 'never' && process.stderr.isTTY === true);
  if (!shown || total <= 0) return SILENT;
  const started = performance.now();
  let last = 0;
  const amount = (n: number) => (unit === 'bytes' ? `${(n / 1e6).toFixed(1)} MB` : `${Math.round(n).toLocaleString('en-US')} ${unit}`);
  const draw = (done: number) => {
    const fraction = Math.min(1, done / total);
    const seconds = (performance.now() - started) / 1000;
    const rate = seconds > 0 ? done / seconds : 0;
    const left = rate > 0 ? ((total - done) / rate) * 1000 : null;
    const filled = Math.round(fraction * WIDTH);
    const line = `${label} [${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ${(fraction * 100).toFixed(0)}% ${amount(done)} of ${amount(total)}, ${amount(rate)}/s, ${left === null ? '—' : duration(Math.round(left))} left`;
    process.stderr.write(`\r\u001b[K${line}`);
  };
  return {
    tick(done) {
      const now = performance.now();
      if (now - last < EVERY_MS) return;
      last = now;
      draw(done);
    },
    done() {
      if (last !== 0) process.stderr.write('\r\u001b[K');
    },
  };
}

/**
 * A bar for work that learns its total with its first report (a read's `size`): `report(done,
 * total)` draws it, made on the first call; `done()` clears it, if one was made.
 */
export function progressReporter(label: string, unit: 'bytes' | 'events'): { report: (done: number, total: number) => void; done: () => void } {
  let bar: Progress | null = null;
  return {
    report(done, total) {
      bar ??= progressBar(label, total, unit);
      bar.tick(done);
    },
    done: () => bar?.done(),
  };
}
