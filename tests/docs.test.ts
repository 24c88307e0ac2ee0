// The docs must tell the truth: the topology tables are generated from the data, and this test
// fails when someone changes the data without regenerating them (npm run docs:topology).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderTopologyDoc } from '../scripts/topology-doc.ts';

describe('docs/topology.md', () => {
  it('matches shared/topology/topology.ts (run `npm run docs:topology` after changing the topology)', () => {
    const onDisk = readFileSync(new URL('../docs/topology.md', import.meta.url), 'utf8');
    expect(onDisk).toBe(renderTopologyDoc());
  });
});
