import { createHash, createHmac } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { LIMITS } from '../domain/limits.js';
import { isSessionError } from '../errors.js';
import { EVENT_SCHEMA_VERSION } from '../events/event-envelope.js';
import type { SessionManager } from '../manager/session-manager.js';
import type { resolveNotifyOptions } from '../domain/notify-options.js';
import type { Notification } from './notifications.js';
import { decideNotified } from './decide-pipeline.js';
import type { PipelineStream } from '../projections/pipeline-stream.js';

type Settings = ReturnType<typeof resolveNotifyOptions>;

/** One place a notification goes. */
interface Target {
  /** As recorded in the log: `command`, or `webhook:` and a digest of the URL (a URL may hold a token). */
  key: string;
  send(body: string, notification: Notification, signal: AbortSignal): Promise<void>;
}

/**
 * Delivers a pipeline's notifications, at least once per target, in the background: a receiver
 * that is down delays its notifications (tries with doubling waits), never the pipeline. Each
 * delivery ends in a `PipelineNotified` record on the pipeline's stream (delivered, or given up
 * on, with the tries made); what has no record is delivered again by whichever process runs the
 * pipeline next, under the same notification id, so a crash loses none.
 */
export class Notifier {
  private readonly targets: Target[];
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly abort = new AbortController();

  constructor(private readonly manager: SessionManager, private readonly rootId: string, pipelineWebhooks: readonly string[], private readonly settings: Settings = manager.notifications) {
    const urls = [...new Set([...settings.webhooks, ...pipelineWebhooks])];
    this.targets = urls.map((url) => webhookTarget(url, settings));
    if (settings.command !== undefined) this.targets.push(commandTarget(settings.command, settings.timeoutMs));
  }

  /** Whether anything is ever delivered (no target: the pipeline's stream is not even read for it). */
  get active(): boolean {
    return this.targets.length > 0;
  }

  /** Starts delivering what is neither settled in the stream nor on its way already. */
  offer(notifications: readonly Notification[], stream: Pick<PipelineStream, 'settled'>): void {
    for (const notification of notifications) {
      for (const target of this.targets) {
        const key = `${notification.id} ${target.key}`;
        if (stream.settled.has(key) || this.inFlight.has(key)) continue;
        const delivery = this.deliver(notification, target).finally(() => this.inFlight.delete(key));
        this.inFlight.set(key, delivery);
      }
    }
  }

  /** Resolves once every delivery started has been recorded (or given up on). */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight.values()]);
  }

  /** Stops the tries under way (the manager is going away: what is unrecorded goes again later). */
  stop(): void {
    this.abort.abort();
  }

  private async deliver(notification: Notification, target: Target): Promise<void> {
    const body = JSON.stringify({ schemaVersion: EVENT_SCHEMA_VERSION, ...notification });
    let attempts = 0;
    let error: string | undefined;
    for (; attempts < this.settings.attempts && !this.abort.signal.aborted; ) {
      if (attempts > 0) await sleep(this.settings.backoffMs * 2 ** (attempts - 1), undefined, { signal: this.abort.signal }).catch(() => undefined);
      if (this.abort.signal.aborted) return;
      attempts += 1;
      try {
        await target.send(body, notification, AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.settings.timeoutMs)]));
        error = undefined;
        break;
      } catch (failure) {
        error = String((failure as Error).message ?? failure).slice(0, LIMITS.errorText);
      }
    }
    if (this.abort.signal.aborted) return;
    await this.record(notification, target, attempts, error);
  }

  private async record(notification: Notification, target: Target, attempts: number, error: string | undefined): Promise<void> {
    const delivery = { notification: notification.id, kind: notification.kind, target: target.key, attempts, delivered: error === undefined, ...(error === undefined ? {} : { error }) };
    for (let tries = 0; tries < 20; tries += 1) {
      try {
        await this.manager.appendToPipeline(this.rootId, (stream, clock) => decideNotified(stream, delivery, clock));
        return;
      } catch (failure) {
        // Closed meanwhile: unrecorded, it is delivered again by the next process that runs the pipeline.
        if (isSessionError(failure, 'CLOSED')) return;
        if (!isSessionError(failure, 'CONFLICT')) throw failure;
      }
    }
  }
}

/** A webhook: a signed JSON POST; a 2xx answer delivers it. */
function webhookTarget(url: string, settings: Settings): Target {
  const digest = createHash('sha256').update(url).digest('hex').slice(0, 16);
  return {
    key: `webhook:${digest}`,
    async send(body, notification, signal) {
      const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'miyabi-session-manager', 'x-miyabi-delivery': notification.id, 'x-miyabi-event': notification.kind };
      if (settings.secret !== undefined) headers['x-miyabi-signature'] = `sha256=${createHmac('sha256', settings.secret).update(body).digest('hex')}`;
      const response = await fetch(url, { method: 'POST', headers, body, signal, redirect: 'error' });
      await response.body?.cancel().catch(() => undefined);
      if (!response.ok) throw new Error(`webhook ${digest} answered ${response.status}`);
    },
  };
}

/** The manager's command hook: the JSON body on stdin; exit 0 delivers it. */
function commandTarget(command: readonly string[], timeoutMs: number): Target {
  const [file, ...args] = command as [string, ...string[]];
  return {
    key: 'command',
    async send(body, notification, signal) {
      await execa(file, args, { input: body, timeout: timeoutMs, cancelSignal: signal, env: { MIYABI_NOTIFICATION: notification.kind, MIYABI_NOTIFICATION_ID: notification.id }, stdout: 'ignore', stderr: 'pipe' });
    },
  };
}
