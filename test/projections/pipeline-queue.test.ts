import { describe, expect, it } from 'vitest';
import { v4 as uuidv4 } from 'uuid';
import { foldPipelineStream, pipelineStreamRefusal } from '../../src/projections/pipeline-stream.js';
import { decideQueued } from '../../src/pipeline/decide-pipeline.js';
import type { PipelineEvent } from '../../src/events/session-event.js';
import { EVENT_SCHEMA_VERSION } from '../../src/index.js';

/* A step's wait for a slot on the pipeline's stream: recorded while the pipeline runs, never while it waits for a person. */
describe('PipelineQueued on a pipeline stream', () => {
  const rootId = uuidv4();
  const pipelineId = uuidv4();
  let seq = 0;
  const event = (type: PipelineEvent['type'], data: Record<string, unknown>): PipelineEvent =>
    ({ id: uuidv4(), sessionId: pipelineId, timestamp: new Date(1_700_000_000_000 + seq * 1000).toISOString(), schemaVersion: EVENT_SCHEMA_VERSION, seq: ++seq, type, data: { rootId, ...data } }) as PipelineEvent;
  const queued = (step: number) => event('PipelineQueued', { step, sessionId: uuidv4(), agentName: 'ReviewAgent', position: 2 });

  it('folds queue records into `queued` without changing where the stream stands', () => {
    const first = queued(1);
    const stream = foldPipelineStream(pipelineId, rootId, [first, event('PipelineWaiting', { reason: 'gate', step: 2, sessionId: rootId, detail: 'deploy?' }), event('PipelineApproved', {}), queued(2)]);
    expect(stream.queued.map((q) => q.step)).toEqual([1, 2]);
    expect(stream.queued[0]).toMatchObject({ sessionId: first.type === 'PipelineQueued' ? first.data.sessionId : '', agentName: 'ReviewAgent', position: 2, since: first.timestamp });
    expect(stream.state).toBe('open');
    expect(stream.revision).toBe(4);
  });

  it('refuses a queue record while the pipeline waits for a person or after a rejection, in the fold and in the decision', () => {
    expect(pipelineStreamRefusal('waiting', queued(1))).toMatch(/waits for a person/);
    expect(pipelineStreamRefusal('rejected', queued(1))).toMatch(/rejected/);
    expect(() => foldPipelineStream(pipelineId, rootId, [event('PipelineWaiting', { reason: 'gate', step: 1, sessionId: rootId, detail: 'd' }), queued(1)])).toThrow(/waits for a person/);
    const waiting = foldPipelineStream(pipelineId, rootId, [event('PipelineWaiting', { reason: 'gate', step: 1, sessionId: rootId, detail: 'd' })]);
    expect(() => decideQueued(waiting, { step: 1, sessionId: uuidv4(), agentName: 'ReviewAgent', position: 1 }, { now: new Date().toISOString(), newId: uuidv4 })).toThrow(expect.objectContaining({ code: 'INVALID_TRANSITION' }));
  });
});
