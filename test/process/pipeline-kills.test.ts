import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { auditLog } from '../../src/audit/audit-log.js';
import { startChild } from '../helpers/children.js';
import { logEvents } from '../helpers/log-files.js';
import { namedStepDone, test } from '../helpers/real-claude.js';

/** Kills of the manager; `npm run test:faults` runs the long case (PIPELINE_KILLS=20). */
const KILLS = Number(process.env['PIPELINE_KILLS'] ?? 4);

type LogEvent = { type: string; sessionId: string; data: Record<string, unknown> };

/*
 * Pipelines of real Claude Code agents (a scripted API answering after 700 ms), whose manager
 * is killed with SIGKILL at random moments — starting up, spawning, handing off, waiting for an
 * agent — and resumed by a new process each time, until each pipeline completes.
 */
describe('pipelines under random manager kills', () => {
  test(`${KILLS} random kill points: every pipeline completes, and no session id ever gets a second agent`, { timeout: 120_000 + KILLS * 20_000 }, async ({ claude }) => {
    const { dir, api } = claude;
    claude.reply = namedStepDone(700);
    // A step whose agent was never recorded (a kill between spawn and start) runs again after 3 s, not 30.
    process.env['START_GRACE_MS'] = '3000';
    let kills = 0;
    try {
      for (let pipeline = 0; kills < KILLS; pipeline += 1) {
        const store = join(dir, `store-${pipeline}`);
        const askedBefore = api.requests.length;
        let result: Record<string, unknown> | undefined;
        while (result === undefined) {
          const root = (await logEvents(store) as unknown as LogEvent[]).find((e) => e.type === 'SessionSpawned' && e.data['pipeline'] !== undefined)?.sessionId;
          const host = startChild('pipeline-host', [store, dir, claude.home(), api.url, ...(root === undefined ? ['run'] : ['resume', root])]);
          const killAt = 200 + Math.random() * 5000;
          const ended = await Promise.race([host.exited, new Promise<null>((r) => setTimeout(() => r(null), killAt))]);
          if (ended === null && kills < KILLS) {
            host.child.kill('SIGKILL');
            await host.exited;
            kills += 1;
            continue;
          }
          const { code, stderr } = ended ?? (await host.exited);
          expect(code, stderr).toBe(0);
          result = JSON.parse(host.lines.find((l) => l.startsWith('result '))!.slice(7)) as Record<string, unknown>;
        }
        expect(result).toMatchObject({ status: 'Completed', sessions: [['CodeGenAgent', 'HandedOff'], ['ReviewAgent', 'HandedOff'], ['TestAgent', 'Completed']] });
        const events = (await logEvents(store)) as unknown as LogEvent[];
        const starts = events.filter((e) => e.type === 'SessionAgentStarted').map((e) => e.sessionId);
        expect(new Set(starts).size, 'one agent per session id').toBe(starts.length);
        // A step runs again only when its work was interrupted (here: killed before its agent was recorded).
        const failed = events.filter((e) => e.type === 'SessionFailed');
        for (const f of failed) expect(f.data, JSON.stringify(f.data)).toMatchObject({ interrupted: true });
        const neverStarted = failed.filter((f) => String(f.data['error']).startsWith('its agent never started')).length;
        expect(failed).toHaveLength(neverStarted);
        // Each recorded agent asked once; an agent started but not recorded before the kill may have asked too.
        const asked = api.requests.length - askedBefore;
        expect(asked).toBeGreaterThanOrEqual(starts.length);
        expect(asked).toBeLessThanOrEqual(starts.length + neverStarted);
        expect((await auditLog(store)).findings).toEqual([]);
      }
    } finally {
      delete process.env['START_GRACE_MS'];
    }
  });
});
