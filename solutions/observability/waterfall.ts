// One trace as a waterfall of hops, as text: each span on a line, indented under its parent, with
// what its work published (`→ inventory.reserved`), its start offset, a bar on a common time scale,
// and its duration. What `npm run trace` prints.
import { publishedEvents, type StoredSpan } from './span-store.ts';

const BAR_WIDTH = 32;

interface Node {
  span: StoredSpan;
  children: Node[];
}

function forest(spans: StoredSpan[]): Node[] {
  const nodes = new Map(spans.map((span) => [span.spanId, { span, children: [] as Node[] }]));
  const roots: Node[] = [];
  for (const node of nodes.values()) {
    const parent = node.span.parentSpanId ? nodes.get(node.span.parentSpanId) : undefined;
    (parent ? parent.children : roots).push(node);
  }
  const byStart = (a: Node, b: Node) => a.span.startUs - b.span.startUs;
  for (const node of nodes.values()) node.children.sort(byStart);
  return roots.sort(byStart);
}

function ms(us: number): string {
  const value = us / 1000;
  return value < 10 ? `${value.toFixed(1)} ms` : `${Math.round(value)} ms`;
}

/** The trace as lines; spans from several services' files, in any order. */
export function renderWaterfall(spans: StoredSpan[]): string[] {
  if (spans.length === 0) return [];
  const start = Math.min(...spans.map((s) => s.startUs));
  const end = Math.max(...spans.map((s) => s.startUs + s.durationUs));
  const total = Math.max(1, end - start);
  const services = Math.max(...spans.map((s) => s.service.length));
  // Indented under its parent, listed by start time: reading down is reading forward in time.
  const rows: { span: StoredSpan; depth: number }[] = [];
  const walk = (node: Node, depth: number) => {
    rows.push({ span: node.span, depth });
    for (const child of node.children) walk(child, depth + 1);
  };
  for (const root of forest(spans)) walk(root, 0);
  rows.sort((a, b) => a.span.startUs - b.span.startUs);
  const labels = rows.map(({ span, depth }) => {
    const published = publishedEvents(span);
    return `${'· '.repeat(depth)}${span.name}${published.length > 0 ? ` → ${published.join(', ')}` : ''}`;
  });
  const labelWidth = Math.max(48, ...labels.map((label) => label.length));
  const lines = rows.map(({ span }, index) => {
    const from = Math.min(BAR_WIDTH - 1, Math.floor(((span.startUs - start) / total) * BAR_WIDTH));
    const width = Math.max(1, Math.round((span.durationUs / total) * BAR_WIDTH));
    const bar = `${' '.repeat(from)}${'█'.repeat(Math.min(width, BAR_WIDTH - from))}`.padEnd(BAR_WIDTH);
    const failed = span.status === 'ok' ? '' : `  ✗ ${span.status.replace(/^error: /, '')}`;
    return `${ms(span.startUs - start).padStart(9)}  ${span.service.padEnd(services)}  ${labels[index]!.padEnd(labelWidth)} |${bar}| ${ms(span.durationUs)}${failed}`;
  });
  return lines;
}
