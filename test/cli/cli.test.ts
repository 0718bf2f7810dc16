import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileEventStore, SessionManager, emptySessionsState, evolveSessions, renderSessionsFile, type PendingEvent } from '../../src/index.js';
import { readStore } from '../../src/query/read-store.js';
import { computeStats } from '../../src/projections/stats.js';
import { safeJson, safeText } from '../../src/domain/visible-text.js';
import { sessionsTable } from '../../src/cli/format.js';
import { runCli, snapshotDir } from '../helpers/cli.js';
import { sampleEvents } from '../helpers/events.js';
import { tempDir } from '../helpers/fixtures.js';
import { storeWithRunningAgent } from '../helpers/dashboard.js';
import { appendInvalidTransition, corruptLine, pipelineStore, tearTail } from './fixtures.js';

describe('miyabi-sessions CLI', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let store: string;
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
    store = join(dir, 'store');
  });
  afterEach(() => cleanup());

  it('read commands change nothing in the store, whatever its state', async () => {
    const { chain } = await pipelineStore(store);
    await tearTail(store);
    const before = await snapshotDir(store);
    const id = chain[2]!.id;
    // Each must also succeed (a CLI that crashed at start would change nothing too); audit
    // reports the torn tail as a finding (exit 1).
    const commands: Array<[string[], number]> = [
      [['list'], 0], [['show', id], 0], [['stats'], 0], [['lineage', id], 0], [['audit'], 1], [['at', '3'], 0],
      [['export'], 0], [['export', '--format', 'mermaid'], 0], [['export', '--format', 'dot'], 0], [['export', '--format', 'sessions'], 0], [['replay'], 0],
    ];
    for (const [args, code] of commands) {
      for (const json of [[], ['--json']]) {
        const run = await runCli([...args, '--dir', store, ...json]);
        expect(run.code, `${args.join(' ')} ${json.join(' ')}: ${run.stderr}`).toBe(code);
        expect(run.stdout.length, `${args.join(' ')} prints its answer`).toBeGreaterThan(0);
      }
    }
    expect(await snapshotDir(store)).toEqual(before);
    // 22 CLI processes, each starting node: 27 s on an idle machine, 64–66 s with every core busy (the same before #26), past the default 60 s.
  }, 180_000);

  it('list shows every session and filters by status, agent and issue', async () => {
    const { chain, active } = await pipelineStore(store);
    const all = await runCli(['list', '--dir', store]);
    expect(all.code).toBe(0);
    for (const s of [...chain, active]) expect(all.stdout).toContain(s.id);
    const activeOnly = JSON.parse((await runCli(['list', '--status', 'Active', '--json', '--dir', store])).stdout);
    expect(activeOnly.map((s: { id: string }) => s.id)).toEqual([active.id]);
    expect(JSON.parse((await runCli(['list', '--agent', 'ReviewAgent', '--json', '--dir', store])).stdout)).toHaveLength(1);
    expect(JSON.parse((await runCli(['list', '--issue', '7', '--json', '--dir', store])).stdout)).toHaveLength(1);
    expect((await runCli(['list', '--status', 'Sleeping', '--dir', store])).code).toBe(2);
  });

  it('show prints the session and its event history; unknown and malformed ids exit 3 and 4', async () => {
    const { chain } = await pipelineStore(store);
    const shown = await runCli(['show', chain[1]!.id, '--dir', store]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/status\s+HandedOff/);
    expect(shown.stdout).toMatch(/SessionSpawned[\s\S]*SessionHandedOff/);
    const json = JSON.parse((await runCli(['show', chain[1]!.id, '--json', '--dir', store])).stdout);
    expect(json.events.map((e: { type: string }) => e.type)).toEqual(['SessionSpawned', 'SessionHandedOff']);
    expect((await runCli(['show', '0b9c6c7e-9a59-4f7c-9a7c-3d6f1e0f4a11', '--dir', store])).code).toBe(3);
    const bad = await runCli(['show', 'nope', '--dir', store]);
    expect(bad.code).toBe(4);
    expect(bad.stderr).toContain('INVALID_INPUT');
  });

  it('stats counts by status, agent and phase', async () => {
    await pipelineStore(store);
    const stats = JSON.parse((await runCli(['stats', '--json', '--dir', store])).stdout);
    expect(stats).toMatchObject({ total: 4, active: 1, handedOff: 2, completed: 1, failed: 0, totalCostUsd: 0.5, totalTurns: 2 });
    expect((await runCli(['stats', '--dir', store])).stdout).toMatch(/all sessions\s+4\s+1\s+2\s+1\s+0/);
  });

  it('lineage draws the tree root to leaf and marks the session asked for', async () => {
    const { chain } = await pipelineStore(store);
    const { stdout, code } = await runCli(['lineage', chain[1]!.id, '--dir', store]);
    expect(code).toBe(0);
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^CodeGenAgent \[HandedOff\] CodeGeneration \+0 ms for/);
    expect(lines[1]).toMatch(/^└─ ReviewAgent \[HandedOff\] Review .*◀$/);
    expect(lines[2]).toMatch(/^   └─ TestAgent \[Completed\] Test/);
  });

  it('spawn, handoff, complete and fail drive the whole API from a shell', async () => {
    const spawned = JSON.parse((await runCli(['spawn', 'CodeGenAgent', '--purpose', 'p', '--issue', '9', '--phase', 'CodeGeneration', '--worktree', '/w', '--json', '--dir', store])).stdout);
    expect(spawned.status).toBe('Active');
    const child = JSON.parse((await runCli(['handoff', spawned.id, 'ReviewAgent', '--phase', 'Review', '--output', 'done', '--json', '--dir', store])).stdout);
    expect(child).toMatchObject({ parentSession: spawned.id, context: { issueNumber: 9, currentPhase: 'Review', worktreePath: '/w' } });
    expect((await runCli(['complete', child.id, '--dir', store])).code).toBe(0);
    const again = await runCli(['complete', child.id, '--dir', store]);
    expect(again.code).toBe(4);
    expect(again.stderr).toContain('INVALID_TRANSITION');
    const other = JSON.parse((await runCli(['spawn', 'X', '--purpose', 'p', '--issue', '1', '--phase', 'Test', '--worktree', '/w', '--json', '--dir', store])).stdout);
    expect((await runCli(['fail', other.id, '--error', 'broken', '--dir', store])).code).toBe(0);
    expect((await runCli(['fail', other.id, '--dir', store])).code).toBe(2);
    expect((await runCli(['spawn', 'X', '--purpose', 'p', '--issue', '1', '--phase', 'Nap', '--worktree', '/w', '--dir', store])).code).toBe(2);
    expect((await runCli(['spawn', '../x', '--purpose', 'p', '--issue', '1', '--phase', 'Test', '--worktree', '/w', '--dir', store])).code).toBe(4);
  });

  it('replay reports whether sessions.json matches the log, and --write rebuilds it', async () => {
    await pipelineStore(store);
    const ok = await runCli(['replay', '--dir', store]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/covers seq 7 of 7: matches the log/);
    const { writeFile, readFile } = await import('node:fs/promises');
    const path = join(store, 'sessions.json');
    await writeFile(path, (await readFile(path, 'utf8')).replace('"CodeGenAgent"', '"Impostor"'));
    const edited = await runCli(['replay', '--json', '--dir', store]);
    expect(edited.code).toBe(1);
    expect(JSON.parse(edited.stdout)).toMatchObject({ sessionsJson: 'corrupt', events: 7 });
    expect((await runCli(['replay', '--write', '--dir', store])).code).toBe(0);
    expect((await runCli(['replay', '--dir', store])).code).toBe(0);
  });

  it('replay reads sessions.json a record at a time: another store\'s file differs, a record edited under a resealed file is corrupt, a file without its index is still judged', async () => {
    const { readFile, readdir, copyFile, rm, writeFile } = await import('node:fs/promises');
    const { crc32 } = await import('node:zlib');
    await pipelineStore(store);
    const replay = async () => JSON.parse((await runCli(['replay', '--json', '--dir', store])).stdout) as { sessionsJson: string; storedSeq: number };
    const checkpointFiles = async (from: string) => (await readdir(from)).filter((name) => name.startsWith('sessions.'));
    const moveFiles = async (from: string, to: string) => {
      for (const name of await checkpointFiles(to)) await rm(join(to, name));
      for (const name of await checkpointFiles(from)) await copyFile(join(from, name), join(to, name));
    };
    const path = join(store, 'sessions.json');
    const kept = join(dir, 'kept');
    await mkdir(kept);
    await moveFiles(store, kept);
    // Another store of as many events: its file is whole and covers seq 7, with other sessions.
    const other = join(dir, 'other');
    await pipelineStore(other);
    await moveFiles(other, store);
    expect(await replay()).toMatchObject({ sessionsJson: 'differs', storedSeq: 7 });
    // Its record index gone, the file is parsed whole, and judged the same way.
    for (const name of await checkpointFiles(store)) if (name !== 'sessions.json') await rm(join(store, name));
    expect(await replay()).toMatchObject({ sessionsJson: 'differs', storedSeq: 7 });
    await moveFiles(kept, store);
    expect(await replay()).toMatchObject({ sessionsJson: 'matches' });
    // White space between records edited: no record's CRC-32 covers it, the file's checksum does.
    const whole = await readFile(path, 'utf8');
    await writeFile(path, whole.replace(',\n    {', ',\n\t   {'));
    expect(await replay()).toMatchObject({ sessionsJson: 'corrupt' });
    await writeFile(path, whole);
    // A record edited, and the records' CRC-32 and the file's checksum set to match: only the
    // record's own CRC-32 in the index tells, when the record is read.
    let text = (await readFile(path, 'utf8')).replace('"CodeGenAgent"', '"CodeGenAgenT"');
    const recordsEnd = Number(/"records_end": (\d+)/.exec(text)![1]);
    text = text.replace(/"records_crc": \d+/, `"records_crc": ${crc32(Buffer.from(text).subarray(0, recordsEnd))}`);
    const sealed = text.lastIndexOf(',\n  "checksum": ');
    await writeFile(path, `${text.slice(0, sealed)},\n  "checksum": ${crc32(text.slice(0, sealed))}\n}\n`);
    expect(await replay()).toMatchObject({ sessionsJson: 'corrupt' });
  });

  it('replay judges a checkpoint of the empty store against the state before the first event', async () => {
    await (await SessionManager.open(store)).close();
    const writer = new FileEventStore(store);
    const state = emptySessionsState();
    await writer.connect({ apply: (es) => es.forEach((e) => evolveSessions(state, e)), revisionOf: () => 0 }, null);
    const [event] = sampleEvents(1);
    const { seq: _seq, ...pending } = event!;
    await writer.append({ events: [pending as PendingEvent], expectedRevisions: new Map() });
    await writer.close();
    const report = JSON.parse((await runCli(['replay', '--json', '--dir', store])).stdout);
    expect(report).toMatchObject({ storedSeq: 0, lastSeq: 1, sessionsJson: 'matches' });
  });

  it('audit passes a clean log and names line and byte of a torn tail, a corrupt line and an invalid transition', async () => {
    const { chain } = await pipelineStore(store);
    expect(await runCli(['audit', '--dir', store])).toMatchObject({ code: 0, stdout: expect.stringContaining('no findings') });
    const seq = await appendInvalidTransition(store, chain[0]!);
    const offset = await corruptLine(store, 7);
    await tearTail(store);
    const { code, stdout } = await runCli(['audit', '--json', '--dir', store]);
    expect(code).toBe(1);
    const findings = JSON.parse(stdout).findings as Array<{ kind: string; line: number; offset: number }>;
    expect(findings.map((f) => [f.kind, f.line])).toEqual([['line', 7], ['transition', seq], ['torn-tail', seq + 1]]);
    expect(findings[0]!.offset).toBe(offset);
    expect((await runCli(['audit', '--dir', store])).stdout).toMatch(/3 findings/);
  });

  it('a corrupt middle line makes read commands exit 5 naming line and byte', async () => {
    await pipelineStore(store);
    const offset = await corruptLine(store, 3);
    const { rm } = await import('node:fs/promises');
    await rm(join(store, 'sessions.json'));
    const { code, stderr } = await runCli(['list', '--dir', store]);
    expect(code).toBe(5);
    expect(stderr).toContain(`events.ndjson:3 (byte ${offset})`);
  });

  it('at writes the same bytes as one JSON value or one table would, however many sessions', async () => {
    await pipelineStore(store);
    for (const seq of [0, 1, 5, 7]) {
      const { state } = await readStore(store, { seq });
      const sessions = [...state.sessions.values()];
      const json = await runCli(['at', String(seq), '--json', '--dir', store]);
      expect(json.stdout).toBe(`${safeJson({ seq: state.lastSeq, sessions, stats: computeStats(sessions) }, 2)}\n`);
      const text = await runCli(['at', String(seq), '--dir', store]);
      expect(text.stdout.startsWith(`as of seq ${seq}:\n${sessions.length === 0 ? '(no sessions)' : safeText(sessionsTable(sessions))}\n\n`)).toBe(true);
    }
  });

  it('at travels back to a seq or a timestamp', async () => {
    const { chain } = await pipelineStore(store);
    const atOne = JSON.parse((await runCli(['at', '1', '--json', '--dir', store])).stdout);
    expect(atOne.sessions.map((s: { status: string }) => s.status)).toEqual(['Active']);
    const atThree = JSON.parse((await runCli(['at', '3', '--json', '--dir', store])).stdout);
    expect(atThree.stats).toMatchObject({ total: 2, handedOff: 1, active: 1 });
    const before = JSON.parse((await runCli(['at', '2000-01-01T00:00:00Z', '--json', '--dir', store])).stdout);
    expect(before.sessions).toEqual([]);
    const atCreation = JSON.parse((await runCli(['at', chain[0]!.createdAt, '--json', '--dir', store])).stdout);
    expect(atCreation.sessions.length).toBeGreaterThanOrEqual(1);
    expect((await runCli(['at', 'yesterday-ish', '--dir', store])).code).toBe(2);
  });

  it('export writes the original sessions.json format, Mermaid, DOT and NDJSON', async () => {
    const { chain, active } = await pipelineStore(store);
    const exported = (await runCli(['export', '--dir', store])).stdout;
    // The bytes a replay of the whole log renders at the same place: streamed, nothing differs.
    const replayed = await readStore(store, { seq: Number.MAX_SAFE_INTEGER });
    expect(exported).toBe(renderSessionsFile(replayed.state, replayed.cursor));

    const sessions = JSON.parse(exported);
    expect(sessions.version).toBe(1);
    expect(Object.keys(sessions.sessions[0])).toEqual(expect.arrayContaining(['id', 'agent_name', 'purpose', 'context', 'created_at', 'status', 'parent_session', 'child_sessions', 'handoff_to']));
    const mermaid = (await runCli(['export', '--format', 'mermaid', '--dir', store])).stdout;
    expect(mermaid).toMatch(/^flowchart TD/);
    expect(mermaid).toContain(`s${chain[0]!.id.replaceAll('-', '')} --> s${chain[1]!.id.replaceAll('-', '')}`);
    const dot = (await runCli(['export', '--format', 'dot', '--dir', store])).stdout;
    expect(dot).toContain(`"${chain[1]!.id}" -> "${chain[2]!.id}";`);
    expect(dot.trim().split('\n').slice(-1)).toEqual(['}']);
    const events = (await runCli(['export', '--format', 'ndjson', '--dir', store])).stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(events.map((e: { seq: number }) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    const out = join(dir, 'lineage.dot');
    expect((await runCli(['export', '--format', 'dot', '--out', out, '--dir', store])).code).toBe(0);
    expect((await runCli(['export', '--format', 'svg', '--dir', store])).code).toBe(2);
    // A file that cannot be opened, or a disk that fills up: a clear STORAGE error, not a crash.
    for (const [format, to] of [['dot', join(dir, 'missing', 'lineage.dot')], ['sessions', '/dev/full'], ['ndjson', '/dev/full']]) {
      const failed = await runCli(['export', '--format', format!, '--out', to!, '--dir', store]);
      expect(failed.code, failed.stderr).toBe(6);
      expect(failed.stderr).toMatch(new RegExp(`STORAGE: writing ${to} failed: (ENOENT|ENOSPC)`));
    }
    // The same of any command's file the system refuses: a STORAGE error naming it, not an internal one.
    const report = await runCli(['report', '--out', join(dir, 'missing', 'r.html'), '--dir', store]);
    expect([report.code, report.stderr]).toEqual([6, expect.stringMatching(/^miyabi-sessions report: STORAGE: open .*missing\/r\.html failed: ENOENT/)]);
    // With sessions.json behind the log: a session its records hold as Active has ended since.
    const { cp, readdir } = await import('node:fs/promises');
    const behind = join(dir, 'behind');
    await cp(store, behind, { recursive: true });
    expect((await runCli(['complete', active.id, '--dir', store])).code).toBe(0);
    for (const name of await readdir(behind)) if (name.startsWith('sessions.')) await cp(join(behind, name), join(store, name));
    const later = await readStore(store);
    expect(later.checkpoint).toBe('loaded');
    expect(later.state.sessions.get(active.id)?.status).toBe('Completed');
    const replayedLater = await readStore(store, { seq: Number.MAX_SAFE_INTEGER });
    expect((await runCli(['export', '--dir', store])).stdout).toBe(renderSessionsFile(replayedLater.state, replayedLater.cursor));
  });

  it('an empty directory is an empty store; a missing one exits 3; a bad command exits 2', async () => {
    await mkdir(store);
    expect(await runCli(['list', '--dir', store])).toMatchObject({ code: 0, stdout: '(no sessions)\n' });
    expect(await runCli(['audit', '--dir', store])).toMatchObject({ code: 0 });
    const missing = await runCli(['stats', '--dir', join(dir, 'nope')]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('no session store at');
    expect((await runCli(['frobnicate'])).code).toBe(2);
    expect((await runCli(['list', '--bogus', '--dir', store])).code).toBe(2);
    expect((await runCli([])).code).toBe(2);
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    for (const name of ['list', 'show', 'stats', 'lineage', 'spawn', 'handoff', 'complete', 'fail', 'replay', 'audit', 'at', 'watch', 'export', 'report', 'machines export']) expect(help.stdout).toContain(`  ${name}`);
    expect((await runCli(['audit', '--help'])).stdout).toContain('example output');
  });

  it('machines export writes each machine as a config createMachine loads (and behaves as the original), its TypeScript source and a Mermaid diagram', async () => {
    const out = join(dir, 'machines');
    expect((await runCli(['machines', 'export', '--out', out])).code).toBe(0);
    const { readFile } = await import('node:fs/promises');
    const { createActor, createMachine } = await import('xstate');
    const { sessionMachine } = await import('../../machines/session.machine.js');
    const { pipelineMachine } = await import('../../machines/pipeline.machine.js');
    const session = JSON.parse(await readFile(join(out, 'session.machine.json'), 'utf8'));
    expect(Object.keys(session.states)).toEqual(['active', 'handedOff', 'completed', 'failed']);
    // The config loads as is (it used to be the resolved definition, which createMachine refused)…
    expect(Object.keys(createMachine(JSON.parse(await readFile(join(out, 'pipeline.machine.json'), 'utf8'))).states)).toContain('awaitingApproval');
    // …and, given the named guards and actions and a context, decides as the original does.
    const loaded = createMachine({ ...session, context: ({ input }: { input: unknown }) => input }).provide(sessionMachine.implementations as never);
    const input = { id: 's', agentName: 'A', childSessions: [] };
    const at = '2026-11-30T00:00:00.000Z';
    const script = [{ type: 'AGENT_FINISHED', result: { success: true, output: 'x' }, at }, { type: 'AGENT_STARTED', pid: 7, at }, { type: 'AGENT_STARTED', pid: 8, at }, { type: 'REQUEST_STOP', reason: 'r', at }, { type: 'REQUEST_STOP', reason: 'r', at }, { type: 'AGENT_FINISHED', result: { success: true, output: 'x' }, at }, { type: 'HAND_OFF', toAgent: 'B', childSession: 'c', at }, { type: 'FAIL', error: 'e', at }] as const;
    const ours = createActor(loaded as never, { input } as never).start();
    const original = createActor(sessionMachine, { input }).start();
    for (const event of script) {
      expect((ours.getSnapshot() as { can: (e: unknown) => boolean }).can(event), event.type).toBe(original.getSnapshot().can(event as never));
      // A final state takes nothing more (can() said so for both): nothing is sent to a stopped actor.
      if (original.getSnapshot().status === 'done') continue;
      ours.send(event as never);
      original.send(event as never);
      expect((ours.getSnapshot() as { value: unknown }).value).toEqual(original.getSnapshot().value);
      expect((ours.getSnapshot() as { context: unknown }).context).toEqual(original.getSnapshot().context);
    }
    // The TypeScript source is the machine's own file, self-contained.
    expect(await readFile(join(out, 'session.machine.ts'), 'utf8')).toBe(await readFile(join(process.cwd(), 'machines', 'session.machine.ts'), 'utf8'));
    expect(await readFile(join(out, 'pipeline.machine.ts'), 'utf8')).toContain('setup({');
    expect(pipelineMachine.id).toBe('pipeline');
    const mermaid = await readFile(join(out, 'session.machine.mmd'), 'utf8');
    expect(mermaid).toContain('active --> handedOff: HAND_OFF');
    expect(mermaid).toContain('failed --> [*]');
    expect(await readFile(join(out, 'pipeline.machine.mmd'), 'utf8')).toContain('running --> handingOff: STEP_SUCCEEDED [hasNextStep]');
  });

  it('stop records who asks (--by) and why; every read command knows the event; a second request is refused', async () => {
    await mkdir(store, { recursive: true });
    const id = await storeWithRunningAgent(store, 'working\n');
    const stopped = await runCli(['stop', id, '--reason', 'runaway loop', '--by', 'alice', '--json', '--dir', store]);
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(JSON.parse(stopped.stdout)).toMatchObject({ status: 'Active', agent: { stopRequest: { by: 'alice', reason: 'runaway loop' } } });
    expect((await runCli(['stop', id, '--dir', store])).code).toBe(4);
    const watched = await runCli(['watch', '--from-start', '--count', '3', '--dir', store]);
    expect(watched.stdout).toMatch(/SessionStopRequested by="alice" reason="runaway loop"/);
    for (const args of [['audit'], ['show', id], ['at', '3'], ['export', '--format', 'ndjson'], ['replay'], ['list']]) {
      const run = await runCli([...args, '--dir', store]);
      expect(run.code, `${args.join(' ')}: ${run.stderr}`).toBe(0);
    }
    expect((await runCli(['show', id, '--dir', store])).stdout).toContain('SessionStopRequested');
  });
});
