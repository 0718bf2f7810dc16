import { describe, expect, it } from 'vitest';
import { concurrencySection, queuedStepsSection } from '../../src/server/concurrency-section.js';
import type { SlotEntry } from '../../src/domain/slot-table.js';
import { HOSTILE } from '../helpers/dashboard.js';

/* A PostgreSQL slot row's agent is whatever was written to it: the pages show it as text. */
describe('the concurrency sections of the dashboard', () => {
  const entry = (holder: string, token: number | null, pipeline: string | null): SlotEntry => ({ holder, agent: `Agent${HOSTILE}`, pipeline, keeper: 'vm/1/-', order: 1, token, leaseMs: 1000, leaseUntil: 2000, since: 0 });

  it('escape what a slot row holds, on the overview and on a pipeline page', () => {
    const view = { limit: { limit: 1, perAgent: { DeployAgent: 1 } }, running: [entry('h1', 3, null)], queue: [entry('h2', null, 'root')], now: 1000 };
    for (const html of [concurrencySection(view), queuedStepsSection(view, 'root')]) {
      expect(html).not.toContain('<script>');
      expect(html).not.toContain('<img');
      expect(html).toContain('Agent&lt;script&gt;alert(1)&lt;/script&gt;');
    }
    expect(queuedStepsSection(view, 'root')).toContain('place 1 of 1');
    expect(queuedStepsSection(view, 'other')).toBe('');
    expect(concurrencySection({ limit: null, running: [], queue: [], now: 0 })).toBe('');
  });
});
