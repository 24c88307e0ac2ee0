// The topology (shared/topology) as a picture: exchanges, queues and the services that consume them
// in columns, left to right, with every binding, alternate exchange and dead-letter path drawn from
// the data. Nothing here is drawn by hand: change the topology and the picture follows.
import { buildTopology } from '../topology/topology.ts';
import type { Topology } from '../topology/types.ts';
import { escapeXml, svgDocument, text } from './svg.ts';

type Kind = 'exchange' | 'queue' | 'service';

interface Node {
  id: string;
  kind: Kind;
  label: string;
  detail: string;
  column: number;
  x: number;
  y: number;
}

interface Edge {
  from: string;
  to: string;
  label: string;
  style: 'edge' | 'alt' | 'dead';
}

const NODE_W = 200;
const NODE_H = 34;
const COLUMN_GAP = 120;
const ROW_GAP = 14;
const MARGIN = 24;

/** Columns: exchanges by how many exchange hops from a source they are, then queues, then consumers. */
function layout(topology: Topology): { nodes: Map<string, Node>; edges: Edge[] } {
  const edges: Edge[] = [];
  const grouped = new Map<string, string[]>();
  for (const b of topology.bindings) {
    const key = `${b.source}\u0000${b.destination}`;
    grouped.set(key, [...(grouped.get(key) ?? []), b.pattern]);
  }
  for (const [key, patterns] of grouped) {
    const [from, to] = key.split('\u0000') as [string, string];
    edges.push({ from, to, label: patterns.filter(Boolean).join(', '), style: 'edge' });
  }
  for (const e of topology.exchanges) if (e.alternateExchange) edges.push({ from: e.name, to: e.alternateExchange, label: 'alternate', style: 'alt' });
  const retryExchange = topology.exchanges.find((e) => e.type === 'direct')?.name;
  for (const q of topology.queues) {
    // A retrying queue rejects a failed message to the retry exchange (layer 6 sets its arguments).
    if (q.failure.kind === 'retry' && retryExchange) edges.push({ from: q.name, to: retryExchange, label: 'on failure', style: 'dead' });
    if (q.deadLetterTo) edges.push({ from: q.name, to: q.deadLetterTo.exchange === '' ? `default:${q.deadLetterTo.routingKey}` : q.deadLetterTo.exchange, label: q.messageTtlMs ? `after ${q.messageTtlMs} ms` : 'dead-letter', style: 'dead' });
  }

  // Exchange depth: 0 for exchanges no exchange feeds, +1 per exchange-to-exchange hop.
  const depth = new Map<string, number>(topology.exchanges.map((e) => [e.name, 0]));
  for (let pass = 0; pass < topology.exchanges.length; pass++) {
    for (const edge of edges) {
      if (edge.style === 'dead' || !depth.has(edge.from) || !depth.has(edge.to)) continue;
      depth.set(edge.to, Math.max(depth.get(edge.to) as number, (depth.get(edge.from) as number) + 1));
    }
  }
  const queueColumn = Math.max(...depth.values()) + 1;
  const nodes = new Map<string, Node>();
  const add = (id: string, kind: Kind, label: string, detail: string, column: number) => nodes.set(id, { id, kind, label, detail, column, x: 0, y: 0 });
  for (const e of topology.exchanges) add(e.name, 'exchange', e.name, e.type, depth.get(e.name) as number);
  for (const q of topology.queues) {
    const args = [q.maxPriority ? `priority ≤ ${q.maxPriority}` : '', q.messageTtlMs ? `TTL ${q.messageTtlMs} ms` : ''].filter(Boolean).join(' · ');
    add(q.name, 'queue', q.name, args || 'queue', queueColumn);
    if (q.consumer) {
      const service = `service:${q.consumer}`;
      if (!nodes.has(service)) add(service, 'service', q.consumer, 'service', queueColumn + 1);
      edges.push({ from: q.name, to: service, label: '', style: 'edge' });
    }
  }
  // A retry queue dead-letters through the default exchange straight back to its queue.
  for (const edge of edges) if (edge.to.startsWith('default:')) edge.to = edge.to.slice('default:'.length);

  // Rows: each column in the order of the mean row of what feeds it (one barycentre pass).
  const columns = [...new Set([...nodes.values()].map((n) => n.column))].sort((a, b) => a - b);
  const rowOf = new Map<string, number>();
  for (const column of columns) {
    const members = [...nodes.values()].filter((n) => n.column === column);
    const score = (node: Node) => {
      const feeders = edges.filter((e) => e.to === node.id && e.style !== 'dead' && rowOf.has(e.from)).map((e) => rowOf.get(e.from) as number);
      return feeders.length ? feeders.reduce((a, b) => a + b, 0) / feeders.length : Number.MAX_SAFE_INTEGER;
    };
    // The first column has no feeders: the busiest exchange first.
    const fanOut = (node: Node) => edges.filter((e) => e.from === node.id && e.style !== 'dead').length;
    members.sort((a, b) => (column === 0 ? fanOut(b) - fanOut(a) : score(a) - score(b)) || a.label.localeCompare(b.label));
    members.forEach((node, row) => {
      rowOf.set(node.id, row + (column === 0 ? 0 : 0.001 * row));
      node.x = MARGIN + column * (NODE_W + COLUMN_GAP);
      node.y = MARGIN + 20 + row * (NODE_H + ROW_GAP);
    });
  }
  return { nodes, edges };
}

export function topologySvg(topology: Topology = buildTopology()): string {
  const { nodes, edges } = layout(topology);
  const all = [...nodes.values()];
  const width = Math.max(...all.map((n) => n.x)) + NODE_W + MARGIN;
  const height = Math.max(...all.map((n) => n.y)) + NODE_H + MARGIN + 30;
  const body: string[] = [];
  for (const [column, title] of [[0, 'exchanges'], [Math.max(...all.filter((n) => n.kind === 'queue').map((n) => n.column)), 'queues'], [Math.max(...all.map((n) => n.column)), 'consumers']] as const) {
    body.push(text(MARGIN + column * (NODE_W + COLUMN_GAP) + NODE_W / 2, MARGIN, title, 'column-title'));
  }
  for (const edge of edges) {
    const from = nodes.get(edge.from);
    const to = nodes.get(edge.to);
    if (!from || !to) continue;
    const [x1, y1] = [from.x + NODE_W, from.y + NODE_H / 2];
    const backwards = to.x <= from.x;
    const [x2, y2] = [backwards ? to.x + NODE_W : to.x, to.y + NODE_H / 2];
    // Forward edges curve right; dead-letter paths back to the left loop out below the nodes' right side.
    const path = backwards
      ? `M${x1},${y1} C${x1 + 70},${y1} ${x2 + 70},${y2} ${x2 + 2},${y2}`
      : `M${x1},${y1} C${x1 + COLUMN_GAP / 2},${y1} ${x2 - COLUMN_GAP / 2},${y2} ${x2 - 2},${y2}`;
    body.push(`<path d="${path}" class="edge ${edge.style}" marker-end="url(#arrow-${edge.style})"><title>${escapeXml(`${edge.from} → ${edge.to}${edge.label ? ` (${edge.label})` : ''}`)}</title></path>`);
    if (edge.label && !backwards) body.push(text(x2 - 6, y2 - 5, edge.label.length > 34 ? `${edge.label.slice(0, 33)}…` : edge.label, `edge-label ${edge.style}`, 'end'));
  }
  for (const node of all) {
    const shape = node.kind === 'exchange' ? `<rect x="${node.x}" y="${node.y}" width="${NODE_W}" height="${NODE_H}" rx="17"` : `<rect x="${node.x}" y="${node.y}" width="${NODE_W}" height="${NODE_H}" rx="4"`;
    body.push(`<g class="node ${node.kind}" data-name="${escapeXml(node.id)}">${shape}/>`);
    body.push(text(node.x + NODE_W / 2, node.y + 15, node.label, 'node-label'));
    body.push(text(node.x + NODE_W / 2, node.y + 28, node.detail, 'node-detail'), '</g>');
  }
  body.push(text(MARGIN, height - 10, 'solid: binding (with its pattern) · dashed: alternate exchange · red dotted: dead-letter path (TTL expiry or rejection)', 'legend', 'start'));
  return svgDocument(width, height, 'The order system topology: exchanges, queues, bindings, dead-letter and retry paths', body);
}
