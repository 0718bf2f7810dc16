import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionManager, isSessionError } from '../../src/index.js';
import { contextFor, tempDir } from '../helpers/fixtures.js';
import { logBytes } from '../helpers/log-files.js';

const anything = fc.oneof(
  fc.string(),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 }),
);
const badId = fc.oneof(anything, fc.string().filter((s) => !/^[0-9a-f-]{36}$/i.test(s)), fc.constantFrom('../../etc/passwd', 'a\0b', '__proto__'));
const badAgent = fc.oneof(anything.filter((a) => typeof a !== 'string'), fc.constantFrom('', '../x', 'a/b', 'a\0', '-rf', ' lead', 'x'.repeat(129), '__proto__/x'));
const badContext = fc.oneof(
  anything,
  fc.record({ issueNumber: fc.oneof(fc.integer({ max: 0 }), fc.double({ noInteger: true }), fc.string()), currentPhase: fc.constant('Review'), worktreePath: fc.constant('/w') }),
  fc.record({ issueNumber: fc.constant(1), currentPhase: fc.string().filter((p) => !['IssueAnalysis', 'TaskDecomposition', 'WorktreeCreation', 'CodeGeneration', 'Review', 'Test', 'PullRequest', 'CICD', 'Merge'].includes(p)), worktreePath: fc.constant('/w') }),
  fc.record({ issueNumber: fc.constant(1), currentPhase: fc.constant('Review'), worktreePath: fc.constantFrom('', '../up', 'a/../../b', 'nul\0byte', 'x'.repeat(5000)) }),
  fc.constant(JSON.parse('{"issueNumber":1,"currentPhase":"Review","worktreePath":"/w","__proto__":{"polluted":true}}') as unknown),
  fc.constant(JSON.parse('{"issueNumber":1,"currentPhase":"Review","worktreePath":"/w","constructor":{"prototype":{"polluted":true}}}') as unknown),
);
const hugePurpose = fc.constant('p'.repeat(10 * 1024 * 1024));

describe('bad input at every public entry point (generated)', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let manager: SessionManager;
  let active: string;
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
    manager = await SessionManager.open(dir, { checkpointIdleMs: -1 });
    active = (await manager.spawnAgentSession('A', 'p', contextFor())).id;
  });
  afterAll(async () => {
    await manager.close();
    await cleanup();
  });

  const refused = async (call: () => Promise<unknown>) => {
    const before = await logBytes(dir);
    let error: unknown;
    try {
      await call();
    } catch (e) {
      error = e;
    }
    expect(isSessionError(error, 'INVALID_INPUT'), `expected INVALID_INPUT, got ${String(error)}`).toBe(true);
    expect(await logBytes(dir)).toBe(before);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  };

  it('spawnAgentSession', async () => {
    await fc.assert(fc.asyncProperty(badAgent, async (agent) => refused(() => manager.spawnAgentSession(agent as string, 'p', contextFor()))), { numRuns: 60 });
    await fc.assert(fc.asyncProperty(badContext, async (context) => refused(() => manager.spawnAgentSession('A', 'p', context as never))), { numRuns: 80 });
    await fc.assert(fc.asyncProperty(fc.oneof(hugePurpose, fc.constant(''), fc.constant('a\0b'), anything.filter((p) => typeof p !== 'string')), async (purpose) => refused(() => manager.spawnAgentSession('A', purpose as string, contextFor()))), { numRuns: 20 });
    await fc.assert(fc.asyncProperty(badId.filter((id) => id !== undefined), async (sessionId) => refused(() => manager.spawnAgentSession('A', 'p', contextFor(), { sessionId: sessionId as string }))), { numRuns: 40 });
  });

  it('handoff, completeSession, failSession and the queries', async () => {
    await fc.assert(fc.asyncProperty(badId, async (id) => {
      await refused(() => manager.handoff(id as string, 'B', contextFor()));
      await refused(() => manager.completeSession(id as string));
      await refused(() => manager.failSession(id as string, 'x'));
      await refused(() => manager.getSession(id as string));
      await refused(() => manager.getSessionLineage(id as string));
      await refused(() => manager.waitForAgent(id as string));
    }), { numRuns: 60 });
    await fc.assert(fc.asyncProperty(badAgent, badContext, async (agent, context) => {
      await refused(() => manager.handoff(active, agent as string, contextFor()));
      await refused(() => manager.handoff(active, 'B', context as never));
    }), { numRuns: 60 });
    await fc.assert(fc.asyncProperty(anything.filter((r) => r !== undefined), async (result) => {
      await refused(() => manager.completeSession(active, result as never));
      await refused(() => manager.handoff(active, 'B', contextFor(), { result: result as never }));
    }), { numRuns: 60 });
    await fc.assert(fc.asyncProperty(fc.oneof(fc.constant(''), fc.constant('e\0'), fc.constant('e'.repeat(70_000)), anything.filter((e) => typeof e !== 'string')), async (error) => refused(() => manager.failSession(active, error as string))), { numRuns: 30 });
  });

  it('logFileOf and a handoff\'s chosen child id', async () => {
    await fc.assert(fc.asyncProperty(badId, async (id) => refused(async () => manager.logFileOf(id as string))), { numRuns: 60 });
    await fc.assert(fc.asyncProperty(badId.filter((id) => id !== undefined), async (sessionId) => {
      await refused(() => manager.handoff(active, 'B', contextFor(), { sessionId: sessionId as string }));
    }), { numRuns: 40 });
  });

  it('SessionManager.open refuses bad options, naming the option, and creates nothing', async () => {
    const options = ['durability', 'actors', 'lockTimeoutMs', 'lockLeaseMs', 'maxBatch', 'maxConflictRetries', 'checkpointEvery', 'checkpointIdleMs', 'checkpointCostRatio', 'clock', 'inspect', 'runner', 'store'] as const;
    const valid = (name: string, value: unknown): boolean => {
      switch (name) {
        case 'durability': return value === 'fsync' || value === 'none';
        case 'actors': return value === 'on-demand' || value === 'eager';
        case 'lockTimeoutMs': case 'lockLeaseMs': case 'maxConflictRetries': return Number.isSafeInteger(value) && (value as number) >= 0;
        case 'maxBatch': case 'checkpointEvery': return Number.isSafeInteger(value) && (value as number) >= 1;
        case 'checkpointIdleMs': return value === -1 || (Number.isSafeInteger(value) && (value as number) >= 0);
        case 'checkpointCostRatio': return typeof value === 'number' && value > 0 && value <= 1000;
        case 'clock': case 'inspect': return typeof value === 'function';
        default: return typeof value === 'object' && value !== null;
      }
    };
    const fresh = `${dir}-never-created`;
    await fc.assert(fc.asyncProperty(fc.constantFrom(...options), fc.oneof(anything, fc.integer({ min: -5, max: 0 })), async (name, value) => {
      fc.pre(value !== undefined && !valid(name, value));
      await expect(SessionManager.open(fresh, { [name]: value } as never)).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringContaining(name) });
    }), { numRuns: 120 });
    expect(await logBytes(fresh)).toBe('');
    await expect(import('node:fs/promises').then((fs) => fs.stat(fresh))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('SessionManager.open refuses a path with a NUL byte or a non-string', async () => {
    for (const bad of ['a\0b', '', 42, null]) await expect(SessionManager.open(bad as string)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });
});
