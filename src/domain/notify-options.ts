import { z } from 'zod';
import { parseInput } from './parse-input.js';
import { WebhookUrlSchema } from './pipeline-steps.js';

/**
 * Where a manager's pipelines send their notifications (pipeline completed, failed, waiting for
 * a person, a step interrupted), set in the manager's own options: `SessionManager.open(dir,
 * { notify })`. The command hook is set here only, never from the store: anyone who can write a
 * store must not be able to run commands on every host that runs its pipelines.
 */
export interface NotifyOptions {
  /** Webhooks every pipeline this manager runs notifies, besides each pipeline's own (`webhooks` in its spec). */
  webhooks?: string[];
  /**
   * The key of each webhook's `X-Miyabi-Signature: sha256=<hex HMAC-SHA256 of the body>`; default:
   * the environment's `MIYABI_WEBHOOK_SECRET`. Without either, webhooks go unsigned. Never logged.
   */
  secret?: string;
  /** A program and its arguments, run for each notification with the JSON body on stdin (exit 0: delivered). */
  command?: string[];
  /** Tries per delivery and target, the first included (default 6). */
  attempts?: number;
  /** The wait before the second try, doubling after each (default 500 ms). */
  backoffMs?: number;
  /** How long one try may take (default 10 000 ms). */
  timeoutMs?: number;
}

/** Zod schema of {@link NotifyOptions}. */
export const NotifyOptionsSchema = z.strictObject({
  webhooks: z.array(WebhookUrlSchema).max(16).optional(),
  secret: z.string().min(1).max(4096).optional(),
  command: z.array(z.string().max(4096)).min(1).max(256).optional(),
  attempts: z.number().int().min(1).max(100).optional(),
  backoffMs: z.number().int().min(0).max(3_600_000).optional(),
  timeoutMs: z.number().int().min(1).max(600_000).optional(),
});

/** The options checked (`INVALID_INPUT` for a bad one), with the defaults filled in. */
export function resolveNotifyOptions(options: unknown): Required<Omit<NotifyOptions, 'secret' | 'command'>> & Pick<NotifyOptions, 'secret' | 'command'> {
  const given = parseInput(NotifyOptionsSchema.optional(), options, 'option notify') ?? {};
  const secret = given.secret ?? process.env['MIYABI_WEBHOOK_SECRET'];
  return {
    webhooks: given.webhooks ?? [],
    attempts: given.attempts ?? 6,
    backoffMs: given.backoffMs ?? 500,
    timeoutMs: given.timeoutMs ?? 10_000,
    ...(secret === undefined || secret === '' ? {} : { secret }),
    ...(given.command === undefined ? {} : { command: given.command }),
  };
}
