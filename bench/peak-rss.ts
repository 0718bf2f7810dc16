import { writeSync } from 'node:fs';

/*
 * Preloaded into a CLI run by the read benches (`node --import bench/peak-rss.js …`): as the
 * process exits, it writes its peak resident memory (bytes) to stderr, for the bench to read.
 */
process.on('exit', () => {
  writeSync(2, `\npeak-rss=${process.resourceUsage().maxRSS * 1024}\n`);
});
