import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AnyStateMachine } from 'xstate';

/**
 * A machine's config as `createMachine` takes it (and the Stately editor's import, wrapped in
 * `createMachine(…)`): the object
 * the machine was created from, as JSON. Guards and actions are named in `setup` and referenced
 * by string, so they stay; what is code (the `context` factory, which takes the actor's input)
 * is left out: give `context` or provide the implementations when you create it.
 */
export function machineConfigOf(machine: AnyStateMachine): Record<string, unknown> {
  return JSON.parse(JSON.stringify(machine.config)) as Record<string, unknown>;
}

/**
 * The TypeScript source of a machine of machines/ (`<id>.machine.ts`, shipped with the package):
 * its `setup({...}).createMachine({...})` with the guards and actions themselves, self-contained
 * (it imports only xstate). Searched for from this module up, in the repository or the package.
 * Throws when the package was installed without it.
 */
export async function machineSourceOf(id: string): Promise<string> {
  const name = join('machines', `${id}.machine.ts`);
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let up = 0; up < 5; up += 1) {
    if (existsSync(join(dir, name))) return readFile(join(dir, name), 'utf8');
    dir = dirname(dir);
  }
  throw new Error(`the source of machine ${id} (${name}) is not beside this package`);
}
