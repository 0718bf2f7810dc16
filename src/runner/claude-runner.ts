import type { AgentCaps } from '../domain/agent-caps.js';
import { closeSync, createWriteStream, fstatSync, openSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { isProcessGone, processStartTime } from '../process/process-identity.js';
import type { AdoptSpec, AgentOutcome, AgentRunner, AgentRunSpec } from './agent-runner.js';
import { buildPrompt } from './build-prompt.js';
import { childEnv } from './child-env.js';
import { PROMPT_PLACEHOLDER, claudeArgs, type ClaudeArgOptions } from './claude-args.js';
import { AGENT_SESSION_VARIABLE, forksSoFar } from '../process/agent-family.js';
import { stopStragglers } from '../process/terminate-family.js';
import { reasonOf, watchAgent } from './agent-watch.js';
import { classifyRunEnd } from './run-end.js';
import { resolveClaudeCommand } from './resolve-claude.js';
import { claudeConfigDir, findClaudeTranscript } from './claude-transcripts.js';
import { Semaphore } from './semaphore.js';
import { StreamJsonReader } from './stream-json.js';
import { LogFollower } from './log-follower.js';

/** Options of {@link ClaudeRunner}. */
export interface ClaudeRunnerOptions extends ClaudeArgOptions {
  /** The agent CLI to run (default: the installed Claude Code binary, else `claude` on PATH). */
  command?: string;
  /**
   * Builds the whole argument list instead, for another headless agent CLI that prints
   * stream-json. `resumeTranscript` is a file holding the parent's conversation, when found.
   */
  args?: (input: { prompt: string; sessionId: string; resumeFrom: string | null; resumeTranscript: string | null; caps?: AgentCaps }) => string[];
  /** Variables added to the agent's environment (on top of the allowlist). */
  env?: Record<string, string>;
  /**
   * Whether the agent inherits the allowlisted part of this process's environment (default
   * true: its API key, `CLAUDE_CONFIG_DIR`, proxies, locale). With false it gets `PATH` and `env`
   * only: for tests and sandboxes, where a developer's own login or config must not reach it.
   */
  inheritEnv?: boolean;
  /** Kill an agent that runs longer than this, in ms (default 30 minutes). */
  timeoutMs?: number;
  /** How many agents may run at once (default 4); the rest wait for a slot. */
  maxConcurrent?: number;
  /** Time between SIGTERM and SIGKILL when an agent is stopped, in ms (default 5 000). */
  killGraceMs?: number;
  /** Whether a handoff child continues the parent's conversation (default true). */
  forkOnHandoff?: boolean;
  /** Whether a clean finish completes the session (default false: it stays Active for a handoff). */
  completeOnSuccess?: boolean;
  /**
   * What a handoff does when the parent's conversation is nowhere to be found (not stored with
   * the session, not in this host's Claude config): `'fail'` (default) fails the child before
   * it starts, with a clear reason; `'fresh'` starts the child without the parent's turns (its
   * prompt still carries the parent's result).
   */
  forkWithoutTranscript?: 'fail' | 'fresh';
  /**
   * How long a run stopped by a rate or usage limit waits before it runs again, when the CLI
   * does not say when the limit resets (default 60 000 ms). The session fails interrupted with
   * `retryAfter`; a pipeline runs the step again then, within its `maxRetries`.
   */
  usageLimitWaitMs?: number;
}

/** How often a running agent's log file is read for new lines. */
const FOLLOW_MS = 100;

/**
 * Runs agents as headless Claude Code processes (`claude -p … --output-format stream-json`),
 * through execa with no shell: each in its own process group and carrying its session id in
 * `MIYABI_SESSION_ID` (so stopping it stops every tool it started, even in other sessions).
 * The agent writes its output to the session's log file (mode 0600) itself, so it outlives a
 * manager that dies; the runner follows the file for the init session id and the final result,
 * and `adopt` does the same for an agent whose manager died.
 *
 * @example
 * const manager = await SessionManager.open('.ai/sessions', { runner: new ClaudeRunner({ maxConcurrent: 4 }) });
 */
export class ClaudeRunner implements AgentRunner {
  readonly forksOnHandoff: boolean;
  readonly completeOnSuccess: boolean;
  /** The slots agents run in; `highWater` tells the most that ever ran at once. */
  readonly slots: Semaphore;
  private readonly command: string;

  constructor(private readonly options: ClaudeRunnerOptions = {}) {
    this.command = options.command ?? resolveClaudeCommand();
    this.slots = new Semaphore(options.maxConcurrent ?? 4);
    this.forksOnHandoff = options.forkOnHandoff ?? true;
    this.completeOnSuccess = options.completeOnSuccess ?? false;
  }

  /** The environment an agent of this session runs with (so also where its config and transcripts are). */
  private agentEnv(sessionId: string): Record<string, string> {
    return { ...childEnv(process.env, this.options.env, this.options.inheritEnv ?? true), [AGENT_SESSION_VARIABLE]: sessionId };
  }

  async run(spec: AgentRunSpec): Promise<AgentOutcome> {
    const release = await this.slots.acquire();
    try {
      if (spec.signal.aborted) return { ok: false, error: `aborted before start: ${reasonOf(spec.signal)}` };
      return await this.runInSlot(spec);
    } finally {
      release();
    }
  }

  private async runInSlot(spec: AgentRunSpec): Promise<AgentOutcome> {
    const { session } = spec;
    // A session without a worktree works where its manager runs, as `claude -p` typed there would.
    const cwd = resolve(session.context.worktreePath ?? '.');
    const isDir = await stat(cwd).then((s) => s.isDirectory(), () => false);
    if (!isDir) return { ok: false, error: `worktree ${cwd} does not exist or is not a directory` };

    const env = this.agentEnv(session.id);
    const configDir = claudeConfigDir(env);
    let { resumeFrom } = spec;
    // A fork needs the parent's conversation in a file: the store's copy, else this host's own.
    const resumeTranscript = resumeFrom === null ? null : (spec.resumeTranscript ?? (await findClaudeTranscript(configDir, resumeFrom)));
    // Another CLI's `args` decide for themselves what a fork needs (they get both).
    if (resumeFrom !== null && resumeTranscript === null && this.options.args === undefined) {
      if (this.options.forkWithoutTranscript !== 'fresh') {
        return { ok: false, error: `cannot fork the conversation of session ${resumeFrom}: it is not stored with the session and not under ${join(configDir, 'projects')} on this host (did it run on another host with storeTranscripts off?); forkWithoutTranscript: 'fresh' starts the child without it` };
      }
      resumeFrom = null;
    }
    const input = { prompt: buildPrompt(session), sessionId: session.id, resumeFrom, resumeTranscript, ...(spec.caps === undefined ? {} : { caps: spec.caps }) };
    const args = this.options.args?.(input) ?? claudeArgs(input, this.options);
    // The agent writes its output to its log file itself, not through a pipe to this process:
    // should this manager die, the agent runs on, loses nothing, and another manager adopts it.
    const logFd = openSync(spec.logFile, 'a', 0o600);
    const from = fstatSync(logFd).size;
    // A stream on the file's descriptor: Node hands the descriptor itself to the child.
    const logStream = createWriteStream('', { fd: logFd, autoClose: false });
    // Counted before the spawn, so the agent and all it starts come after.
    const forks = forksSoFar();
    const child = execa(this.command, args, {
      cwd,
      env,
      extendEnv: false,
      stdin: 'ignore',
      stdout: logStream,
      stderr: logStream,
      detached: true,
      cleanup: false,
      reject: false,
    });
    closeSync(logFd);
    const reader = new StreamJsonReader();
    // Known once the process runs: nothing older than the agent is looked at as its doing.
    let startTime: string | null = null;
    const grace = this.options.killGraceMs ?? 5000;
    const timeoutMs = this.options.timeoutMs ?? 30 * 60_000;
    const watch = watchAgent({
      family: () => ({ ...(child.pid === undefined ? {} : { leader: child.pid }), sessionId: session.id, since: startTime }),
      msLeft: timeoutMs,
      timeoutMessage: `timed out after ${timeoutMs} ms and was stopped`,
      signal: spec.signal,
      killGraceMs: grace,
    });
    const follower = new LogFollower(spec.logFile, from, (line) => {
      reader.push(line);
      if (reader.initSessionId !== null && reader.initSessionId !== session.id) {
        watch.stop(`the agent announced session id ${reader.initSessionId}, not ${session.id}`);
      }
    });
    const following = setInterval(() => void follower.poll(), FOLLOW_MS);
    try {
      if (child.pid !== undefined) {
        startTime = processStartTime(child.pid);
        watch.track({ leader: child.pid, sessionId: session.id, since: startTime });
        const command = [this.command, ...args.map((a) => (a === input.prompt ? PROMPT_PLACEHOLDER : a))];
        await spec.onStarted({ pid: child.pid, startTime, command, cwd, resumedFrom: resumeFrom }).catch((error: unknown) => {
          watch.stop(`could not record the agent's start: ${error instanceof Error ? error.message : String(error)}`);
        });
      }
      const result = await child;
      clearInterval(following);
      await follower.finish();
      // The agent may exit before the tools it started: none may outlive it. Its pid is no
      // longer its own, so the family is found by its session id alone.
      await stopStragglers({ sessionId: session.id, since: startTime, ...(child.pid === undefined ? {} : { firstPid: { pid: child.pid, forks } }) }, grace);
      const notStarted = result.exitCode === undefined && result.signal === undefined;
      const outcome = classifyRunEnd({
        stopReason: watch.stopReason,
        exit: notStarted ? { spawnError: result.code === 'ENOENT' ? `command not found: ${this.command}` : (result.originalMessage ?? 'unknown error') } : { ...(result.exitCode === undefined ? {} : { exitCode: result.exitCode }), ...(result.signal === undefined ? {} : { signal: result.signal }) },
        result: reader.result,
        agentResult: reader.toAgentResult(result.exitCode === 0 && watch.stopReason === null),
        strayTail: follower.strayTail,
        ...this.usageLimitWait(),
      });
      const transcript = await findClaudeTranscript(configDir, session.id);
      return transcript === null ? outcome : { ...outcome, transcript };
    } finally {
      clearInterval(following);
      watch.dispose();
    }
  }

  /**
   * Takes over the agent of a session whose manager died while the agent ran on: follows its
   * log file for the result, stops it at its deadline (`timeoutMs` from its start) or on
   * abort, and ends when the process is gone. An agent already gone (its pid, with its start
   * time, no longer runs: a reused pid is someone else) ends at once, with the result its log
   * holds. Never starts anything, and never signals a process that is not the agent's.
   */
  async adopt(spec: AdoptSpec): Promise<AgentOutcome> {
    const agent = spec.session.agent!;
    const { pid } = agent.process;
    const sessionId = spec.session.id;
    const reader = new StreamJsonReader();
    const follower = new LogFollower(spec.logFile, 0, (line) => reader.push(line));
    const key = { leader: pid, sessionId, since: agent.process.startTime };
    const grace = this.options.killGraceMs ?? 5000;
    const timeoutMs = this.options.timeoutMs ?? 30 * 60_000;
    const watch = watchAgent({
      // Once the agent is gone, its pid is someone else's: its tools are found by its session id alone.
      family: () => (isProcessGone(agent.process) ? { sessionId, since: agent.process.startTime } : key),
      msLeft: Date.parse(agent.startedAt) + timeoutMs - Date.now(),
      timeoutMessage: `timed out after ${timeoutMs} ms and was stopped (adopted after its manager died)`,
      signal: spec.signal,
      killGraceMs: grace,
    });
    watch.track(key);
    try {
      while (!isProcessGone(agent.process)) {
        await follower.poll();
        await sleep(FOLLOW_MS);
      }
      await follower.finish();
      await stopStragglers({ sessionId, since: agent.process.startTime }, grace);
      const clean = watch.stopReason === null && reader.result !== null && !reader.result.isError;
      const outcome = classifyRunEnd({ stopReason: watch.stopReason, result: reader.result, agentResult: reader.toAgentResult(clean), strayTail: follower.strayTail, pid, ...this.usageLimitWait() });
      const transcript = await findClaudeTranscript(claudeConfigDir(this.agentEnv(sessionId)), sessionId);
      return transcript === null ? outcome : { ...outcome, transcript };
    } finally {
      watch.dispose();
    }
  }

  private usageLimitWait(): { usageLimitWaitMs?: number } {
    return this.options.usageLimitWaitMs === undefined ? {} : { usageLimitWaitMs: this.options.usageLimitWaitMs };
  }
}
