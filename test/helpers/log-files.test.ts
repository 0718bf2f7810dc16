import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from './fixtures.js';
import { logEvents } from './log-files.js';

/*
 * Tests poll the log while writers append: a read may catch a write half done. The helper reads
 * whole lines only, as the store's own readers do (a dashboard test failed once in CI on the
 * half line: "Unterminated string in JSON").
 */
describe('logEvents (test helper)', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await tempDir()));
  afterEach(async () => cleanup());

  it('leaves out a last line still being written', async () => {
    await writeFile(join(dir, 'events.ndjson'), '{"seq":1,"type":"SessionSpawned"}\n{"seq":2,"type":"SessionCompl');
    expect(await logEvents(dir)).toEqual([{ seq: 1, type: 'SessionSpawned' }]);
  });

  it('reads every whole line, and nothing of a missing log', async () => {
    expect(await logEvents(dir)).toEqual([]);
    await writeFile(join(dir, 'events.ndjson'), '{"seq":1}\n{"seq":2}\n');
    expect(await logEvents(dir)).toEqual([{ seq: 1 }, { seq: 2 }]);
  });
});
