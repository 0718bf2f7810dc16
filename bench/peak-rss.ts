import { readFileSync, writeSync } from 'node:fs';

/*
 * Preloaded into a CLI run by the read benches (`node --import bench/peak-rss.js …`): as the
 * process exits, it writes its peak resident memory (bytes) to stderr, for the bench to read.
 * VmHWM of /proc/self/status, not getrusage's maxrss: Linux keeps maxrss across execve, so a
 * child would report the bench's own peak from before it exec'd node.
 */
process.on('exit', () => {
  const hwm = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  writeSync(2, `\npeak-rss=${Number(hwm?.[1] ?? 0) * 1024}\n`);
});
