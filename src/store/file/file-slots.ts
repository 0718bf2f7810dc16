import { open, readFile, rename, unlink } from 'node:fs/promises';
import { v4 as uuidv4 } from 'uuid';
import { join } from 'node:path';
import { z } from 'zod';
import { ConcurrencyLimitSchema } from '../../domain/concurrency-limit.js';
import { AgentNameSchema, UuidSchema } from '../../domain/limits.js';
import { EMPTY_SLOT_TABLE, type SlotTableState } from '../../domain/slot-table.js';
import { SessionError, storageError } from '../../errors.js';
import type { SlotChange, SlotTableStore } from '../slot-store.js';
import { FileLock } from './file-lock.js';

/** The file's own mark: a slots.json without it is not ours and is never overwritten. */
const FORMAT = 'miyabi-slots/1';

const EntrySchema = z.strictObject({
  holder: UuidSchema,
  agent: AgentNameSchema,
  pipeline: UuidSchema.nullable(),
  keeper: z.string().max(400),
  order: z.number(),
  token: z.number().nullable(),
  leaseMs: z.number(),
  leaseUntil: z.number(),
  since: z.number(),
});

const FileSchema = z.strictObject({
  format: z.literal(FORMAT),
  limit: ConcurrencyLimitSchema.nullable(),
  nextToken: z.number().int().min(1),
  nextOrder: z.number().int().min(1),
  entries: z.array(EntrySchema),
});

/**
 * A file store's concurrency slots: `slots.json` in the store directory, read and replaced
 * (atomically: a reader sees one table or the next) under `slots.lock`, a lock of its own
 * so that managers waiting for a slot never hold up appends to the log. The clock is this
 * host's: a file store's managers share its host (or its file system and a synchronized clock).
 */
export class FileSlotTable implements SlotTableStore {
  private readonly path: string;
  private readonly lock: FileLock;

  constructor(dir: string, lockTimeoutMs = 10_000) {
    this.path = join(dir, 'slots.json');
    this.lock = new FileLock(join(dir, 'slots.lock'), lockTimeoutMs);
  }

  async transact<T>(change: (table: SlotTableState, now: number) => SlotChange<T>): Promise<T> {
    const release = await this.lock.acquire();
    try {
      const { table, result } = change(await this.read(), Date.now());
      if (table !== null) await this.write(table);
      return result;
    } finally {
      await release();
    }
  }

  /**
   * Replaces the table: a temp file written and fdatasynced, then renamed over. The directory is
   * not synced: a crash may bring back the table before, never a torn one, and every agent whose
   * token that could repeat died with the host (a file store's managers share it).
   */
  private async write(table: SlotTableState): Promise<void> {
    const temp = `${this.path}.${process.pid}.${uuidv4()}.tmp`;
    try {
      const handle = await open(temp, 'wx', 0o600);
      try {
        await handle.writeFile(`${JSON.stringify({ format: FORMAT, ...table })}\n`);
        await handle.datasync();
      } finally {
        await handle.close();
      }
      await rename(temp, this.path);
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      throw storageError('writing', this.path, error);
    }
  }

  async peek(): Promise<{ table: SlotTableState; now: number }> {
    // Replaced whole by a rename: a read without the lock sees one table or the next, never a mix.
    return { table: await this.read(), now: Date.now() };
  }

  private async read(): Promise<SlotTableState> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return EMPTY_SLOT_TABLE;
      throw storageError('reading', this.path, error);
    }
    let parsed: z.infer<typeof FileSchema>;
    try {
      parsed = FileSchema.parse(JSON.parse(text));
    } catch (error) {
      throw new SessionError('STORAGE', `${this.path} is not a slot table this library wrote (left as it is; remove it to start the slots afresh): ${(error as Error).message.slice(0, 300)}`, { cause: error });
    }
    const { format: _format, ...table } = parsed;
    return table as SlotTableState;
  }
}
