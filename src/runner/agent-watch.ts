import type { FamilyKey } from '../process/agent-family.js';
import { trackFamily } from '../process/exit-hooks.js';
import { terminateFamily } from '../process/terminate-family.js';

/** A running agent under this manager's watch. */
export interface AgentWatch {
  /** Stops the agent's family for this reason (the first reason given is the one kept). */
  stop(why: string): void;
  /** Why it was stopped, or null while it was not. */
  readonly stopReason: string | null;
  /** From now on, the family dies with this process (exit, SIGINT/SIGTERM/SIGHUP). */
  track(key: FamilyKey & { leader: number }): void;
  /** Ends the watch: its deadline, its abort listener and its tracking. */
  dispose(): void;
}

/** What to watch an agent for. */
export interface WatchOptions {
  /** Who the agent's family is, as of now (it may change: its pid once known, or gone). */
  family: () => FamilyKey;
  /** Time left before its deadline, in ms, and what to say when it passes. */
  msLeft: number;
  timeoutMessage: string;
  signal: AbortSignal;
  killGraceMs: number;
}

/**
 * The one routine that watches an agent, for a run this manager started and for one it adopted
 * alike: at its deadline, on an abort, or on {@link AgentWatch.stop}, its family is terminated
 * (SIGTERM, then SIGKILL after the grace), and while watched it dies with this process.
 */
export function watchAgent(options: WatchOptions): AgentWatch {
  let stopReason: string | null = null;
  let untrack = () => {};
  const stop = (why: string) => {
    if (stopReason !== null) return;
    stopReason = why;
    void terminateFamily(options.family(), options.killGraceMs);
  };
  const timer = setTimeout(() => stop(options.timeoutMessage), Math.max(0, options.msLeft));
  const onAbort = () => stop(`aborted: ${reasonOf(options.signal)}`);
  options.signal.addEventListener('abort', onAbort, { once: true });
  return {
    stop,
    get stopReason() {
      return stopReason;
    },
    track: (key) => {
      untrack = trackFamily(key);
      // An abort that came before the agent could be tracked still stops it.
      if (options.signal.aborted) onAbort();
    },
    dispose: () => {
      clearTimeout(timer);
      options.signal.removeEventListener('abort', onAbort);
      untrack();
    },
  };
}

/** Why a signal aborted, in words. */
export function reasonOf(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason.message : String(reason ?? 'aborted');
}
