import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
/** What tsconfig.json compiles to dist/: child processes in the tests run those built files. */
const SOURCES = ['src', 'machines', 'examples', 'test/helpers', 'bench'];

function* typeScriptFiles(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* typeScriptFiles(path);
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) yield path;
  }
}

/** The sources whose built file is missing or older than they are. */
export function staleSources(): string[] {
  const stale: string[] = [];
  for (const folder of SOURCES) {
    for (const source of typeScriptFiles(join(root, folder))) {
      const built = join(root, 'dist', relative(root, source).replace(/\.ts$/, '.js'));
      const builtAt = statSync(built, { throwIfNoEntry: false })?.mtimeMs ?? 0;
      if (builtAt < statSync(source).mtimeMs) stale.push(relative(root, source));
    }
  }
  return stale;
}

/**
 * Vitest global setup: the tests start child processes from dist/, so a run without `npm run
 * build` (e.g. `npx vitest run`) would test stale code. Builds first whenever a source is newer.
 */
export default function setup(): void {
  const stale = staleSources();
  if (stale.length === 0) return;
  process.stderr.write(`dist/ is older than ${stale.length} source file(s) (${stale.slice(0, 3).join(', ')}${stale.length > 3 ? ', …' : ''}): building first\n`);
  execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.json')], { stdio: 'inherit' });
}
