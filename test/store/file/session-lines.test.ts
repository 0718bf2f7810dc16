import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeBigLog } from '../../../bench/big-log.js';
import { sessionEventsInLog } from '../../../src/store/file/session-lines.js';
import { readStore } from '../../../src/query/read-store.js';
import type { Session } from '../../../src/index.js';
import { tempDir } from '../../helpers/fixtures.js';

describe("a session's events, read from the part of the log it lived in", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let sessions: Session[];
  let end: number;
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
    await writeBigLog(dir, 30_000, 0.25);
    const view = await readStore(dir, { seq: Number.MAX_SAFE_INTEGER });
    sessions = [...view.state.sessions.values()];
    end = view.cursor.position['offset']!;
  });
  afterAll(() => cleanup());

  it('gives exactly what searching the whole log gives, for sessions early, in the middle and late', async () => {
    const log = join(dir, 'events.ndjson');
    for (const session of [sessions[0]!, sessions[1]!, sessions[Math.floor(sessions.length / 2)]!, sessions.at(-2)!, sessions.at(-1)!]) {
      const whole = await sessionEventsInLog(log, session.id, end);
      expect(whole.length).toBe(session.revision);
      expect(await sessionEventsInLog(log, session.id, end, { createdAt: session.createdAt, revision: session.revision })).toEqual(whole);
    }
  });

  it('a hint that misleads (a spawn time later than the truth, a revision too high) still gives every event', async () => {
    const log = join(dir, 'events.ndjson');
    const session = sessions[Math.floor(sessions.length / 3)]!;
    const whole = await sessionEventsInLog(log, session.id, end);
    const later = new Date(Date.parse(session.createdAt) + 3 * 3600_000).toISOString();
    expect(await sessionEventsInLog(log, session.id, end, { createdAt: later, revision: session.revision })).toEqual(whole);
    expect(await sessionEventsInLog(log, session.id, end, { createdAt: session.createdAt, revision: session.revision + 1 })).toEqual(whole);
  });
});
