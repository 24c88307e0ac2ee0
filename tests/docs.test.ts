// The docs must tell the truth: the topology tables and the lessons' generated parts (Your tasks,
// How you are graded) are derived from the code, and these tests fail when someone changes the code
// without regenerating them (npm run docs:topology, npm run docs:lessons).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MILESTONES, milestone } from '../grader/manifest.ts';
import { BLOCKS, generatedBlock, hasBlocks } from '../grader/lesson-blocks.ts';
import { contractClauses, lessonFile, lessonParts } from '../scripts/lesson-doc.ts';
import { renderTopologyDoc } from '../scripts/topology-doc.ts';
import { AUDITED_PATTERNS, NOTIFIED_PATTERNS } from '../shared/topology/topology.ts';

const read = (file: string) => readFileSync(new URL(`../${file}`, import.meta.url), 'utf8');

describe('docs/topology.md', () => {
  it('matches shared/topology/topology.ts (run `npm run docs:topology` after changing the topology)', () => {
    expect(read('docs/topology.md')).toBe(renderTopologyDoc());
  });
});

describe.each(MILESTONES.map((m) => [lessonFile(m), m] as const))('%s', (file, m) => {
  it.skipIf(!hasBlocks(read(file)))(
    'has its generated parts up to date (run `npm run docs:lessons` after changing the starter, the contract or the checks)',
    async () => {
      const readme = read(file);
      const parts = await lessonParts(m, readme);
      for (const name of BLOCKS) expect(generatedBlock(readme, name), `the ${name} block of ${file}`).toBe(parts[name]);
    },
  );
});

describe('the lesson of milestone 3', () => {
  it('names, in its contract, exactly the families the topology audits and notifies', () => {
    const readme = read(lessonFile(milestone(3)));
    const contract = /^## The contract\n([\s\S]*?)(?=^## )/m.exec(readme)?.[1] ?? '';
    const named = new Set([...contract.matchAll(/`([a-z_]+\.\*)`/g)].map((match) => match[1]));
    expect([...named].sort()).toEqual([...new Set([...AUDITED_PATTERNS, ...NOTIFIED_PATTERNS])].sort());
    expect(contractClauses(readme).length).toBeGreaterThan(0);
  });
});
