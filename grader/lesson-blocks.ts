// The generated parts of a lesson (milestones/NN-slug/README.md): "Your tasks" and "How you are
// graded" live between markers, written by `npm run docs:lessons` (scripts/lesson-doc.ts) and read
// back by `npm run milestone -- N`, so the terminal and the lesson say the same thing.
export const BLOCKS = ['tasks', 'grading'] as const;
export type BlockName = (typeof BLOCKS)[number];
export type LessonParts = Record<BlockName, string>;

const open = (name: BlockName) => `<!-- generated:${name} -->`;
const close = (name: BlockName) => `<!-- /generated:${name} -->`;

/** The text between a block's markers, or undefined when the lesson does not have them. */
export function generatedBlock(readme: string, name: BlockName): string | undefined {
  const start = readme.indexOf(open(name));
  const end = readme.indexOf(close(name));
  if (start < 0 || end < start) return undefined;
  return readme
    .slice(start + open(name).length, end)
    .replace(/^\n/, '')
    .replace(/\n$/, '');
}

/** Whether the lesson has the markers of both generated blocks. */
export const hasBlocks = (readme: string) => BLOCKS.every((name) => generatedBlock(readme, name) !== undefined);

/** The lesson with its blocks replaced by `parts`; throws when a block's markers are missing. */
export function withParts(readme: string, parts: LessonParts, where = 'the lesson'): string {
  let text = readme;
  for (const name of BLOCKS) {
    const start = text.indexOf(open(name));
    const end = text.indexOf(close(name));
    if (start < 0 || end < start) throw new Error(`${where} has no ${open(name)} … ${close(name)} block`);
    text = `${text.slice(0, start + open(name).length)}\n${parts[name]}\n${text.slice(end)}`;
  }
  return text;
}
