import { logFileTail, type AgentLogStore } from '../store/agent-log-store.js';

/** How often a running agent's log is published when it has grown. */
export const LOG_PUBLISH_MS = 2000;

/**
 * Publishes the end of one running agent's log to the store, every {@link LOG_PUBLISH_MS}
 * while it grows and once more when the run is over, so that a page on another host shows it
 * as this host's pages show a local one. A failed publish is a warning, never the run's end:
 * the log is for people watching, the run's record goes through the event log.
 */
export class LogPublisher {
  private readonly timer: NodeJS.Timeout;
  private published: Buffer | null = null;
  private publishing: Promise<void> = Promise.resolve();
  private warned = false;

  constructor(
    private readonly logs: AgentLogStore,
    private readonly sessionId: string,
    private readonly logFile: string,
  ) {
    this.timer = setInterval(() => this.publishSoon(), LOG_PUBLISH_MS);
    // It must not keep a process alive that has nothing else to do.
    this.timer.unref();
  }

  /** Stops publishing, after one last publish of what the run left. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.publishSoon();
    await this.publishing;
  }

  /** One publish at a time, after the one in flight. */
  private publishSoon(): void {
    this.publishing = this.publishing.then(() => this.publish());
  }

  private async publish(): Promise<void> {
    try {
      const tail = await logFileTail(this.logFile);
      // Nothing written yet, or nothing since the last publish: nothing to send.
      if (tail === null || this.published?.equals(tail) === true) return;
      await this.logs.publish(this.sessionId, tail);
      this.published = tail;
    } catch (error) {
      if (this.warned) return;
      this.warned = true;
      process.emitWarning(`could not publish the log of session ${this.sessionId}: ${String(error)}`, 'SessionAgentWarning');
    }
  }
}
