// The topology picture's one placement rule of its own (shared/diagrams/topology-svg.ts): the second
// hop of a chain of exchanges is stacked under the exchange that feeds it, so the chain adds no
// column and the picture stays narrow enough for 12 px labels at 1280 px (the docs site's browser
// test measures that on the page). Without a browser: positions from the layout.
import { describe, expect, it } from 'vitest';
import { layoutTopology, stackedExchanges, topologyGraph } from '../shared/diagrams/topology-svg.ts';
import { buildTopology } from '../shared/topology/topology.ts';

describe('the topology diagram', () => {
  it('stacks only the headers exchange, under the notification fanout that feeds it', () => {
    const { nodes, edges } = topologyGraph(buildTopology());
    expect([...stackedExchanges(nodes, edges)]).toEqual([['notification.sms.exchange', 'notification.exchange']]);
  });

  it('draws it below its feeder with an arrow straight down, its binding headers under it, clear of every other box', async () => {
    const placed = await layoutTopology();
    const box = (id: string) => placed.nodes.find((n) => n.id === id) as (typeof placed.nodes)[number];
    const upper = box('notification.exchange');
    const lower = box('notification.sms.exchange');
    expect(lower.x).toBe(upper.x);
    expect(lower.y).toBeGreaterThan(upper.y + upper.height);
    const join = placed.edges.find((e) => e.from === upper.id && e.to === lower.id);
    expect(join?.points).toEqual([
      { x: upper.x + upper.width / 2, y: upper.y + upper.height },
      { x: upper.x + upper.width / 2, y: lower.y },
    ]);
    const headers = placed.edges.find((e) => e.from === lower.id && e.to === 'notification.sms.queue');
    expect(headers?.lines).toEqual(['x-match: "all"', 'express: true', 'text-worthy: true']);
    const label = headers?.label;
    expect(label && label.y).toBeGreaterThanOrEqual(lower.y + lower.height);
    const overlaps = (a: { x: number; y: number; width: number; height: number }, b: typeof a) =>
      a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
    expect(placed.nodes.filter((n) => label && overlaps(label, n)).map((n) => n.id)).toEqual([]);
    for (const other of placed.nodes.filter((n) => n !== upper && n !== lower))
      expect(overlaps({ ...upper, height: lower.y + lower.height - upper.y }, other), other.id).toBe(false);
  });

  it('is narrow enough for 12 px labels in the docs column at 1280 px (about 940 px for 13 px text)', async () => {
    const placed = await layoutTopology();
    expect(placed.width * (12 / 13)).toBeLessThanOrEqual(940);
  });
});
