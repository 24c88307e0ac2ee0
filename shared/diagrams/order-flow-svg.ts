// One order's happy path as a sequence diagram: a lifeline per service, a row per event, an arrow
// from the publisher to every service whose queue is bound to it (shared/topology), and the copies
// the audit log and notifications get through their fanout exchanges.
import type { EventType, ServiceName } from '../messages/events.ts';
import { SERVICE_NAMES } from '../messages/events.ts';
import { AUDITED_PATTERNS, NOTIFIED_PATTERNS, SUBSCRIPTIONS } from '../topology/topology.ts';
import { escapeXml, LABEL_FONT, svgDocument, text, textWidth } from './svg.ts';
import { topicMatches } from '../topology/topic-match.ts';

/** Who publishes what, in the order it happens for an order that completes. */
const HAPPY_PATH: Array<{ from: ServiceName; event: EventType; note?: string }> = [
  { from: 'order', event: 'order.created', note: 'POST /orders' },
  { from: 'inventory', event: 'inventory.reserved' },
  { from: 'payment', event: 'payment.success' },
  { from: 'inventory', event: 'inventory.committed' },
  { from: 'order', event: 'order.paid' },
  { from: 'shipping', event: 'shipping.prepared' },
  { from: 'order', event: 'order.shipped' },
  { from: 'shipping', event: 'delivery.confirmed', note: 'after the delivery delay (TTL)' },
  { from: 'shipping', event: 'shipping.delivered' },
  { from: 'order', event: 'order.completed' },
];

function receivers(event: EventType): { direct: ServiceName[]; copies: ServiceName[] } {
  const direct = (Object.entries(SUBSCRIPTIONS) as Array<[ServiceName, EventType[]]>)
    .filter(([, types]) => types.includes(event))
    .map(([service]) => service);
  const copies: ServiceName[] = [];
  if (AUDITED_PATTERNS.some((p) => topicMatches(p, event))) copies.push('audit');
  if (NOTIFIED_PATTERNS.some((p) => topicMatches(p, event))) copies.push('notification');
  return { direct, copies };
}

export function orderFlowSvg(): string {
  const lanes = [...SERVICE_NAMES];
  const laneX = (service: ServiceName) => 90 + lanes.indexOf(service) * 150;
  const top = 50;
  const rowH = 44;
  const legend = ['black: the event to the services bound to it', 'grey dashed: the copies for the audit log and notifications'];
  const height = top + HAPPY_PATH.length * rowH + 16 + legend.length * 18;
  const width = laneX(lanes[lanes.length - 1] as ServiceName) + 90;
  const body: string[] = [];
  for (const service of lanes) {
    body.push(
      `<g class="node service"><rect x="${laneX(service) - 62}" y="8" width="124" height="28" rx="4"/>${text(laneX(service), 27, service, 'node-label')}</g>`,
    );
    body.push(`<line x1="${laneX(service)}" y1="36" x2="${laneX(service)}" y2="${top + HAPPY_PATH.length * rowH}" class="lifeline"/>`);
  }
  HAPPY_PATH.forEach((step, i) => {
    const y = top + i * rowH + 20;
    const { direct, copies } = receivers(step.event);
    const x1 = laneX(step.from);
    body.push(text(12, y + 4, `${i + 1}`, 'step', 'start'));
    for (const to of copies)
      body.push(
        `<path d="M${x1},${y + 6} L${laneX(to) + (laneX(to) > x1 ? -4 : 4)},${y + 6}" class="edge copy" marker-end="url(#arrow-copy)"/>`,
      );
    for (const to of direct) {
      // To itself (the delayed confirmation comes back to shipping): a small loop.
      const d =
        to === step.from
          ? `M${x1},${y - 8} C${x1 + 40},${y - 8} ${x1 + 40},${y + 2} ${x1 + 4},${y + 2}`
          : `M${x1},${y} L${laneX(to) + (laneX(to) > x1 ? -4 : 4)},${y}`;
      body.push(
        `<path d="${d}" class="edge flow" marker-end="url(#arrow-edge)"><title>${escapeXml(`${step.from} → ${to}: ${step.event}`)}</title></path>`,
      );
    }
    // Right of the publisher's lifeline where it fits, else left of it: never past the picture's edge.
    const label = `${step.event}${step.note ? ` (${step.note})` : ''}`;
    const start = x1 + (direct.includes(step.from) ? 46 : 6);
    const fitsRight = start + textWidth(label, LABEL_FONT.event) <= width - 8;
    body.push(text(fitsRight ? start : x1 - 6, y - 7, label, 'event-label', fitsRight ? 'start' : 'end'));
  });
  legend.forEach((line, i) => body.push(text(12, top + HAPPY_PATH.length * rowH + 20 + i * 18, line, 'legend', 'start')));
  return svgDocument(
    width,
    height,
    'One order, from POST /orders to order.completed: which service publishes each event and who receives it',
    body,
  );
}
