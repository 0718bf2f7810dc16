import { describe, expect, it } from 'vitest';
import { AgentSlots } from '../../src/manager/agent-slots.js';
import type { SlotTable } from '../../src/store/slot-store.js';

/** A table with a limit whose every slot is free: each ask is granted at once. */
function freeTable(steps: string[]): SlotTable {
  return {
    limit: async () => ({ limit: 2, perAgent: {} }),
    enter: async () => {
      steps.push('asked for a slot');
      return { granted: true, token: 1 };
    },
    release: async () => true,
  } as unknown as SlotTable;
}

describe('AgentSlots.take', () => {
  it('adopts the agents of dead managers before it asks for a slot: the slot free now may be theirs, their lease just run out', async () => {
    const steps: string[] = [];
    const slots = new AgentSlots(freeTable(steps), 4000, 10, async () => void steps.push('looked around'));
    const lease = await slots.take({ holder: 'session-1', agent: 'CodeGenAgent', pipeline: null });
    expect(lease?.token).toBe(1);
    expect(steps).toEqual(['looked around', 'asked for a slot']);
  });

  it('takes a slot without looking around when the store has no limit', async () => {
    const steps: string[] = [];
    const table = { ...freeTable(steps), limit: async () => null } as unknown as SlotTable;
    const slots = new AgentSlots(table, 4000, 10, async () => void steps.push('looked around'));
    expect((await slots.take({ holder: 'session-1', agent: 'CodeGenAgent', pipeline: null }))?.token).toBeNull();
    expect(steps).toEqual([]);
  });
});
