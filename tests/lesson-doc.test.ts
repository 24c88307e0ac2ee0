// The lesson generator (scripts/lesson-doc.ts) reads a starter's 🐨 comments as tasks and a
// contract's clauses; these tests pin how it reads them, on small made-up files.
import { describe, expect, it } from 'vitest';
import { generatedBlock, withParts } from '../grader/lesson-blocks.ts';
import { clausesNamedIn, contractClauses, starterTasks } from '../scripts/lesson-doc.ts';

const STARTER = `import { todo } from './exercise.ts';

// 🐨 Describe one queue (meets clause 4).
const Shape = z.object({});

export const layer = {
  async send(channel, { timeoutMs }) {
    // 🐨 The message arrives once,
    //    even after a restart: clauses 1 and 2.
    // Given: not a task line.
    const helper = (x) => x;
    return {
      async call(queue) {
        // 🐨 Each reply finds its call (clauses 2, 3 and 5).
        return todo(import.meta.url, 'call');
      },
    };
  },
};

// 💰 A tip about the function below.
function park(message: string): void {
  // 🐨 Parks it (clause 6).
}
`;

describe('starterTasks', () => {
  it('groups the 🐨 and 💰 comments by the outermost named function, joining continued lines', () => {
    expect(starterTasks('starter.ts', STARTER)).toEqual([
      { name: 'Shape', signature: 'Shape', clauses: [4], lines: [{ marker: '🐨', text: 'Describe one queue (meets clause 4).' }] },
      {
        name: 'send',
        signature: 'send(channel, { timeoutMs })',
        clauses: [1, 2, 3, 5],
        lines: [
          { marker: '🐨', text: 'The message arrives once, even after a restart: clauses 1 and 2.' },
          { marker: '🐨', text: 'Each reply finds its call (clauses 2, 3 and 5).', inner: 'call' },
        ],
      },
      {
        name: 'park',
        signature: 'park(message)',
        clauses: [6],
        lines: [
          { marker: '💰', text: 'A tip about the function below.' },
          { marker: '🐨', text: 'Parks it (clause 6).' },
        ],
      },
    ]);
  });

  it('refuses a 🐨 comment outside any named function', () => {
    expect(() => starterTasks('starter.ts', 'export default {\n  x: 1,\n};\n// 🐨 Orphan.\n')).toThrow(/in no named function/);
  });
});

describe('the contract and the blocks', () => {
  it('reads the clause numbers a comment names', () => {
    expect(clausesNamedIn('meets clause 3; see clauses 1, 2, and 6, not section 9')).toEqual([1, 2, 3, 6]);
    expect(clausesNamedIn('no pointer here')).toEqual([]);
  });

  it('reads the numbered clauses of the contract and the checks each names', () => {
    const readme =
      '# M\n\n## The contract\n\n1. A — checked by `03.a`.\n2. B, over\n   two lines — checked by `03.b` and `03.c`.\n\n## Your tasks\n\n1. not a clause\n';
    expect(contractClauses(readme)).toEqual([
      { number: 1, checks: ['03.a'] },
      { number: 2, checks: ['03.b', '03.c'] },
    ]);
  });

  it('replaces what is between the markers, and only that', () => {
    const readme =
      'intro\n<!-- generated:tasks -->\nold\n<!-- /generated:tasks -->\nmiddle\n<!-- generated:grading -->\n<!-- /generated:grading -->\nend\n';
    const updated = withParts(readme, { tasks: 'new tasks', grading: 'new grading' });
    expect(updated).toBe(
      'intro\n<!-- generated:tasks -->\nnew tasks\n<!-- /generated:tasks -->\nmiddle\n<!-- generated:grading -->\nnew grading\n<!-- /generated:grading -->\nend\n',
    );
    expect(generatedBlock(updated, 'grading')).toBe('new grading');
    expect(() => withParts('no markers', { tasks: '', grading: '' })).toThrow(/no <!-- generated:tasks -->/);
  });
});
