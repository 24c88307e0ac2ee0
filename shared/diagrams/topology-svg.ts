// The topology (shared/topology) as a picture: exchanges, queues and the services that consume them,
// with every binding, alternate exchange, retry and dead-letter path, drawn from the data and laid
// out by ELK's layered algorithm (elkjs): it places the nodes, routes the edges around them and
// finds room for every edge label. Nothing here is placed by hand: change the topology and the
// picture follows. One rule keeps it narrow enough to read at a projector's width: the second hop of
// a chain of exchanges is stacked under the first (see stackedExchanges).
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
    // A headers binding matches on its arguments, one line each (x-match first): they are its pattern.
    const rule = b.arguments ? Object.entries(b.arguments).map(([name, value]) => `${name}: ${JSON.stringify(value)}`) : [b.pattern];
    grouped.set(key, [...(grouped.get(key) ?? []), ...rule]);
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

/**
 * The second hop of a chain of exchanges (an exchange bound only from an exchange that is itself fed
 * by an exchange, like the headers exchange behind the notification fanout) is drawn under the
 * exchange that feeds it, joined by a short arrow, instead of in a column of its own: every column
 * costs the whole picture its width, and the picture must stay readable at a projector's width.
 * Returns lower → upper.
 */
export function stackedExchanges(nodes: TopologyNode[], edges: TopologyEdge[]): Map<string, string> {
  const kindOf = (id: string) => nodes.find((n) => n.id === id)?.kind;
  const fedByExchange = (id: string) => edges.filter((e) => e.to === id && e.style === 'edge' && kindOf(e.from) === 'exchange');
  const stacked = new Map<string, string>();
  for (const node of nodes) {
    if (node.kind !== 'exchange') continue;
    const feeds = edges.filter((e) => e.to === node.id && e.style === 'edge');
    const upper = feeds.length === 1 ? (feeds[0] as TopologyEdge).from : undefined;
    if (!upper || kindOf(upper) !== 'exchange' || fedByExchange(upper).length === 0) continue;
    if (stacked.has(upper) || [...stacked.values()].includes(upper)) continue;
    stacked.set(node.id, upper);
  }
  return stacked;
}

/** The room between two stacked boxes: the arrow, and its binding's label lines beside it. */
const stackGap = (lines: number) => Math.max(26, lines * Math.ceil(LABEL_SIZE * 1.25) + 10);

/** Positions for every node, edge and label, from ELK's layered layout, left to right. */
export async function layoutTopology(topology: Topology = buildTopology(), options: TopologyPictureOptions = {}): Promise<PlacedTopology> {
  const { nodes, edges } = topologyGraph(topology, options);
  const widestDetail = (n: TopologyNode) => (options.liveQueues && n.kind === 'queue' ? LIVE_QUEUE_DETAIL.widest : n.detail);
  const labelLineHeight = Math.ceil(LABEL_SIZE * 1.25);
  const boxWidth = (n: TopologyNode) =>
    Math.ceil(Math.max(textWidth(n.label, LABEL_FONT.node), textWidth(widestDetail(n), LABEL_FONT.detail)) + 2 * NODE_PADDING_X);
  const stacked = stackedExchanges(nodes, edges);
  const lowerOf = new Map([...stacked].map(([lower, upper]) => [upper, lower]));
  const joining = (e: TopologyEdge) => stacked.get(e.to) === e.from;
  // A stack is one ELK node holding both boxes (as wide as the wider), each box with a port in (west) and out (east).
  const stackOf = (id: string) => (stacked.has(id) ? (stacked.get(id) as string) : lowerOf.has(id) ? id : undefined);
  const stackBoxes = (upper: string) => {
    const lower = lowerOf.get(upper) as string;
    const width = Math.max(...[upper, lower].map((id) => boxWidth(nodes.find((n) => n.id === id) as TopologyNode)));
    const join = edges.find((e) => e.from === upper && e.to === lower) as TopologyEdge;
    const gap = stackGap(join.lines.length);
    // The lower box's one binding onward keeps its label under the box, in the stack, rather than in a column of its own.
    const onward = edges.filter((e) => e.from === lower);
    const under = onward.length === 1 && onward[0]?.lines.length ? onward[0] : undefined;
    const underHeight = under ? under.lines.length * labelLineHeight + 2 : 0;
    const underWidth = under ? Math.ceil(Math.max(...under.lines.map((l) => textWidth(l, LABEL_SIZE))) + 4) : 0;
    return {
      lower,
      under,
      underHeight,
      underWidth,
      width: Math.max(width, underWidth + 2 * NODE_PADDING_X),
      gap,
      height: 2 * NODE_H + gap + (under ? underHeight + 6 : 0),
      top: { [upper]: 0, [lower]: NODE_H + gap } as Record<string, number>,
    };
  };
  const isUnder = (e: TopologyEdge) => lowerOf.has(stacked.get(e.from) ?? '') && stackBoxes(stacked.get(e.from) as string).under === e;
  const endpoint = (id: string, end: 'in' | 'out') => (stackOf(id) ? `${id}:${end}` : id);
  const graph: ElkNode = {
    id: 'topology',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'RIGHT',
      'elk.edgeRouting': 'ORTHOGONAL',
      'elk.partitioning.activate': 'true',
      'elk.layered.nodePlacement.strategy': 'NETWORK_SIMPLEX',
      'elk.layered.spacing.nodeNodeBetweenLayers': '16',
      'elk.layered.spacing.edgeNodeBetweenLayers': '8',
      'elk.layered.spacing.edgeEdgeBetweenLayers': '6',
      'elk.spacing.nodeNode': '14',
      'elk.spacing.edgeNode': '10',
      'elk.spacing.edgeEdge': '8',
      'elk.spacing.edgeLabel': '3',
      'elk.spacing.labelNode': '6',
      'elk.spacing.labelLabel': '4',
      'elk.edgeLabels.placement': 'CENTER',
      'elk.padding': '[top=8,left=8,bottom=8,right=8]',
    },
    children: nodes
      .filter((n) => !stacked.has(n.id))
      .map((n): ElkNode => {
        const partition = { 'elk.partitioning.partition': String(columnOf(n, edges, nodes)) };
        if (!lowerOf.has(n.id)) return { id: n.id, layoutOptions: partition, width: boxWidth(n), height: NODE_H };
        const stack = stackBoxes(n.id);
        return {
          id: n.id,
          layoutOptions: { ...partition, 'elk.portConstraints': 'FIXED_POS' },
          width: stack.width,
          height: stack.height,
          ports: [n.id, stack.lower].flatMap((id) => [
            {
              id: `${id}:in`,
              x: 0,
              y: (stack.top[id] as number) + NODE_H / 2,
              width: 0,
              height: 0,
              layoutOptions: { 'elk.port.side': 'WEST' },
            },
            {
              id: `${id}:out`,
              x: stack.width,
              y: (stack.top[id] as number) + NODE_H / 2,
              width: 0,
              height: 0,
              layoutOptions: { 'elk.port.side': 'EAST' },
            },
          ]),
        };
      }),
    edges: edges.flatMap((e, i): ElkExtendedEdge[] =>
      joining(e)
        ? []
        : [
            {
              id: `e${i}`,
              sources: [endpoint(e.from, 'out')],
              targets: [endpoint(e.to, 'in')],
              labels:
                e.lines.length && !isUnder(e)
                  ? [
                      {
                        text: e.lines.join('\n'),
                        width: Math.ceil(Math.max(...e.lines.map((l) => textWidth(l, LABEL_SIZE))) + 4),
                        height: e.lines.length * labelLineHeight + 2,
                      },
                    ]
                  : [],
            },
          ],
    ),
  };
  const laid = await elk.layout(graph);
  const child = (id: string) => laid.children?.find((c: ElkNode) => c.id === id) as ElkNode;
  const placedNodes = nodes.map((n) => {
    const upper = stacked.get(n.id) ?? n.id;
    const c = child(upper);
    if (!stackOf(n.id)) return { ...n, x: c.x ?? 0, y: c.y ?? 0, width: c.width ?? 0, height: c.height ?? 0 };
    const stack = stackBoxes(upper);
    return { ...n, x: c.x ?? 0, y: (c.y ?? 0) + (stack.top[n.id] as number), width: stack.width, height: NODE_H };
  });
  const placedEdges = edges.map((e, i) => {
    if (joining(e)) {
      // Straight down from the upper box to the lower, its label (if any) beside the arrow.
      const from = placedNodes.find((n) => n.id === e.from) as PlacedTopology['nodes'][number];
      const x = from.x + from.width / 2;
      const top = from.y + from.height;
      const gap = stackGap(e.lines.length);
      const width = Math.ceil(Math.max(0, ...e.lines.map((l) => textWidth(l, LABEL_SIZE))) + 4);
      return {
        ...e,
        points: [
          { x, y: top },
          { x, y: top + gap },
        ],
        label: e.lines.length
          ? { x: x + 6, y: top + (gap - e.lines.length * labelLineHeight - 2) / 2, width, height: e.lines.length * labelLineHeight + 2 }
          : undefined,
      };
    }
    const edge = laid.edges?.find((l: ElkExtendedEdge) => l.id === `e${i}`) as ElkExtendedEdge;
    if (isUnder(e)) {
      const from = placedNodes.find((n) => n.id === e.from) as PlacedTopology['nodes'][number];
      const { underWidth, underHeight } = stackBoxes(stacked.get(e.from) as string);
      edge.labels = [{ x: from.x + NODE_PADDING_X, y: from.y + from.height + 4, width: underWidth, height: underHeight }];
    }
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
  'solid: a binding, with its patterns or the headers it matches (under an exchange stacked below its feeder)',
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
