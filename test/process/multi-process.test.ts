import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SessionManager, type Session } from '../../src/index.js';
import { startChild, waitFor } from '../helpers/children.js';
import { contextFor, tempDir } from '../helpers/fixtures.js';
import { logEvents } from '../helpers/log-files.js';

describe('many processes on one store', () => {
  it('4 processes racing to hand off, complete and fail the same sessions: one winner each, nothing lost, lineage a forest', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const setup = await SessionManager.open(dir);
      for (let i = 0; i < 20; i += 1) await setup.spawnAgentSession('CodeGenAgent', `root ${i}`, contextFor('IssueAnalysis', i + 1));
      await setup.close();

      const racers = [1, 2, 3, 4].map((seed) => startChild('racer', [dir, String(seed * 7919), '120']));
      await waitFor(() => racers.every((r) => r.lines.includes('ready')), 20_000, 'every racer to open the store');
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
      expect(events.length).toBe(20 + wins.length + handoffs);
      expect(new Set(events.map((e) => e['id'])).size).toBe(events.length);
      expect(events.map((e) => e['seq'])).toEqual(events.map((_, i) => i + 1));
      expect(sessions.size).toBe(20 + handoffs);
      // Lineage is a forest: every child has one parent that lists it, and every chain reaches a root.
      for (const s of sessions.values()) {
        if (s.parentSession !== null) expect(sessions.get(s.parentSession)?.childSessions).toEqual([s.id]);
        const lineage = await manager.getSessionLineage(s.id);
        expect(lineage[0]!.parentSession).toBeNull();
        expect(lineage.at(-1)!.id).toBe(s.id);
      }
      expect(wins.length).toBeGreaterThan(20);
      expect(refusals, 'the racers collided').toBeGreaterThan(10);
      expect(await manager.replay()).toMatchObject({ matchesLive: true });
      await manager.close();
    } finally {
      await cleanup();
    }
  });
});
