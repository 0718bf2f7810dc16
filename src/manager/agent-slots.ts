import { setTimeout as sleep } from 'node:timers/promises';
import { keeperKey, type SlotRequest } from '../domain/slot-table.js';
import { currentProcess } from '../process/process-identity.js';
import type { SlotTable } from '../store/slot-store.js';

/** A coming agent's place in the store's queue, as told to whoever waits for it. */
export interface QueuedSlot {
  /** 1: next to run. */
  position: number;
  /** How many wait in all. */
  waiting: number;
}

/**
 * A slot held for one agent: renewed every third of its lease while a manager follows the agent,
 * handed back once the agent's end is recorded. When a renewal is refused (the lease ran out,
 * or another manager took the slot over with a newer token), the holder is told to stop the
 * agent: a late holder never acts on a slot that is no longer its own.
 */
export class SlotLease {
  private timer: NodeJS.Timeout | null = null;
  private released = false;

  constructor(
    private readonly table: SlotTable,
    /** The session the slot is held for. */
    readonly holder: string,
    /** The fencing token of the grant; null when the store has no limit (nothing is held). */
    readonly token: number | null,
    private readonly leaseMs: number,
  ) {}

  /** Renews the slot while the agent runs; `onLost` is called once if a renewal is refused. */
  keep(onLost: (why: string) => void): void {
    if (this.token === null || this.timer !== null || this.released) return;
    const token = this.token;
    this.timer = setInterval(() => {
      void this.table.renew(this.holder, token).then(
        (ok) => {
          if (ok || this.released) return;
          this.stopRenewing();
          onLost(`its concurrency slot (token ${token}) ran out or was taken over before it was renewed`);
        },
        // The store is out of reach: tried again at the next tick; should the lease run out meanwhile, the slot is lost then.
        () => undefined,
      );
    }, Math.max(50, Math.floor(this.leaseMs / 3)));
    this.timer.unref();
  }

  /** Hands the slot back (idempotent); the queue is served at once. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    this.stopRenewing();
    if (this.token !== null) await this.table.release(this.holder, this.token).catch(() => undefined);
  }

  private stopRenewing(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}

/**
 * The store's concurrency slots as a manager uses them: wait in the queue for a slot before an
 * agent's session is appended (a waiting step has not spawned), and take over the slot of an
 * agent it adopts. Every decision is the store's (see {@link SlotTable}).
 */
export class AgentSlots {
  constructor(
    readonly table: SlotTable,
    private readonly leaseMs: number,
    private readonly pollMs: number,
    /**
     * Run before a spawn first asks for a slot, then about once a lease-third while it waits: the
     * manager adopts the agents of managers that died, so their slots are renewed and no agent
     * runs on without one.
     */
    private readonly whileWaiting: () => Promise<unknown> = async () => undefined,
  ) {}

  /**
   * Waits for a slot for the coming session `holder`: granted at once when the store has no limit
   * or one is free and nobody waits before it; otherwise in the queue, looking again every
   * `pollMs` (each look renews its place), `onQueued` told once. Null when `signal` aborts the
   * wait: the place is given up and nothing is held.
   */
  async take(request: Omit<SlotRequest, 'leaseMs' | 'keeper'>, signal?: AbortSignal, onQueued?: (queued: QueuedSlot) => Promise<void> | void): Promise<SlotLease | null> {
    // Without a limit (the common case) a spawn costs one read, no lock: nothing is kept.
    if ((await this.table.limit()) === null) return new SlotLease(this.table, request.holder, null, this.leaseMs);
    const ticket = { ...request, keeper: keeperKey(currentProcess()), leaseMs: this.leaseMs };
    let told = false;
    // Looked around before the first look at the table too: a slot free now may be that of an
    // agent whose manager died and whose lease just ran out. Adopted first, it keeps its slot;
    // taken first, the adopter finds none free and has to stop a running agent.
    let lookedAround = -Infinity;
    for (;;) {
      if (signal?.aborted === true) {
        await this.table.release(request.holder, 'waiting').catch(() => undefined);
        return null;
      }
      if (Date.now() - lookedAround >= this.leaseMs / 3) {
        lookedAround = Date.now();
        await this.whileWaiting().catch(() => undefined);
      }
      const answer = await this.table.enter(ticket);
      if (answer.granted) return new SlotLease(this.table, request.holder, answer.token, this.leaseMs);
      if (!told) {
        told = true;
        // Telling is a courtesy: a listener that fails never costs the agent its place.
        await Promise.resolve(onQueued?.({ position: answer.position, waiting: answer.waiting })).catch((error: unknown) => process.emitWarning(`onQueued failed for ${request.holder}: ${String(error)}`, 'SessionSlotWarning'));
      }
      await sleep(this.pollMs * (0.75 + Math.random() / 2), undefined, signal === undefined ? {} : { signal }).catch(() => undefined);
    }
  }

  /**
   * Takes over the slot of an agent this manager adopts from its dead manager `from`; null when
   * its slot ran out and no slot is free; `'kept'` when another live manager adopted it first.
   */
  async claim(request: Omit<SlotRequest, 'leaseMs' | 'keeper'>, from: { host: string; pid: number; startTime: string | null }): Promise<SlotLease | null | 'kept'> {
    if ((await this.table.limit()) === null) return new SlotLease(this.table, request.holder, null, this.leaseMs);
    const claimed = await this.table.claim({ ...request, keeper: keeperKey(currentProcess()), leaseMs: this.leaseMs }, keeperKey(from));
    return claimed === null || claimed === 'kept' ? claimed : new SlotLease(this.table, request.holder, claimed.token, this.leaseMs);
  }
}
