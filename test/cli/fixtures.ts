import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { v4 as uuidv4 } from 'uuid';
import { SessionManager, type Session } from '../../src/index.js';
import { encodeEventLine } from '../../src/store/file/line-codec.js';
import { contextFor } from '../helpers/fixtures.js';

/** A store with one finished pipeline (CodeGen → Review → Test) and one Active session. */
export async function pipelineStore(dir: string): Promise<{ chain: Session[]; active: Session }> {
  const m = await SessionManager.open(dir);
  const a = await m.spawnAgentSession('CodeGenAgent', 'Implement #42', contextFor('CodeGeneration'));
  const b = await m.handoff(a.id, 'ReviewAgent', contextFor('Review'), { result: { success: true, output: 'code written' } });
  const c = await m.handoff(b.id, 'TestAgent', contextFor('Test'));
  await m.completeSession(c.id, { success: true, output: 'green', totalCostUsd: 0.5, numTurns: 2 });
  const active = await m.spawnAgentSession('DeployAgent', 'Deploy #7', contextFor('CICD', 7));
  const chain = [await m.getSession(a.id), await m.getSession(b.id), await m.getSession(c.id)] as Session[];
  await m.close();
  return { chain, active };
}

/** Appends half a line, as a crash in the middle of a write leaves it. */
export async function tearTail(dir: string): Promise<void> {
  await appendFile(join(dir, 'events.ndjson'), '{"seq":99,"id":"5e0');
}

/** Flips one character inside line `line` (1-based); returns that line's byte offset. */
export async function corruptLine(dir: string, line: number): Promise<number> {
  const path = join(dir, 'events.ndjson');
  const lines = (await readFile(path, 'utf8')).split('\n');
  lines[line - 1] = lines[line - 1]!.replace('"schemaVersion":4', '"schemaVersion":7');
  await writeFile(path, lines.join('\n'));
  return Buffer.byteLength(lines.slice(0, line - 1).join('\n')) + (line > 1 ? 1 : 0);
}

/** Appends, by hand, a valid-looking SessionCompleted for a session that was handed off. */
export async function appendInvalidTransition(dir: string, handedOff: Session): Promise<number> {
  const path = join(dir, 'events.ndjson');
  const text = await readFile(path, 'utf8');
  const seq = text.split('\n').filter((l) => l.length > 0).length + 1;
  await appendFile(path, encodeEventLine({ seq, id: uuidv4(), type: 'SessionCompleted', sessionId: handedOff.id, timestamp: new Date().toISOString(), schemaVersion: 4, data: {} }));
  return seq;
}
