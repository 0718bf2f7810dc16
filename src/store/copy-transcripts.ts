import type { EventStore } from './event-store.js';
import { digestOf } from './transcript-store.js';

/**
 * Copies every stored transcript of `from` into `to`, then reads each back from `to` and
 * compares its SHA-256 with the source's. Stores without transcripts copy none.
 */
export async function copyTranscripts(from: EventStore, to: EventStore): Promise<{ count: number; identical: boolean }> {
  if (from.transcripts === undefined || to.transcripts === undefined) return { count: 0, identical: true };
  let count = 0;
  let identical = true;
  for (const id of await from.transcripts.list()) {
    const content = await from.transcripts.load(id);
    if (content === null) continue;
    await to.transcripts.save(id, content);
    const back = await to.transcripts.load(id);
    identical &&= back !== null && digestOf(back).sha256 === digestOf(content).sha256;
    count += 1;
  }
  return { count, identical };
}
