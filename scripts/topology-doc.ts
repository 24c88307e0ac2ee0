// Renders the topology data (shared/topology/topology.ts) as Markdown tables for docs/topology.md.
// `npm run docs:topology` rewrites the file; a test fails when the file and the data disagree.
import { EVENT_TYPES, SERVICE_NAMES } from '../shared/messages/events.ts';
import { permissionsFor } from '../shared/topology/permissions.ts';
import { defineCli, parseOrExit } from '../shared/cli/args.ts';
import { buildTopology, DEFAULT_TOPOLOGY_SETTINGS, PUBLISHERS } from '../shared/topology/topology.ts';
import type { BindingSpec, QueueSpec } from '../shared/topology/types.ts';
import { referenceLayers } from '../solutions/layers/index.ts';

function queueArguments(spec: QueueSpec): string {
  const args = { ...referenceLayers.deadLetters.queueArguments(spec), ...referenceLayers.scaling.queueArguments(spec) };
  const shown = Object.entries(args).map(([key, value]) => `\`${key}: ${value === '' ? "''" : String(value)}\``);
  return shown.join('<br>') || '—';
}

/** What a binding matches: its pattern, its arguments (a headers exchange), or everything (a fanout). */
function bindingRule(binding: BindingSpec): string {
  const args = Object.entries(binding.arguments ?? {}).map(([key, value]) => `\`${key}: ${JSON.stringify(value)}\``);
  if (args.length > 0) return args.join('<br>');
  return binding.pattern ? `\`${binding.pattern}\`` : '(fanout)';
}

function failure(spec: QueueSpec): string {
  switch (spec.failure.kind) {
    case 'retry':
      return `retry every ${spec.failure.delayMs} ms, park after ${spec.failure.maxAttempts} attempts`;
    case 'park':
      return 'park at once';
    case 'none':
      return '—';
  }
}

/** The queue's type when QUEUE_TYPE=quorum (on a cluster), as the durability layer declares it. */
function typeOnCluster(name: string): string {
  const spec = buildTopology({ ...DEFAULT_TOPOLOGY_SETTINGS, queueType: 'quorum' }).queues.find((q) => q.name === name);
  if (!spec) throw new Error(`queue ${name} missing from the quorum topology`);
  return String(referenceLayers.durability.queueOptions(spec, 'quorum').arguments?.['x-queue-type']);
}

/** A service queue's arguments on RabbitMQ 4.3+ with QUEUE_TYPE=quorum: the broker's delayed retry in place of a retry queue. */
function delayedRetryArguments(): string {
  const spec = buildTopology({ ...DEFAULT_TOPOLOGY_SETTINGS, queueType: 'quorum', delayedRetry: true }).queues.find(
    (q) => q.failure.kind === 'retry',
  );
  if (!spec) throw new Error('no retrying queue in the quorum topology');
  return Object.entries(referenceLayers.deadLetters.queueArguments(spec))
    .filter(([key]) => key !== 'x-dead-letter-routing-key')
    .map(([key, value]) => `\`${key}: ${String(value)}\``)
    .join(', ');
}

/** The queues the topology leaves out when the audit log is a stream. */
function removedWithStream(): Set<string> {
  const withStream = new Set(buildTopology({ ...DEFAULT_TOPOLOGY_SETTINGS, auditStream: true }).queues.map((q) => q.name));
  return new Set(
    buildTopology(DEFAULT_TOPOLOGY_SETTINGS)
      .queues.map((q) => q.name)
      .filter((name) => !withStream.has(name)),
  );
}

export function renderTopologyDoc(): string {
  const topology = buildTopology(DEFAULT_TOPOLOGY_SETTINGS);
  const lines = [
    '# Topology',
    '',
    '<!-- Generated from shared/topology/topology.ts by `npm run docs:topology`. Do not edit by hand. -->',
    '',
    'Every exchange, queue and binding of the order system, with the default settings',
    `(retry delay ${DEFAULT_TOPOLOGY_SETTINGS.retryDelayMs} ms, ${DEFAULT_TOPOLOGY_SETTINGS.maxAttempts} attempts, notification TTL ${DEFAULT_TOPOLOGY_SETTINGS.notificationTtlMs} ms).`,
    'All exchanges and queues are durable. With `QUEUE_TYPE=quorum` (for a cluster) the replicated queues become',
    'quorum queues and the priority argument goes away (quorum queues on RabbitMQ 3.10 have no priorities).',
    'On RabbitMQ 4.3 and later they also retry in place: each service queue holds a failed message itself',
    `(${delayedRetryArguments()}), and the \`<queue>.retry\` queues and their bindings are not declared.`,
    'See [architecture.md](architecture.md) for how they fit together.',
    '',
    '<!-- diagram: topology -->',
    '',
    '## Exchanges',
    '',
    '| Exchange | Type | Alternate exchange | Purpose |',
    '| --- | --- | --- | --- |',
    ...topology.exchanges.map(
      (e) => `| \`${e.name}\` | ${e.type} | ${e.alternateExchange ? `\`${e.alternateExchange}\`` : '—'} | ${e.purpose} |`,
    ),
    '',
    '## Queues',
    '',
    '| Queue | Consumer | Arguments | On failure | Type with QUEUE_TYPE=quorum | Purpose |',
    '| --- | --- | --- | --- | --- | --- |',
    ...topology.queues.map(
      (q) => `| \`${q.name}\` | ${q.consumer ?? '—'} | ${queueArguments(q)} | ${failure(q)} | ${typeOnCluster(q.name)} | ${q.purpose} |`,
    ),
    '',
    '## Bindings',
    '',
    'A binding from a headers exchange matches on its arguments (the message headers, compared with their types), not on a key.',
    '',
    '| From exchange | To | Routing key / pattern, or arguments |',
    '| --- | --- | --- |',
    ...topology.bindings.map((b) => `| \`${b.source}\` | ${b.destinationKind} \`${b.destination}\` | ${bindingRule(b)} |`),
    '',
    '## Streams',
    '',
    'With `AUDIT_STREAM=on` (milestone 10; off by default, [why](architecture.md#the-audit-log-as-a-stream)) the audit log is a stream:',
    `${[...removedWithStream()].map((name) => `\`${name}\``).join(' and ')} and the bindings into them give way to`,
    'it, declared by every service with the stream layer and read by the audit service from the offset after the last it recorded.',
    '',
    '<!-- diagram: topology-audit-stream -->',
    '',
    '| Stream | Fed by | Reader | Retention (`x-max-length-bytes` / `x-max-age`) |',
    '| --- | --- | --- | --- |',
    ...(buildTopology({ ...DEFAULT_TOPOLOGY_SETTINGS, auditStream: true }).streams ?? []).map(
      (s) =>
        `| \`${s.name}\` | \`${s.source}\` | ${s.consumer} | ${s.retention.maxBytes} bytes / ${s.retention.maxAge} (the reference declares the size) |`,
    ),
    '',
    '## Publishers',
    '',
    'Who publishes each event type; a consumer under least privilege accepts it only from their broker users.',
    '',
    '| Event | Published by |',
    '| --- | --- |',
    ...EVENT_TYPES.map(
      (type) => `| \`${type}\` | ${PUBLISHERS[type].map((p) => (p.via ? `${p.service} (into \`${p.via}\`)` : p.service)).join(', ')} |`,
    ),
    '',
    '## Broker users',
    '',
    "Each service's rights when it logs in as its own user (`npm run broker:setup`; [why](architecture.md#least-privilege-on-the-broker)),",
    'derived from the data above by `shared/topology/permissions.ts`. Each cell is one anchored regular expression in RabbitMQ.',
    '',
    '| Service | configure | write | read | topic write on `order.exchange` | topic read on `order.exchange` |',
    '| --- | --- | --- | --- | --- | --- |',
    ...SERVICE_NAMES.map((service) => {
      const rights = permissionsFor(service, topology);
      const cell = (names: string[]) => (names.length === 0 ? '—' : names.map((name) => `\`${name.replace(/\\/g, '')}\``).join(', '));
      return `| ${service} | ${cell(rights.configure)} | ${cell(rights.write)} | ${cell(rights.read)} | ${cell(rights.topic.write)} | ${cell(rights.topic.read)} |`;
    }),
    '',
  ];
  return lines.join('\n');
}

const TOPOLOGY_DOC_CLI = defineCli({
  command: 'npm run docs:topology',
  synopsis: ['npm run docs:topology'],
  summary: 'Rewrites docs/topology.md from the topology data (shared/topology/topology.ts). npm test fails when they disagree.',
});

if (import.meta.url === `file://${process.argv[1]}`) {
  parseOrExit(TOPOLOGY_DOC_CLI);
  const { writeFileSync } = await import('node:fs');
  writeFileSync(new URL('../docs/topology.md', import.meta.url), renderTopologyDoc());
  console.log('wrote docs/topology.md');
}
