import type { Session } from '../domain/session.js';
import { stopStragglers } from '../process/terminate-family.js';
import { hostName, isProcessGone } from '../process/process-identity.js';

/**
 * Active sessions whose agent was left without a supervisor: the manager process that started
 * it is gone. The caller adopts those it can (this host, a runner that adopts) and stops the
 * rest with {@link stopOrphan}, failing their sessions.
 */
export function findOrphans(sessions: Iterable<Session>): Session[] {
  const orphans: Session[] = [];
  for (const s of sessions) {
    if (s.status !== 'Active' || s.agent === undefined || s.agent.finishedAt !== undefined) continue;
    if (isProcessGone(s.agent.supervisor)) orphans.push(s);
  }
  return orphans;
}

/**
 * What to do with an orphan: adopt it when its agent ran on this host, the runner can follow an
 * agent it did not start, and nothing here follows it yet; otherwise stop what is left of it
 * ({@link stopOrphan}) and fail its session as interrupted (`manager-gone`).
 */
export function decideOrphan(orphan: Session, here: { host: string; runnerAdopts: boolean; followed: boolean }): 'adopt' | 'stop' {
  const agent = orphan.agent;
  return here.runnerAdopts && agent !== undefined && !here.followed && agent.process.host === here.host ? 'adopt' : 'stop';
}

/** Stops an orphan's agent and its tools if they still run; returns the reason to record. */
export async function stopOrphan(session: Session, graceMs: number): Promise<string> {
  const { process: agent, supervisor } = session.agent!;
  // Only a process on this host can be signalled; the same pid elsewhere is someone else.
  const onThisHost = agent.host === hostName();
  const alive = onThisHost && !isProcessGone(agent);
  // Tools the agent started may still run after it died; its session id finds them.
  const key = alive ? { leader: agent.pid, sessionId: session.id, since: agent.startTime } : { sessionId: session.id, since: agent.startTime };
  if (onThisHost) await stopStragglers(key, graceMs);
  return `orphaned: the manager (pid ${supervisor.pid} on ${supervisor.host}) that ran agent pid ${agent.pid} exited${alive ? '; the agent was stopped' : ' and the agent is gone'}`;
}
