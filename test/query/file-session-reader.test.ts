import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionManager } from '../../src/index.js';
import { fileSessionReader, readFileSessions, type SessionReads } from '../../src/query/session-reads.js';
import { contextFor, tempDir } from '../helpers/fixtures.js';

const openFiles = () => readdirSync('/proc/self/fd').length;

describe('reading a file store again and again (the dashboard)', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
    const m = await SessionManager.open(dir);
    for (let issue = 1; issue <= 5; issue += 1) await m.spawnAgentSession('CodeGenAgent', `work #${issue}`, contextFor('CodeGeneration', issue));
    // Closing writes sessions.json: reads then come from its records.
    await m.close();
  });
  afterAll(() => cleanup());

  it('each read closes the file it read sessions.json through', async () => {
    const before = openFiles();
    for (let i = 0; i < 20; i += 1) expect(await readFileSessions(dir, (reads) => reads.size())).toBe(5);
    expect(openFiles()).toBe(before);
  });

  it('a kept view answers while the store stands still, sees every append, and keeps one file open', async () => {
    const reader = fileSessionReader(dir);
    const before = openFiles();
    const seen: SessionReads[] = [];
    for (let i = 0; i < 3; i += 1) await reader.read(async (reads) => void seen.push(reads));
    expect(new Set(seen).size).toBe(1);
    for (let round = 0; round < 4; round += 1) {
      const m = await SessionManager.open(dir);
      await m.spawnAgentSession('ReviewAgent', `appended ${round}`, contextFor('Review', 10 + round));
      await m.close();
      const page = await reader.read((reads) => reads.page({ order: 'newest', limit: 1 }));
      expect(page.sessions[0]!.purpose).toBe(`appended ${round}`);
    }
    // The view kept: one file; every replaced view's is closed (as its last read ends).
    await new Promise((resolve) => setImmediate(resolve));
    expect(openFiles()).toBeLessThanOrEqual(before + 1);
    await reader.close();
    expect(openFiles()).toBeLessThanOrEqual(before);
  });
});
