import { spawn, type ChildProcess } from 'node:child_process';
import { hostname } from 'node:os';
import { v4 as uuidv4 } from 'uuid';
import { afterEach, describe, expect, it } from 'vitest';
import { AGENT_SESSION_VARIABLE, familyOf } from '../../src/process/agent-family.js';
import { processBackend, useProcessBackend } from '../../src/process/process-backend.js';
import { isProcessGone, processStartTime, processState } from '../../src/process/process-identity.js';
import { terminateFamily } from '../../src/process/terminate-family.js';
import { pollFor } from '../helpers/children.js';

const started: ChildProcess[] = [];
afterEach(() => {
  for (const child of started.splice(0)) child.kill('SIGKILL');
});

/** An agent stand-in leading its own group, with a child of its own and a marked process outside its group. */
function agentWithFamily(): { leader: number; sessionId: string; outsider: ChildProcess } {
  const sessionId = uuidv4();
  const env = { ...process.env, [AGENT_SESSION_VARIABLE]: sessionId };
  const leader = spawn('sh', ['-c', 'sleep 60 & wait'], { detached: true, stdio: 'ignore', env });
  // A tool in a session of its own (as Claude Code runs Bash), found only by its mark.
  const outsider = spawn('sleep', ['60'], { detached: true, stdio: 'ignore', env });
  started.push(leader, outsider);
  return { leader: leader.pid!, sessionId, outsider };
}

for (const name of ['proc', 'ps'] as const) {
  describe(`the ${name} process backend`, () => {
    it('is the one in use, and tells a process\'s start time, state, family and end', async () => {
      const restore = useProcessBackend(name);
      try {
        expect(processBackend().name).toBe(name);
        const agent = agentWithFamily();
        const since = processStartTime(agent.leader);
        expect(since).toMatch(/^\d+$/);
        expect(processStartTime(agent.leader)).toBe(since);
        expect(processState(agent.leader)).toMatch(/^[RSD]$/);
        // The leader, its sleeping child (same group) and the outsider (by its mark).
        const family = await pollFor(async () => {
          const found = familyOf({ leader: agent.leader, sessionId: agent.sessionId, since });
          return found.length === 3 ? found : undefined;
        }, 5000, 'the whole family');
        expect(family).toContain(agent.leader);
        expect(family).toContain(agent.outsider.pid);
        expect(familyOf({ sessionId: uuidv4() })).toEqual([]);
        const identity = { host: hostname(), pid: agent.leader, startTime: since };
        expect(isProcessGone(identity)).toBe(false);
        // A recycled pid is someone else: another start time is not the same process.
        expect(isProcessGone({ ...identity, startTime: String(Number(since) - 100) })).toBe(true);
        await terminateFamily({ leader: agent.leader, sessionId: agent.sessionId, since }, 2000);
        expect(familyOf({ sessionId: agent.sessionId, since })).toEqual([]);
        expect(isProcessGone(identity)).toBe(true);
        // Gone for good once reaped (a zombie still has a start time until its parent reaps it).
        await pollFor(async () => (processStartTime(agent.leader) === null ? true : undefined), 5000, 'the leader to be reaped');
      } finally {
        restore();
      }
    });
  });
}
