import { describe, expect, it } from 'vitest';
import { pipelineIdOf, type Session, type SessionEvent } from '../../src/index.js';
import { PipelineStreams } from '../../src/manager/pipeline-streams.js';

const root = { id: '6f1c2f0e-3b7a-4d52-9a51-0f4d8c2e7b13' } as Session;
const waiting = (seq: number): SessionEvent => ({
  seq, id: `0e7c8f8a-1a4b-4c2e-9d3f-5b6a7c8d9e${String(seq).padStart(2, '0')}`, sessionId: pipelineIdOf(root.id), timestamp: '2026-11-29T00:00:00.000Z', schemaVersion: 4,
  type: 'PipelineWaiting', data: { rootId: root.id, reason: 'gate', step: 1, sessionId: root.id, detail: 'd' },
});

const approved = (seq: number): SessionEvent => ({ ...waiting(seq), type: 'PipelineApproved', data: { rootId: root.id } }) as SessionEvent;

describe('PipelineStreams', () => {
  it('a first read that fails fails every caller waiting on it, and the next call reads again', async () => {
    let reads = 0;
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const streams = new PipelineStreams({
      cursor: () => ({ seq: 1, position: {} }),
      readSessionEvents: async () => {
        reads += 1;
        if (reads === 1) {
          await gate;
          throw new Error('EIO');
        }
        return [waiting(1)];
      },
    });
    const first = streams.streamOf(root);
    const second = streams.streamOf(root);
    release();
    await expect(first).rejects.toThrow('EIO');
    await expect(second).rejects.toThrow('EIO');
    expect(streams.revisionOf(pipelineIdOf(root.id))).toBeUndefined();
    expect((await streams.streamOf(root)).revision).toBe(1);
    // Events folded after the read are kept up to date.
    streams.apply(approved(2));
    expect(streams.revisionOf(pipelineIdOf(root.id))).toBe(2);
  });

  it('keeps aside what is folded while the first read runs, and adds what came after its cursor', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const streams = new PipelineStreams({ cursor: () => ({ seq: 1, position: {} }), readSessionEvents: async () => (await gate, [waiting(1)]) });
    const read = streams.streamOf(root);
    streams.apply(waiting(1)); // folded before the cursor: the read has it
    streams.apply(approved(2)); // after it: kept aside, then added
    expect(streams.revisionOf(pipelineIdOf(root.id))).toBeUndefined();
    release();
    expect((await read).revision).toBe(2);
  });
});
