import { pipelineIdOf } from '../domain/pipeline-id.js';
import type { Session } from '../domain/session.js';
import { SessionError } from '../errors.js';
import { isPipelineEvent, type PipelineEvent, type SessionEvent } from '../events/session-event.js';
import { foldPipelineStream, type PipelineStream } from '../projections/pipeline-stream.js';
import type { EventStore } from '../store/event-store.js';

/** A stream kept whole: its events, and while its first read is under way, the events folded meanwhile. */
interface KeptStream {
  events: PipelineEvent[];
  /** Events folded while the first read runs (null once it has ended). */
  pending: PipelineEvent[] | null;
  /** The first read: every caller waits for it, and all see it fail if it does. */
  loaded: Promise<void>;
}

/**
 * The pipeline streams a manager has read, kept whole: a stream is read from the log once (the
 * checkpoint holds no pipeline facts), then kept up to date from the events the manager folds,
 * its own and other writers'. Its revision is what the manager's appends to it expect, so the
 * store's check of expected revisions works for pipeline streams as for sessions.
 */
export class PipelineStreams {
  private readonly kept = new Map<string, KeptStream>();

  constructor(private readonly store: Pick<EventStore, 'cursor' | 'readSessionEvents'>) {}

  /** Notes a folded event: kept streams take their own. */
  apply(event: SessionEvent): void {
    if (!isPipelineEvent(event)) return;
    const kept = this.kept.get(event.sessionId);
    if (kept === undefined) return;
    (kept.pending ?? kept.events).push(event);
  }

  /** How many events the stream holds as the manager has folded the log; undefined for a stream not read (yet). */
  revisionOf(pipelineId: string): number | undefined {
    const kept = this.kept.get(pipelineId);
    return kept === undefined || kept.pending !== null ? undefined : kept.events.length;
  }

  /**
   * The stream of the pipeline rooted at `root`, folded, as of the events the manager has
   * folded. The first time, it is read from the log up to the manager's cursor (events folded
   * meanwhile are kept aside and added after); a read that fails is tried again by the next
   * call. Throws `CORRUPT_LOG` for a stream that breaks its rules, and what the read throws.
   */
  async streamOf(root: Session): Promise<PipelineStream> {
    const id = pipelineIdOf(root.id);
    let kept = this.kept.get(id);
    if (kept === undefined) {
      // Read up to the cursor taken now; what the manager folds from here on waits in `pending`.
      const upTo = this.store.cursor();
      const entry: KeptStream = { events: [], pending: [], loaded: Promise.resolve() };
      entry.loaded = (async () => {
        try {
          const read = await this.store.readSessionEvents(id, upTo);
          entry.events = [...(read.filter(isPipelineEvent) as PipelineEvent[]), ...entry.pending!.filter((e) => e.seq > upTo.seq)];
          entry.pending = null;
        } catch (error) {
          this.kept.delete(id);
          throw error;
        }
      })();
      this.kept.set(id, entry);
      kept = entry;
    }
    await kept.loaded;
    try {
      return foldPipelineStream(id, root.id, kept.events);
    } catch (error) {
      throw new SessionError('CORRUPT_LOG', (error as Error).message, { cause: error });
    }
  }
}
