import { appendFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SessionManager } from '../../src/index.js';
import { auditLog } from '../../src/audit/audit-log.js';
import { startChild, waitFor, waitForLine } from '../helpers/children.js';
import { tempDir } from '../helpers/fixtures.js';
import { logEvents } from '../helpers/log-files.js';

/** Rounds of kill -9; `npm run test:faults` runs the long case (FAULT_ROUNDS=200). */
const ROUNDS = Number(process.env['FAULT_ROUNDS'] ?? 12);

describe('crash safety', () => {
  it(`a writer killed with SIGKILL ${ROUNDS} times at random moments loses no acknowledged append`, { timeout: 30_000 + ROUNDS * 5_000 }, async () => {
    const { dir, cleanup } = await tempDir();
    const acked = new Map<string, string | null>();
    let tornCut = 0;
    let inPlaceCheckpoints = 0;
    const verdicts = new Set<string>();
    try {
      for (let round = 0; round < ROUNDS; round += 1) {
        const writer = startChild('append-loop', [dir]);
        const { child, lines, exited } = writer;
        await waitForLine([writer], 'ready', 20_000, 'the writer to open the store');
        const ackedBefore = lines.length;
        // Every other round, only once it has kept sessions.json up to date in place, so the kill
        // falls among checkpoints (one every 50 events).
        const checkpointed = () => round % 2 === 1 || lines.some((l) => l.startsWith('checkpoint '));
        await waitFor(() => lines.length > ackedBefore + 5 && checkpointed(), 20_000, 'the writer to make progress');
        await new Promise((r) => setTimeout(r, Math.random() * 60));
        child.kill('SIGKILL');
        const { signal } = await exited;
        expect(signal).toBe('SIGKILL');
        inPlaceCheckpoints += lines.filter((l) => l.startsWith('checkpoint ')).length;
        for (const line of lines.filter((l) => l.startsWith('ack '))) {
          const [, id, , parent] = line.split(' ');
          acked.set(id!, parent ?? null);
        }
        // Every other round, also leave half a line behind, as a crash inside write() could.
        if (round % 2 === 1) await appendFile(join(dir, 'events.ndjson'), '{"seq":999999,"id":"0c7a');

        const manager = await SessionManager.open(dir);
        // Killed at any moment, in-place checkpoints included: the file is used or rebuilt, never believed half written.
        verdicts.add(manager.openReport.checkpoint);
        if (manager.openReport.tornTail !== null) tornCut += 1;
        const sessions = new Map((await manager.listSessions()).map((s) => [s.id, s]));
        for (const [id, parent] of acked) {
          expect(sessions.has(id), `acknowledged session ${id} is in the store`).toBe(true);
          if (parent !== null) expect(sessions.get(parent)?.childSessions).toContain(id);
        }
        // A handoff is atomic: no HandedOff parent without its child session.
        for (const s of sessions.values()) {
          if (s.status === 'HandedOff') for (const c of s.childSessions) expect(sessions.has(c)).toBe(true);
        }
        expect(await manager.replay()).toMatchObject({ matchesLive: true });
        await manager.close();
        // After every crash and reopen, the log is whole: every line validates, no event twice.
        expect((await auditLog(dir)).findings).toEqual([]);
        const ids = (await logEvents(dir)).map((e) => e['id']);
        expect(new Set(ids).size).toBe(ids.length);
      }
      const seqs = (await logEvents(dir)).map((e) => e['seq']);
      expect(seqs).toEqual(seqs.map((_, i) => i + 1));
      // Every half line left behind was cut (a kill inside a write may leave more).
      expect(tornCut).toBeGreaterThanOrEqual(Math.floor(ROUNDS / 2));
      // The kills fell while sessions.json was being kept up to date in place.
      expect(inPlaceCheckpoints).toBeGreaterThanOrEqual(Math.ceil(ROUNDS / 2));
      expect([...verdicts].every((v) => v === 'loaded' || v === 'corrupt' || v === 'stale')).toBe(true);
      expect(await readFile(join(dir, 'events.ndjson'), 'utf8')).toMatch(/\n$/);
    } finally {
      await cleanup();
    }
  });
});
