import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The compiled child script `name` (tests run after `npm run build`, as `npm test` does). */
export function childScript(name: string): string {
  const path = fileURLToPath(new URL(`../../dist/test/helpers/children/${name}.js`, import.meta.url));
  if (!existsSync(path)) throw new Error(`${path} is missing: run \`npm run build\` (npm test does it first)`);
  return path;
}

/** A child script started by {@link startChild}. */
export interface StartedChild {
  child: ChildProcess;
  /** Its stdout so far, line by line. */
  lines: string[];
  /** Its stderr so far. */
  stderr(): string;
  /** Whether it has ended and its output is all in (its stdio closed). */
  ended(): boolean;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

/** Starts a child script with node; its stdout is collected line by line. */
export function startChild(name: string, args: string[]): StartedChild {
  const child = spawn(process.execPath, [childScript(name), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let partial = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop()!;
    lines.push(...parts);
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  let ended = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    child.on('close', (code, signal) => {
      ended = true;
      resolve({ code, signal, stderr });
    }),
  );
  return { child, lines, stderr: () => stderr, ended: () => ended, exited };
}

/**
 * Resolves once every child has printed `line`; rejects after `timeoutMs`, or at once when a
 * child ends without printing it, with that child's stderr: a child that died at its start is
 * reported as what it is, not as a wait that ran out.
 */
export async function waitForLine(children: StartedChild[], line: string, timeoutMs: number, what: string): Promise<void> {
  await waitFor(() => {
    // Ended by 'close', not 'exit': a child that printed the line and exited at once may still have it in the pipe at 'exit'.
    const dead = children.find((c) => c.ended() && !c.lines.includes(line));
    if (dead !== undefined) throw new Error(`${what}: a child ended (${dead.child.exitCode ?? dead.child.signalCode}) before it printed ${line}: ${dead.stderr().slice(-2000)}`);
    return children.every((c) => c.lines.includes(line));
  }, timeoutMs, what);
}

/** Resolves once `predicate` holds, checking every few ms (after running `step`, if given); rejects after `timeoutMs`. */
export async function waitFor(predicate: () => boolean, timeoutMs: number, what: string, step?: () => Promise<void>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await step?.();
    if (predicate()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Polls `probe` until it returns something other than undefined; rejects after `timeoutMs`. */
export async function pollFor<T>(probe: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
