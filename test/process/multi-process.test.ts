import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SessionManager, type Session } from '../../src/index.js';
import { startChild, waitForLine } from '../helpers/children.js';
import { contextFor, tempDir } from '../helpers/fixtures.js';
import { logEvents } from '../helpers/log-files.js';

/** `npm run test:faults` runs the long case: 8 processes × 1 000 operations. */
const RACERS = Number(process.env['FAULT_RACERS'] ?? 4);
const OPS = Number(process.env['FAULT_OPS'] ?? 120);
const ROOTS = Math.max(20, Math.ceil((RACERS * OPS) / 6));

describe('many processes on one store', () => {
  it(`${RACERS} processes racing to hand off, complete and fail the same sessions: one winner each, nothing lost, lineage a forest`, { timeout: 60_000 + RACERS * OPS * 20 }, async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const setup = await SessionManager.open(dir);
      for (let i = 0; i < ROOTS; i += 1) await setup.spawnAgentSession('CodeGenAgent', `root ${i}`, contextFor('IssueAnalysis', i + 1));
      await setup.close();

      const racers = Array.from({ length: RACERS }, (_, i) => startChild('racer', [dir, String((i + 1) * 7919), String(OPS)]));
      await waitForLine(racers, 'ready', 20_000, 'every racer to open the store');
      await writeFile(join(dir, 'go'), '');
      const results = await Promise.all(racers.map(async ({ lines, exited }) => {
        const { code, stderr } = await exited;
        expect(code, stderr).toBe(0);
        return JSON.parse(lines.at(-1)!) as { wins: Array<{ op: string; id: string; child?: string }>; refused: Record<string, number> };
      }));
      const wins = results.flatMap((r) => r.wins);
      const refusals = results.reduce((n, r) => n + Object.values(r.refused).reduce((a, b) => a + b, 0), 0);

      const manager = await SessionManager.open(dir);
      const sessions = new Map((await manager.listSessions()).map((s) => [s.id, s] as [string, Session]));
      // Exactly one winner per ended session, and the store agrees with the winner.
      const winners = new Map<string, string>();
      for (const win of wins) {
        expect(winners.has(win.id), `session ${win.id} ended twice`).toBe(false);
        winners.set(win.id, win.op);
      }
      for (const s of sessions.values()) {
        const op = winners.get(s.id);
        expect(s.status).toBe(op === undefined ? 'Active' : { handoff: 'HandedOff', complete: 'Completed', fail: 'Failed' }[op]);
      }
      // Nothing lost or duplicated: the log holds exactly the roots plus what the winners wrote.
      const handoffs = wins.filter((w) => w.op === 'handoff').length;
      const events = await logEvents(dir);
      expect(events.length).toBe(ROOTS + wins.length + handoffs);
      expect(new Set(events.map((e) => e['id'])).size).toBe(events.length);
      expect(events.map((e) => e['seq'])).toEqual(events.map((_, i) => i + 1));
      expect(sessions.size).toBe(ROOTS + handoffs);
      // Lineage is a forest: every child has one parent that lists it, and every chain reaches a root.
      for (const s of sessions.values()) {
        if (s.parentSession !== null) expect(sessions.get(s.parentSession)?.childSessions).toEqual([s.id]);
        const lineage = await manager.getSessionLineage(s.id);
        expect(lineage[0]!.parentSession).toBeNull();
        expect(lineage.at(-1)!.id).toBe(s.id);
      }
      expect(wins.length).toBeGreaterThan(RACERS * 5);
      expect(refusals, 'the racers collided').toBeGreaterThan(10);
      expect(await manager.replay()).toMatchObject({ matchesLive: true });
      await manager.close();
    } finally {
      await cleanup();
    }
  });
});
