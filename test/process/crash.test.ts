import { appendFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SessionManager } from '../../src/index.js';
import { startChild, waitFor } from '../helpers/children.js';
import { tempDir } from '../helpers/fixtures.js';
import { logEvents } from '../helpers/log-files.js';

/** Rounds of kill -9; `npm run test:faults` runs the long case (FAULT_ROUNDS=200). */
const ROUNDS = Number(process.env['FAULT_ROUNDS'] ?? 12);

describe('crash safety', () => {
  it(`a writer killed with SIGKILL ${ROUNDS} times at random moments loses no acknowledged append`, { timeout: 30_000 + ROUNDS * 5_000 }, async () => {
    const { dir, cleanup } = await tempDir();
    const acked = new Map<string, string | null>();
    let tornSeen = 0;
    try {
      for (let round = 0; round < ROUNDS; round += 1) {
        const { child, lines, exited } = startChild('append-loop', [dir]);
        await waitFor(() => lines.includes('ready'), 20_000, 'the writer to open the store');
        const ackedBefore = lines.length;
        await waitFor(() => lines.length > ackedBefore + 5, 20_000, 'the writer to make progress');
        await new Promise((r) => setTimeout(r, Math.random() * 60));
        child.kill('SIGKILL');
        const { signal } = await exited;
        expect(signal).toBe('SIGKILL');
        for (const line of lines.filter((l) => l.startsWith('ack '))) {
          const [, id, , parent] = line.split(' ');
          acked.set(id!, parent ?? null);
        }
        // Every other round, also leave half a line behind, as a crash inside write() could.
        if (round % 2 === 1) await appendFile(join(dir, 'events.ndjson'), '{"seq":999999,"id":"0c7a');

        const manager = await SessionManager.open(dir);
        if (round % 2 === 1) {
          expect(manager.openReport.tornTail).not.toBeNull();
          tornSeen += 1;
        }
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
      }
      const seqs = (await logEvents(dir)).map((e) => e['seq']);
      expect(seqs).toEqual(seqs.map((_, i) => i + 1));
      expect(tornSeen).toBe(Math.floor(ROUNDS / 2));
      expect(await readFile(join(dir, 'events.ndjson'), 'utf8')).toMatch(/\n$/);
    } finally {
      await cleanup();
    }
  });
});
