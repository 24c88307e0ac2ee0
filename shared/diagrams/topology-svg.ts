// The topology (shared/topology) as a picture: exchanges, queues and the services that consume them,
// with every binding, alternate exchange, retry and dead-letter path, drawn from the data and laid
// out by ELK's layered algorithm (elkjs): it places the nodes, routes the edges around them and
// finds room for every edge label. Nothing here is placed by hand: change the topology and the
// picture follows.
import ElkBundle from 'elkjs/lib/elk.bundled.js';
import type { ELK as ElkApi, ELKConstructorArguments, ElkExtendedEdge, ElkNode } from 'elkjs/lib/elk-api.js';
import { buildTopology } from '../topology/topology.ts';
import type { Topology } from '../topology/types.ts';
import { escapeXml, LABEL_FONT, svgDocument, textBlock, textWidth } from './svg.ts';

type Kind = 'exchange' | 'queue' | 'service';

export interface TopologyNode {
  id: string;
  kind: Kind;
  label: string;
  detail: string;
}

export interface TopologyEdge {
  from: string;
  to: string;
  /** One line per routing pattern or note; empty for none. */
  lines: string[];
  style: 'edge' | 'alt' | 'dead';
}

export interface TopologyPictureOptions {
  /**
   * For the dashboard, which writes each queue's live numbers into its box: the boxes say so until
   * the first numbers come, and are wide enough for them.
   */
  liveQueues?: boolean;
}

/** What the dashboard writes into a queue's box, at its widest: the box makes room for it. */
export const LIVE_QUEUE_DETAIL = { placeholder: 'ready – · unacked – · cons –', widest: 'ready 0000 · unacked 0000 · cons 00' };

/** The graph the picture shows: a node per exchange, queue and consuming service, an edge per path a message can take. */
export function topologyGraph(topology: Topology, options: TopologyPictureOptions = {}): { nodes: TopologyNode[]; edges: TopologyEdge[] } {
  const nodes: TopologyNode[] = [];
  const edges: TopologyEdge[] = [];
  for (const e of topology.exchanges) nodes.push({ id: e.name, kind: 'exchange', label: e.name, detail: `${e.type} exchange` });
  const services: TopologyNode[] = [];
  for (const q of topology.queues) {
    const args = [q.maxPriority ? `prio ≤ ${q.maxPriority}` : '', q.messageTtlMs ? `TTL ${q.messageTtlMs} ms` : '']
      .filter(Boolean)
      .join(' · ');
    nodes.push({ id: q.name, kind: 'queue', label: q.name, detail: options.liveQueues ? LIVE_QUEUE_DETAIL.placeholder : args || 'queue' });
    if (q.consumer) {
      const service = `service:${q.consumer}`;
      if (!services.some((s) => s.id === service)) services.push({ id: service, kind: 'service', label: q.consumer, detail: 'service' });
      edges.push({ from: q.name, to: service, lines: [], style: 'edge' });
    }
  }
  // A stream (AUDIT_STREAM=on): drawn as a queue that says it is a stream, fed by its exchange, read by its service.
  for (const s of topology.streams ?? []) {
    nodes.push({ id: s.name, kind: 'queue', label: s.name, detail: `stream · keeps ${s.retention.maxAge}` });
    edges.push({ from: s.source, to: s.name, lines: [], style: 'edge' });
    const service = `service:${s.consumer}`;
    if (!services.some((n) => n.id === service)) services.push({ id: service, kind: 'service', label: s.consumer, detail: 'service' });
    edges.push({ from: s.name, to: service, lines: ['from its offset'], style: 'edge' });
  }
  nodes.push(...services);
  const grouped = new Map<string, string[]>();
  for (const b of topology.bindings) {
    const key = `${b.source}\u0000${b.destination}`;
    grouped.set(key, [...(grouped.get(key) ?? []), b.pattern]);
  }
  for (const [key, patterns] of grouped) {
    const [from, to] = key.split('\u0000') as [string, string];
    // A retry queue's binding key is the name of the queue it returns messages to: its dotted edge says it already.
    const returnsTo = topology.queues.find((q) => q.name === to)?.deadLetterTo;
    const redundant = returnsTo?.exchange === '' && patterns.every((p) => p === returnsTo.routingKey);
    edges.push({ from, to, lines: redundant ? [] : patterns.filter(Boolean), style: 'edge' });
  }
  for (const e of topology.exchanges)
    if (e.alternateExchange) edges.push({ from: e.name, to: e.alternateExchange, lines: ['unroutable'], style: 'alt' });
  const retryExchange = topology.exchanges.find((e) => e.type === 'direct')?.name;
  for (const q of topology.queues) {
    // A retrying queue rejects a failed message to the retry exchange (layer 6 sets its arguments).
    if (q.failure.kind === 'retry' && retryExchange) edges.push({ from: q.name, to: retryExchange, lines: ['on failure'], style: 'dead' });
    // A retry queue dead-letters through the default exchange straight back to its queue. A queue
    // with a TTL says so in its box, so its dead-letter edge needs no label.
    if (q.deadLetterTo)
      edges.push({
        from: q.name,
        to: q.deadLetterTo.exchange === '' ? (q.deadLetterTo.routingKey ?? q.name) : q.deadLetterTo.exchange,
        lines: q.messageTtlMs ? [] : ['dead-letter'],
        style: 'dead',
      });
  }
  return { nodes, edges };
}

/**
 * Which band of columns a node belongs in, from its role: exchanges that messages enter first (0),
 * exchanges fed by an exchange and retry queues (1), the other queues (2), the services (3). ELK
 * places every node and edge; this only keeps the bands in the order a message travels.
 */
function columnOf(node: TopologyNode, edges: TopologyEdge[], nodes: TopologyNode[]): number {
  const kindOf = (id: string) => nodes.find((n) => n.id === id)?.kind;
  if (node.kind === 'service') return 3;
  if (node.kind === 'exchange') return edges.some((e) => e.to === node.id && e.style !== 'dead' && kindOf(e.from) === 'exchange') ? 1 : 0;
  return edges.some((e) => e.from === node.id && e.style === 'dead' && kindOf(e.to) === 'queue') ? 1 : 2;
}

const NODE_PADDING_X = 8;
const NODE_H = 40;
const LABEL_SIZE = LABEL_FONT.edge;

export interface PlacedTopology {
  width: number;
  height: number;
  nodes: Array<TopologyNode & { x: number; y: number; width: number; height: number }>;
  edges: Array<TopologyEdge & { points: Array<{ x: number; y: number }>; label?: { x: number; y: number; width: number; height: number } }>;
}

// elkjs is CommonJS: its module.exports is the constructor its types call the default export.
const ELK = ElkBundle as unknown as new (args?: ELKConstructorArguments) => ElkApi;
const elk = new ELK();

/** Positions for every node, edge and label, from ELK's layered layout, left to right. */
export async function layoutTopology(topology: Topology = buildTopology(), options: TopologyPictureOptions = {}): Promise<PlacedTopology> {
  const { nodes, edges } = topologyGraph(topology, options);
  const widestDetail = (n: TopologyNode) => (options.liveQueues && n.kind === 'queue' ? LIVE_QUEUE_DETAIL.widest : n.detail);
  const labelLineHeight = Math.ceil(LABEL_SIZE * 1.25);
  const graph: ElkNode = {
    id: 'topology',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'RIGHT',
      'elk.edgeRouting': 'ORTHOGONAL',
      'elk.partitioning.activate': 'true',
      'elk.layered.nodePlacement.strategy': 'NETWORK_SIMPLEX',
      'elk.layered.spacing.nodeNodeBetweenLayers': '20',
      'elk.layered.spacing.edgeNodeBetweenLayers': '10',
      'elk.layered.spacing.edgeEdgeBetweenLayers': '8',
      'elk.spacing.nodeNode': '14',
      'elk.spacing.edgeNode': '10',
      'elk.spacing.edgeEdge': '8',
      'elk.spacing.edgeLabel': '3',
      'elk.spacing.labelNode': '6',
      'elk.spacing.labelLabel': '4',
      'elk.edgeLabels.placement': 'CENTER',
      'elk.padding': '[top=8,left=8,bottom=8,right=8]',
    },
    children: nodes.map((n) => ({
      id: n.id,
      layoutOptions: { 'elk.partitioning.partition': String(columnOf(n, edges, nodes)) },
      width: Math.ceil(Math.max(textWidth(n.label, LABEL_FONT.node), textWidth(widestDetail(n), LABEL_FONT.detail)) + 2 * NODE_PADDING_X),
      height: NODE_H,
    })),
    edges: edges.map((e, i): ElkExtendedEdge => ({
      id: `e${i}`,
      sources: [e.from],
      targets: [e.to],
      labels: e.lines.length
        ? [
            {
              text: e.lines.join('\n'),
              width: Math.ceil(Math.max(...e.lines.map((l) => textWidth(l, LABEL_SIZE))) + 4),
              height: e.lines.length * labelLineHeight + 2,
            },
          ]
        : [],
    })),
  };
  const laid = await elk.layout(graph);
  const placedNodes = nodes.map((n) => {
    const child = laid.children?.find((c: ElkNode) => c.id === n.id) as ElkNode;
    return { ...n, x: child.x ?? 0, y: child.y ?? 0, width: child.width ?? 0, height: child.height ?? 0 };
  });
  const placedEdges = edges.map((e, i) => {
    const edge = laid.edges?.find((l: ElkExtendedEdge) => l.id === `e${i}`) as ElkExtendedEdge;
    const section = edge.sections?.[0];
    const points = section ? [section.startPoint, ...(section.bendPoints ?? []), section.endPoint] : [];
    const label = edge.labels?.[0];
    return {
      ...e,
      points,
      label: label ? { x: label.x ?? 0, y: label.y ?? 0, width: label.width ?? 0, height: label.height ?? 0 } : undefined,
    };
  });
  return { width: Math.ceil(laid.width ?? 0), height: Math.ceil(laid.height ?? 0), nodes: placedNodes, edges: placedEdges };
}

const LEGEND = [
  'solid: a binding, with its patterns',
  'orange dashed: the alternate exchange (unroutable messages)',
  'red dotted: retry and dead-letter paths (on failure, or a TTL)',
];

export async function topologySvg(topology: Topology = buildTopology(), options: TopologyPictureOptions = {}): Promise<string> {
  const placed = await layoutTopology(topology, options);
  const legendTop = placed.height + 4;
  const lineHeight = Math.ceil(LABEL_FONT.legend * 1.4);
  const height = legendTop + LEGEND.length * lineHeight + 8;
  const width = Math.max(placed.width, ...LEGEND.map((l) => Math.ceil(textWidth(l, LABEL_FONT.legend)) + 16));
  const body: string[] = [];
  for (const edge of placed.edges) {
    if (edge.points.length < 2) continue;
    const d = edge.points.map((p, i) => `${i === 0 ? 'M' : 'L'}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ');
    body.push(
      `<path d="${d}" class="edge ${edge.style}" marker-end="url(#arrow-${edge.style})"><title>${escapeXml(`${edge.from} → ${edge.to.replace(/^service:/, '')}${edge.lines.length ? ` (${edge.lines.join(', ')})` : ''}`)}</title></path>`,
    );
  }
  for (const edge of placed.edges) {
    if (!edge.label) continue;
    const { x, y, width: w, height: h } = edge.label;
    body.push(
      `<g class="edge-label-box"><rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${w}" height="${h}" class="label-bg"/>${textBlock(x + 2, y + 1, edge.lines, LABEL_SIZE, edge.style === 'edge' ? 'edge-label' : `edge-label ${edge.style}`)}</g>`,
    );
  }
  for (const node of placed.nodes) {
    const rx = node.kind === 'exchange' ? node.height / 2 : 4;
    body.push(
      `<g class="node ${node.kind}" data-name="${escapeXml(node.id)}"><rect x="${node.x}" y="${node.y}" width="${node.width}" height="${node.height}" rx="${rx}"/>`,
    );
    body.push(textBlock(node.x + node.width / 2, node.y + 3, [node.label], LABEL_FONT.node, 'node-label', 'middle'));
    body.push(
      textBlock(node.x + node.width / 2, node.y + 3 + LABEL_FONT.node * 1.3, [node.detail], LABEL_FONT.detail, 'node-detail', 'middle'),
      '</g>',
    );
  }
  LEGEND.forEach((line, i) => body.push(textBlock(8, legendTop + i * lineHeight, [line], LABEL_FONT.legend, 'legend')));
  return svgDocument(width, height, 'The order system topology: exchanges, queues, bindings, dead-letter and retry paths', body);
}
