import { watch, type FSWatcher } from 'node:fs';

/**
 * Calls `refresh` whenever the store directory changes (another process appended), backed by a
 * slow poll because file-system notifications can be missed; never twice at once. Stops with
 * `stop()`; never keeps the process alive.
 */
export function watchDirectory(dir: string, refresh: () => Promise<unknown>, pollMs = 250): { stop: () => void } {
  let running = false;
  const tick = () => {
    if (running) return;
    running = true;
    void refresh()
      .catch(() => undefined)
      .finally(() => {
        running = false;
      });
  };
  let watcher: FSWatcher | null = null;
  try {
    watcher = watch(dir, { persistent: false }, tick);
  } catch {
    watcher = null;
  }
  const timer = setInterval(tick, pollMs);
  timer.unref();
  return {
    stop: () => {
      watcher?.close();
      clearInterval(timer);
    },
  };
}
