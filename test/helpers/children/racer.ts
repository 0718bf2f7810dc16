/*
 * Multi-process racer: repeatedly picks an Active session (mostly the oldest, to collide) and tries to hand it off, complete it
 * or fail it, racing other racers on the same store. Prints its wins as one JSON line at the end.
 * Usage: node racer.js <dir> <seed> <operations> [<postgres url> <schema>]
 * With a PostgreSQL url the racer is its own "host": <dir> is only its local cache, the events
 * live in the database, and the start signal is a row count instead of a file.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PostgresEventStore, SessionManager, isSessionError, PHASES, type Session } from '../../../src/index.js';

const [dir, seedText, opsText, pgUrl, schema] = process.argv.slice(2) as [string, string, string, string?, string?];
let seed = Number(seedText);
const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
const store = pgUrl === undefined ? undefined : new PostgresEventStore({ connectionString: pgUrl, schema: schema! });
const manager = await SessionManager.open(dir, { checkpointEvery: 100, ...(store === undefined ? {} : { store }) });
// Start together: the parent creates <dir>/go once every racer has said it is ready.
process.stdout.write('ready\n');
while (!existsSync(join(dir, 'go'))) await new Promise((r) => setTimeout(r, 2));
const wins: Array<{ op: string; id: string; child?: string }> = [];
const refused: Record<string, number> = {};

for (let i = 0; i < Number(opsText); i += 1) {
  const active = await manager.listActiveSessions();
  if (active.length === 0) break;
  // Mostly the oldest Active session, so that racers collide on the same one.
  const target = active[random() < 0.7 ? 0 : Math.floor(random() * active.length)]!;
  const depth = (await manager.getSessionLineage(target.id)).length;
  const roll = random();
  const op = roll < 0.5 && depth < PHASES.length ? 'handoff' : roll < 0.8 ? 'complete' : 'fail';
  // Each round also races itself: the chosen move and a competing completion of the same session.
  const attempts = [attempt(op, target, depth), attempt('complete', target, depth)];
  for (const outcome of await Promise.allSettled(attempts)) {
    if (outcome.status === 'fulfilled') {
      wins.push(outcome.value);
      continue;
    }
    const error: unknown = outcome.reason;
    if (!isSessionError(error, 'INVALID_TRANSITION') && !isSessionError(error, 'CONFLICT')) throw error;
    refused[error.code] = (refused[error.code] ?? 0) + 1;
  }
}

async function attempt(op: string, target: Session, depth: number): Promise<{ op: string; id: string; child?: string }> {
  if (op === 'handoff') {
    const child = await manager.handoff(target.id, `Agent${depth}`, { ...target.context, currentPhase: PHASES[depth]! });
    return { op, id: target.id, child: child.id };
  }
  if (op === 'complete') await manager.completeSession(target.id, { success: true, output: `by ${process.pid}` });
  else await manager.failSession(target.id, `failed by ${process.pid}`);
  return { op, id: target.id };
}
await manager.close();
process.stdout.write(`${JSON.stringify({ wins, refused })}\n`);
