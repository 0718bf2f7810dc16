import type { SessionManager } from '../../../src/index.js';

/** Waits until the session's agent start is recorded, then prints `started <session> <agent pid>` for the test. */
export async function printWhenStarted(manager: SessionManager, sessionId: string): Promise<void> {
  for (;;) {
    const current = await manager.getSession(sessionId);
    if (current?.agent !== undefined) {
      process.stdout.write(`started ${sessionId} ${current.agent.process.pid}\n`);
      return;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}
