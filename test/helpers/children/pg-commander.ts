/*
 * A host that runs rounds of concurrent commands on a PostgreSQL store: each round of size n
 * runs n commands at once (spawn a session, or hand off, complete or fail one of its own Active
 * ones), so its group commits take random sizes. Prints `ready`, starts once <dir>/go exists,
 * and prints one JSON line at the end: every session it touched and the status it left.
 * Usage: node pg-commander.js <dir> <url> <schema> <seed> <round sizes, comma-separated>
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PostgresEventStore, SessionManager, type Session } from '../../../src/index.js';

const [dir, url, schema, seedText, roundsText] = process.argv.slice(2) as [string, string, string, string, string];
let seed = Number(seedText);
const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
const manager = await SessionManager.open(dir, { store: new PostgresEventStore({ connectionString: url, schema }) });
process.stdout.write('ready\n');
while (!existsSync(join(dir, 'go'))) await new Promise((r) => setTimeout(r, 2));

const status = new Map<string, Session['status']>();
const active: string[] = [];
const context = { issueNumber: 1, currentPhase: 'CodeGeneration' as const, worktreePath: '/w' };
async function command(): Promise<void> {
  const roll = random();
  // Take the session out of the pool first: no two commands of a round touch the same one.
  const target = roll < 0.4 || active.length === 0 ? undefined : active.splice(Math.floor(random() * active.length), 1)[0]!;
  if (target === undefined) {
    const session = await manager.spawnAgentSession('CodeGenAgent', `round work ${seed}`, context);
    status.set(session.id, 'Active');
    active.push(session.id);
  } else if (roll < 0.7) {
    const child = await manager.handoff(target, 'ReviewAgent', { ...context, currentPhase: 'Review' });
    status.set(target, 'HandedOff').set(child.id, 'Active');
    active.push(child.id);
  } else if (roll < 0.85) {
    await manager.completeSession(target);
    status.set(target, 'Completed');
  } else {
    await manager.failSession(target, 'scripted failure');
    status.set(target, 'Failed');
  }
}
for (const size of roundsText.split(',').map(Number)) await Promise.all(Array.from({ length: size }, () => command()));
await manager.close();
process.stdout.write(`${JSON.stringify(Object.fromEntries(status))}\n`);
