import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { v4 as uuidv4 } from 'uuid';
import { afterEach, describe, expect, it } from 'vitest';
import { AGENT_SESSION_VARIABLE, familyOf, processTableScans } from '../../src/process/agent-family.js';
import { terminateFamily } from '../../src/process/terminate-family.js';

const started: ChildProcess[] = [];

/** A stand-in for an agent: a process of its own group carrying its session id, as the runner starts them. */
function fakeAgent(): { pid: number; sessionId: string } {
  const sessionId = uuidv4();
  const child = spawn('sleep', ['60'], { detached: true, stdio: 'ignore', env: { ...process.env, [AGENT_SESSION_VARIABLE]: sessionId } });
  child.unref();
  started.push(child);
  return { pid: child.pid!, sessionId };
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]$/.test(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]!);
  } catch {
    return false;
  }
}

afterEach(() => {
  for (const child of started.splice(0)) {
    try {
      process.kill(child.pid!, 'SIGKILL');
    } catch {
      // gone
    }
  }
});

describe('agent families', () => {
  it('families stopped together share their scans of /proc, and every one of them ends', async () => {
    const agents = Array.from({ length: 40 }, fakeAgent);
    // Each is found by its session id alone, as for an agent adopted after its manager died.
    for (const agent of agents) expect(familyOf({ sessionId: agent.sessionId })).toEqual([agent.pid]);
    const before = processTableScans();
    await Promise.all(agents.map((agent) => terminateFamily({ sessionId: agent.sessionId }, 2000)));
    const scans = processTableScans() - before;
    for (const agent of agents) expect(alive(agent.pid)).toBe(false);
    // One scan per family per look would be 40 at least; together they take a handful.
    expect(scans).toBeLessThan(10);
  });

  it('a family looked up after it started a process finds that process (a look is never older than asked)', async () => {
    const agent = fakeAgent();
    expect(familyOf({ sessionId: agent.sessionId })).toEqual([agent.pid]);
    const sibling = spawn('sleep', ['60'], { detached: true, stdio: 'ignore', env: { ...process.env, [AGENT_SESSION_VARIABLE]: agent.sessionId } });
    started.push(sibling);
    expect(familyOf({ sessionId: agent.sessionId }).sort()).toEqual([agent.pid, sibling.pid!].sort());
  });

  it('a family stopped right after it started is found: a shared look is always begun after it was asked for', async () => {
    for (let round = 0; round < 10; round += 1) {
      // Another family's stop keeps looks going meanwhile.
      const other = fakeAgent();
      const stoppingOther = terminateFamily({ sessionId: other.sessionId }, 2000);
      await new Promise((resolve) => setTimeout(resolve, 5));
      const agent = fakeAgent();
      await Promise.all([terminateFamily({ sessionId: agent.sessionId }, 2000), stoppingOther]);
      expect(alive(agent.pid)).toBe(false);
    }
  });
});
