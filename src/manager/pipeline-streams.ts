import { pipelineIdOf } from '../domain/pipeline-id.js';
import type { Session } from '../domain/session.js';
import { SessionError } from '../errors.js';
import { isPipelineEvent, type PipelineEvent, type SessionEvent } from '../events/session-event.js';
import { foldPipelineStream, type PipelineStream } from '../projections/pipeline-stream.js';
import type { EventStore } from '../store/event-store.js';

/**
 * The pipeline streams a manager has read, kept whole: a stream is read from the log once (the
 * checkpoint holds no pipeline facts), then kept up to date from the events the manager folds,
 * its own and other writers'. Its revision is what the manager's appends to it expect, so the
 * store's check of expected revisions works for pipeline streams as for sessions.
 */
export class PipelineStreams {
  private readonly kept = new Map<string, { rootId: string; events: PipelineEvent[]; pending: PipelineEvent[] | null }>();

  constructor(private readonly store: EventStore) {}

  /** Notes a folded event: kept streams take their own. */
  apply(event: SessionEvent): void {
    if (!isPipelineEvent(event)) return;
    const kept = this.kept.get(event.sessionId);
    if (kept === undefined) return;
    (kept.pending ?? kept.events).push(event);
  }

  /** How many events the stream holds as the manager has folded the log (0 for a stream it has not read). */
  revisionOf(pipelineId: string): number | undefined {
    const kept = this.kept.get(pipelineId);
    return kept === undefined || kept.pending !== null ? undefined : kept.events.length;
  }

  /**
   * The stream of the pipeline rooted at `root`, folded, as of the events the manager has
   * folded. The first time, it is read from the log up to the manager's cursor (events folded
   * meanwhile are kept aside and added after). Throws `CORRUPT_LOG` for a stream that breaks
   * its rules.
   */
  async streamOf(root: Session): Promise<PipelineStream> {
    const id = pipelineIdOf(root.id);
    let kept = this.kept.get(id);
    if (kept === undefined) {
      const entry = { rootId: root.id, events: [] as PipelineEvent[], pending: [] as PipelineEvent[] | null };
      this.kept.set(id, entry);
      // Read up to the cursor taken now; what the manager folds from here on waits in `pending`.
      const upTo = this.store.cursor();
      try {
        const read = await this.store.readSessionEvents(id, upTo);
        entry.events = [...(read.filter(isPipelineEvent) as PipelineEvent[]), ...entry.pending!.filter((e) => e.seq > upTo.seq)];
        entry.pending = null;
      } catch (error) {
        this.kept.delete(id);
        throw error;
      }
      kept = entry;
    }
    while (kept.pending !== null) await new Promise((resolve) => setTimeout(resolve, 5));
    try {
      return foldPipelineStream(id, root.id, kept.events);
    } catch (error) {
      throw new SessionError('CORRUPT_LOG', (error as Error).message, { cause: error });
    }
  }
}
