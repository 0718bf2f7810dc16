import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/*
 * The source's rooms and their order: a file imports only from its own folder or a folder below
 * it in this list (docs/how-it-works.md#layout). src/index.ts and src/errors.ts stand apart.
 */
const LAYERS = ['cli', 'server', 'audit', 'report', 'import', 'copy', 'query', 'pipeline', 'manager', 'checkpoint', 'runner', 'projections', 'store', 'process', 'events', 'domain', 'machines'];
const root = fileURLToPath(new URL('..', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sources(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

/** The room of a file: its folder under src/, or machines. */
function roomOf(file: string): string | null {
  const parts = normalize(file).split('/');
  if (parts[0] === 'machines') return 'machines';
  return parts[0] === 'src' && parts.length > 2 ? parts[1]! : null;
}

/** Every relative import of a file, as a path from the repository's root. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(root, file), 'utf8');
  return [...text.matchAll(/from '(\.{1,2}\/[^']+)'/g)].map((m) => relative(root, join(root, dirname(file), m[1]!)));
}

describe('the layout', () => {
  it('imports run only downward through the rooms', () => {
    const upward: string[] = [];
    for (const file of [...sources('src'), ...sources('machines')]) {
      const from = roomOf(file);
      if (from === null) continue;
      for (const target of importsOf(file)) {
        const to = roomOf(target);
        if (to === null || to === from) continue;
        if (LAYERS.indexOf(to) < LAYERS.indexOf(from)) upward.push(`${file} imports ${target} (${from} → ${to})`);
      }
    }
    expect(upward).toEqual([]);
  });

  it('no file outside src/store/file/ reads the log\'s lines itself', () => {
    const offenders: string[] = [];
    for (const file of sources('src')) {
      if (file.startsWith('src/store/file/')) continue;
      for (const target of importsOf(file)) {
        if (/store\/file\/(line-codec|log-scanner|read-log-chunks)\.js$/.test(target)) offenders.push(`${file} imports ${target}`);
      }
      if (/['"]events\.ndjson['"]/.test(readFileSync(join(root, file), 'utf8'))) offenders.push(`${file} names events.ndjson`);
    }
    expect(offenders).toEqual([]);
  });
});
