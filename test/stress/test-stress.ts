/*
 * npm run test:stress: runs `npm test` again and again, first on an idle machine, then while
 * busy loops keep every core busy, and fails if any run fails. A test that passes alone and
 * fails under load is a bug in the test or the code; this is how one is found before CI finds it.
 * STRESS_IDLE and STRESS_LOADED set the runs of each kind (default 5 and 5). Each run's output
 * goes to test-artifacts/stress/.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';

const idleRuns = Number(process.env['STRESS_IDLE'] ?? 5);
const loadedRuns = Number(process.env['STRESS_LOADED'] ?? 5);
const out = join('test-artifacts', 'stress');
await mkdir(out, { recursive: true });

/** One busy loop per core, until stopped: the machine as busy as CI's neighbours make it. */
function loadEveryCore(): () => void {
  const loops: ChildProcess[] = cpus().map(() => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
  const stop = () => loops.forEach((loop) => loop.kill('SIGKILL'));
  process.once('exit', stop);
  return stop;
}

/** Runs `npm test` once; resolves with its exit code, its output in `log`. */
function npmTest(log: string): Promise<number> {
  return new Promise((resolve) => {
    const file = createWriteStream(log);
    const child = spawn('npm', ['test'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FORCE_COLOR: '0' } });
    child.stdout.pipe(file, { end: false });
    child.stderr.pipe(file, { end: false });
    child.on('close', (code) => file.end(() => resolve(code ?? 1)));
  });
}

const results: Array<{ run: number; load: 'idle' | 'loaded'; code: number; seconds: number }> = [];
for (let run = 1; run <= idleRuns + loadedRuns; run += 1) {
  const load = run <= idleRuns ? 'idle' : 'loaded';
  const stop = load === 'loaded' ? loadEveryCore() : () => {};
  const started = Date.now();
  const log = join(out, `run-${run}-${load}.log`);
  const code = await npmTest(log);
  stop();
  const seconds = Math.round((Date.now() - started) / 1000);
  results.push({ run, load, code, seconds });
  process.stdout.write(`run ${run} (${load}): ${code === 0 ? 'green' : `RED, exit ${code}, see ${log}`} in ${seconds} s\n`);
}
const red = results.filter((r) => r.code !== 0);
process.stdout.write(`${results.length - red.length} of ${results.length} green (${idleRuns} idle, ${loadedRuns} with every core busy)\n`);
process.exitCode = red.length === 0 ? 0 : 1;
