import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SessionError, importOriginalStore } from '../../src/index.js';
import { runCli, snapshotDir } from '../helpers/cli.js';
import { tempDir } from '../helpers/fixtures.js';
import { README_EXAMPLE, originalFileText, type OriginalRecord } from '../helpers/original-format.js';

const [CODEGEN, REVIEW] = README_EXAMPLE.map((r) => r.id) as [string, string];

/** The README example with one change made to a copy of its records. */
function edited(change: (records: OriginalRecord[]) => void): string {
  const records = structuredClone(README_EXAMPLE);
  change(records);
  return originalFileText(records);
}

const BAD_INPUT: Array<{ name: string; text: string; message: RegExp }> = [
  { name: 'malformed JSON', text: originalFileText(README_EXAMPLE).slice(0, -20), message: /not JSON/ },
  { name: 'a version it does not know', text: originalFileText(README_EXAMPLE).replace('"version": 1', '"version": 2'), message: /version 2 is not one this library knows/ },
  { name: 'an unknown status', text: edited((r) => ((r[1] as { status: string }).status = 'Paused')), message: new RegExp(`session ${REVIEW}: status: `) },
  { name: 'an unknown phase', text: edited((r) => (r[0]!.context.current_phase = 'Deploy')), message: new RegExp(`session ${CODEGEN}: context.current_phase: `) },
  { name: 'duplicate ids', text: edited((r) => r.push({ ...r[1]!, purpose: 'again' })), message: new RegExp(`session ${REVIEW}: id: appears more than once`) },
  {
    name: 'a child that names a parent which did not hand off to it',
    text: edited((r) => r.push({ ...r[1]!, id: '770e8400-e29b-41d4-a716-446655440002' })),
    message: /session 770e8400-e29b-41d4-a716-446655440002: parent_session: 550e8400-e29b-41d4-a716-446655440000 did not hand off to it/,
  },
  {
    name: 'a cycle',
    text: edited((r) => {
      r[0]!.parent_session = REVIEW;
      r[1]!.status = 'HandedOff';
      r[1]!.child_sessions = [CODEGEN];
      r[1]!.handoff_to = 'CodeGenAgent';
    }),
    message: /hand off to each other in a cycle/,
  },
  { name: 'a non-UUID id', text: edited((r) => (r[1]!.id = 'session-2')), message: /sessions\[1\]: id: must be a hyphenated UUID/ },
  { name: 'a Failed session without its error', text: edited((r) => (r[1]!.status = 'Failed')), message: new RegExp(`session ${REVIEW}: error_message: a Failed session must say why`) },
  { name: 'an agent name this library refuses', text: edited((r) => (r[1]!.agent_name = '../evil')), message: new RegExp(`session ${REVIEW}: agent_name: `) },
];

describe('importing bad input', () => {
  for (const bad of BAD_INPUT) {
    it(`${bad.name} is refused with a message naming the session and field, and nothing is written`, async () => {
      const { dir, cleanup } = await tempDir();
      try {
        await writeFile(join(dir, 'sessions.json'), bad.text);
        const before = await snapshotDir(dir);
        const error = await importOriginalStore({ dir }).then(() => null, (e: unknown) => e);
        expect(error).toBeInstanceOf(SessionError);
        expect((error as SessionError).code).toBe('INVALID_INPUT');
        expect((error as SessionError).message).toMatch(bad.message);
        expect((error as SessionError).message).toContain('nothing was written');
        expect(await snapshotDir(dir)).toEqual(before);
      } finally {
        await cleanup();
      }
    });
  }

  it('the CLI refuses bad input with exit 4 and the same message', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      await writeFile(join(dir, 'sessions.json'), BAD_INPUT[2]!.text);
      const run = await runCli(['import', '--dir', dir]);
      expect(run.code).toBe(4);
      expect(run.stderr).toMatch(BAD_INPUT[2]!.message);
    } finally {
      await cleanup();
    }
  });
});
