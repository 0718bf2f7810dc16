/*
 * The audit's schema worker (see schema-check.ts): takes batches of events' JSON, one event a
 * line, and answers with the index and reason of each that its schema refuses.
 */
import { parentPort } from 'node:worker_threads';
import { schemaRefusal } from '../events/schema-refusal.js';

/** A batch to validate, as schema-check.ts posts it. */
export interface SchemaBatch {
  id: number;
  text: string;
}

/** The answer to a batch: the refused events' indexes in it, with why. */
export interface SchemaAnswer {
  id: number;
  refused: Array<[number, string]>;
}

parentPort?.on('message', (batch: SchemaBatch) => {
  const refused: Array<[number, string]> = [];
  const lines = batch.text.split('\n');
  for (let i = 0; i < lines.length; i += 1) {
    const reason = schemaRefusal(JSON.parse(lines[i]!));
    if (reason !== null) refused.push([i, reason]);
  }
  parentPort!.postMessage({ id: batch.id, refused } satisfies SchemaAnswer);
});
