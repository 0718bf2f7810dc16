import { appendFile, open, readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SessionManager, computeStats, isSessionError } from '../../src/index.js';
import { loadSessionsFile } from '../../src/checkpoint/load-sessions-file.js';
import { SessionArchive } from '../../src/checkpoint/session-archive.js';
import { parseSessionsFile, renderSessionsFileParts } from '../../src/checkpoint/sessions-file.js';
import { writeFileAtomicKeepingFd } from '../../src/store/file/atomic-file.js';
import { SessionMap } from '../../src/checkpoint/session-map.js';
import { statsOf } from '../../src/projections/stats.js';
import { contextFor, tempDir } from '../helpers/fixtures.js';

/** Three pipelines of three sessions (the last completed, with cost), one Active session, one Failed. */
async function buildStore(dir: string): Promise<{ ended: string[]; active: string }> {
  const m = await SessionManager.open(dir, { checkpointIdleMs: -1 });
  const ended: string[] = [];
  for (let issue = 1; issue <= 3; issue += 1) {
    const a = await m.spawnAgentSession('CodeGenAgent', `issue ${issue}`, contextFor('CodeGeneration', issue));
    const b = await m.handoff(a.id, 'ReviewAgent', contextFor('Review', issue), { result: { success: true, output: 'code', totalCostUsd: 0.1 } });
    const c = await m.handoff(b.id, 'TestAgent', contextFor('Test', issue), { result: { success: true, output: 'reviewed', totalCostUsd: 0.2 } });
    await m.completeSession(c.id, { success: true, output: 'green', totalCostUsd: 0.3, numTurns: 2 });
    ended.push(a.id, b.id, c.id);
  }
  const failed = await m.spawnAgentSession('DeployAgent', 'deploy', contextFor('CICD'));
  await m.failSession(failed.id, 'no credentials');
  ended.push(failed.id);
  const active = await m.spawnAgentSession('CodeGenAgent', 'still working', contextFor());
  await m.close();
  return { ended, active: active.id };
}

async function openFds(): Promise<number> {
  return (await readdir('/proc/self/fd')).length;
}

describe('a SessionMap loaded from sessions.json', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await tempDir()));
  afterEach(() => cleanup());

  it('holds no session in memory after the open, reads one when asked, none for stats', async () => {
    const { ended, active } = await buildStore(dir);
    const loaded = await loadSessionsFile(join(dir, 'sessions.json'));
    if (typeof loaded === 'string') throw new Error(`not loaded: ${loaded}`);
    const map = loaded.state.sessions as SessionMap;
    expect(map).toBeInstanceOf(SessionMap);
    expect(map.size).toBe(ended.length + 1);
    expect([...map.inMemory()]).toEqual([]);
    // The checkpoint counts its Active sessions too: stats read no record.
    const stats = statsOf(map);
    expect([...map.inMemory()]).toEqual([]);

    const one = map.get(ended[4]!);
    expect(one).toMatchObject({ id: ended[4], agentName: 'ReviewAgent', status: 'HandedOff', result: { totalCostUsd: 0.2 } });
    expect([...map.inMemory()].map((s) => s.id)).toEqual([ended[4]]);
    expect(map.has(ended[0]!)).toBe(true);
    expect(map.has(active)).toBe(true);
    expect([...map.inMemory()].length).toBe(1);
    // Reading an Active record moves it out of the file's counted Active stats, into memory.
    expect(map.get(active)?.status).toBe('Active');
    expect(statsOf(map)).toEqual(stats);

    // Iterating loads the rest, in spawn order, and gives the file back.
    expect([...map.keys()]).toEqual([...ended, active]);
    expect([...map.values()].map((s) => s.id)).toEqual([...ended, active]);
    expect(map.source).toBeNull();
    expect(stats).toEqual(computeStats(map.values()));
    expect(stats).toMatchObject({ total: 11, active: 1, completed: 3, failed: 1, handedOff: 6, totalCostUsd: 1.8, totalTurns: 6 });
  });

  it('answers a walk by what a session is now, not by its entry, once an event changed it in memory', async () => {
    // A walk first (the entries of sessions in memory are worked out), then an archived session
    // read and changed in place by an event: a second walk must see its new status.
    const built = await buildStore(dir);
    const m = await SessionManager.open(dir, { checkpointIdleMs: -1 });
    try {
      expect((await m.querySessions({ status: 'Failed' })).sessions.map((s) => s.id)).not.toContain(built.active);
      // Read into memory without being handed out for change (the Active ones are listed)...
      expect((await m.listActiveSessions()).map((s) => s.id)).toEqual([built.active]);
      // ...and then changed: the walk must no longer believe its entry.
      await m.failSession(built.active, 'failed after the checkpoint');
      expect((await m.querySessions({ status: 'Failed' })).sessions.map((s) => s.id)).toContain(built.active);
      expect((await m.querySessions({ status: 'Active' })).sessions.map((s) => s.id)).not.toContain(built.active);
    } finally {
      await m.close();
    }
  });

  it('refuses a record changed in place after the file was loaded, with CORRUPT_CHECKPOINT', async () => {
    const { ended } = await buildStore(dir);
    const path = join(dir, 'sessions.json');
    const loaded = await loadSessionsFile(path);
    if (typeof loaded === 'string') throw new Error(`not loaded: ${loaded}`);
    const text = await readFile(path, 'utf8');
    const at = Buffer.byteLength(text.slice(0, text.indexOf('"agent_name":"ReviewAgent"') + 13));
    const handle = await open(path, 'r+');
    await handle.write('"EvilAgent__"', at);
    await handle.close();
    let refusal: unknown;
    try {
      loaded.state.sessions.get(ended[1]!);
    } catch (error) {
      refusal = error;
    }
    expect(isSessionError(refusal, 'CORRUPT_CHECKPOINT')).toBe(true);
    expect((refusal as Error).message).toMatch(/fails its checksum/);
    (loaded.state.sessions as SessionMap).discard();
  });

  it('keeps reading the file it loaded when another writer replaces sessions.json', async () => {
    const first = await SessionManager.open(dir, { checkpointIdleMs: -1 });
    const early = await first.spawnAgentSession('EarlyAgent', 'still working', contextFor());
    const a = await first.spawnAgentSession('CodeGenAgent', 'issue 1', contextFor());
    const b = await first.handoff(a.id, 'ReviewAgent', contextFor('Review'));
    await first.completeSession(b.id, { success: true, output: 'green' });
    await first.close();
    const reader = await SessionManager.open(dir, { checkpointIdleMs: -1 });
    const writer = await SessionManager.open(dir, { checkpointIdleMs: -1 });
    // The early session's record grows, so in the writer's file every later record moves.
    await writer.completeSession(early.id, { success: true, output: 'x'.repeat(500) });
    await writer.checkpoint();
    await writer.close();
    expect(await reader.getSession(b.id)).toMatchObject({ agentName: 'ReviewAgent', status: 'Completed', result: { output: 'green' } });
    expect((await reader.getSessionLineage(b.id)).map((s) => s.id)).toEqual([a.id, b.id]);
    expect((await reader.getSession(early.id))?.status).toBe('Completed');
    await reader.close();
  });

  it('keeps the Active sessions it has not read when another writer blanks them in place, also after rewriting the file whole itself', async () => {
    const first = await SessionManager.open(dir, { checkpointIdleMs: -1 });
    const early = await first.spawnAgentSession('EarlyAgent', 'still working', contextFor());
    const done = await first.spawnAgentSession('CodeGenAgent', 'issue 1', contextFor());
    await first.completeSession(done.id, { success: true, output: 'green' });
    await first.close();
    const reader = await SessionManager.open(dir, { checkpointIdleMs: -1 });
    // Its next checkpoint finds no file to change in place: it rewrites it whole, the unread
    // Active record moving with it.
    await unlink(join(dir, 'sessions.json'));
    await reader.spawnAgentSession('Later', 'p', contextFor());
    await reader.checkpoint();
    const writer = await SessionManager.open(dir, { checkpointIdleMs: -1 });
    await writer.completeSession(early.id, { success: true, output: 'x'.repeat(500) });
    await writer.checkpoint();
    await writer.close();
    expect(await reader.getSession(early.id)).toMatchObject({ status: 'Completed', result: { output: 'x'.repeat(500) } });
    expect((await reader.getSession(done.id))?.status).toBe('Completed');
    await reader.close();
  });

  it('closes the file it reads from with the manager, and after a checkpoint holds only the new one', async () => {
    await buildStore(dir);
    const before = await openFds();
    const m = await SessionManager.open(dir, { checkpointIdleMs: -1 });
    const whileOpen = await openFds();
    await m.spawnAgentSession('A', 'p', contextFor());
    await m.checkpoint();
    await m.checkpoint();
    expect(await openFds()).toBe(whileOpen);
    await m.close();
    expect(await openFds()).toBe(before);
  });

  it('lets go of the file it loaded when the open then fails on a damaged log', async () => {
    await buildStore(dir);
    await appendFile(join(dir, 'events.ndjson'), 'not an event\nnor this\n');
    const before = await openFds();
    await expect(SessionManager.open(dir)).rejects.toMatchObject({ code: 'CORRUPT_LOG' });
    expect(await openFds()).toBe(before);
  });

  it('moves unread records to a checkpoint it writes, even when their places in the file change', async () => {
    const { ended, active } = await buildStore(dir);
    const path = join(dir, 'sessions.json');
    const expected = parseSessionsFile(await readFile(path), path).state.sessions;
    const loaded = await loadSessionsFile(path);
    if (typeof loaded === 'string') throw new Error(`not loaded: ${loaded}`);
    const map = loaded.state.sessions as SessionMap;
    // Dropping the first record shifts every later one by one place in the next file.
    map.delete(ended[0]!);
    const { parts, index } = renderSessionsFileParts(loaded.state, loaded.cursor);
    const fd = await writeFileAtomicKeepingFd(path, parts);
    expect(map.adopt(new SessionArchive(fd, path, index))).toBe(true);
    for (const id of [...ended.slice(1), active]) expect(map.get(id)).toEqual(expected.get(id));
    expect(map.get(ended[0]!)).toBeUndefined();
    map.discard();
  });
});

describe('a SessionMap that keeps the records its walks read', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await tempDir()));
  afterEach(() => cleanup());

  const mapOf = async () => {
    const loaded = await loadSessionsFile(join(dir, 'sessions.json'));
    if (typeof loaded === 'string') throw new Error(`not loaded: ${loaded}`);
    return loaded.state.sessions as SessionMap;
  };
  const walkOf = (m: SessionMap, reverse = false) => [...m.walk({ reverse })].map((w) => ({ position: w.position, session: w.session }));

  it('answers later walks with the same sessions at their places, decoded once, as many as it was asked to keep', async () => {
    await buildStore(dir);
    const plain = await mapOf();
    const map = await mapOf();
    map.keepWalked(100);
    const first = walkOf(map);
    expect(first).toEqual(walkOf(plain));
    const again = walkOf(map);
    again.forEach((walked, i) => expect(walked.session).toBe(first[i]!.session));
    // Backwards: the same sessions, at the places a backward walk gives them.
    expect(walkOf(map, true)).toEqual(walkOf(plain, true));
    expect(walkOf(map, true).map((w) => w.session)).toEqual(first.map((w) => w.session).reverse());

    // Kept: the two read last (the newest); the others are read anew.
    const few = await mapOf();
    few.keepWalked(2);
    const once = walkOf(few);
    const newest = walkOf(few, true).slice(0, 2).map((w) => w.session);
    expect(newest).toEqual([once.at(-1)!.session, once.at(-2)!.session]);
    expect(newest[0]).toBe(once.at(-1)!.session);
    expect(walkOf(few)[0]!.session).not.toBe(once[0]!.session);

    // A walk that keeps nothing (a chart's count of every session) leaves what was kept as it was.
    const fresh = await mapOf();
    fresh.keepWalked(100);
    const unkept = [...fresh.walk({ keep: false })].map((w) => w.session);
    expect(unkept).toEqual(first.map((w) => w.session));
    expect(walkOf(fresh)[0]!.session).not.toBe(unkept[0]);
    const keptNow = walkOf(fresh);
    expect([...fresh.walk({ keep: false })][0]!.session).toBe(keptNow[0]!.session);

    // Let go of with the file.
    map.clear();
    expect(walkOf(map)).toEqual([]);
  });
});
