// Known-wrong durability layers for milestone 4, and known-valid ones. The broker-restart check
// restarts for real only once per state it starts from, and fails before restarting when what would
// be lost already shows: a variant that only breaks publishing costs no restart.
import { durability as reference } from '../../../solutions/layers/04-durability.ts';
import { defineAlternatives, defineMutants } from '../../mutant.ts';
import { optionsMutants, confirmMutants } from './mutants/publishing.ts';
import { publishConfirmedWith } from './mutants/publisher.ts';
import { listenerPerPublish, returnMutants } from './mutants/returns.ts';

/** Known-wrong declarations: the reference's exchange or queue options with one thing wrong. */
const topologyMutants = defineMutants('durability', [
  {
    name: 'queues declared with durable: false',
    breaks: ['04.durable-topology', '04.survives-restart'],
    layer: { ...reference, queueOptions: (spec, queueType) => ({ ...reference.queueOptions(spec, queueType), durable: false }) },
  },
  {
    name: 'exchanges declared with durable: false',
    breaks: ['04.durable-topology', '04.survives-restart'],
    layer: { ...reference, exchangeOptions: (spec) => ({ ...reference.exchangeOptions(spec), durable: false }) },
  },
  {
    name: 'exchanges declared durable but auto-delete',
    breaks: ['04.durable-topology'],
    layer: { ...reference, exchangeOptions: (spec) => ({ ...reference.exchangeOptions(spec), autoDelete: true }) },
  },
  {
    name: 'the alternate exchange left out of the exchange arguments',
    breaks: ['04.durable-topology', '04.survives-restart'],
    layer: { ...reference, exchangeOptions: () => ({ durable: true, autoDelete: false }) },
  },
  {
    name: 'quorum for every queue when QUEUE_TYPE=quorum (priority queues and those not replicated too)',
    breaks: ['04.quorum'],
    layer: { ...reference, queueOptions: (_spec, queueType) => ({ durable: true, arguments: { 'x-queue-type': queueType } }) },
  },
  {
    name: 'quorum whenever QUEUE_TYPE=quorum and the queue has no priority, replicate ignored',
    breaks: ['04.quorum'],
    layer: {
      ...reference,
      queueOptions: (spec, queueType) => ({
        durable: true,
        arguments: { 'x-queue-type': queueType === 'quorum' && !spec.maxPriority ? 'quorum' : 'classic' },
      }),
    },
  },
  {
    name: 'quorum for every replicated queue when QUEUE_TYPE=quorum, priority queues too',
    breaks: ['04.quorum'],
    layer: {
      ...reference,
      queueOptions: (spec, queueType) => ({
        durable: true,
        arguments: { 'x-queue-type': queueType === 'quorum' && spec.replicate ? 'quorum' : 'classic' },
      }),
    },
  },
]);

export const mutants = defineMutants('durability', [...optionsMutants, ...topologyMutants, ...confirmMutants, ...returnMutants]);

export const alternatives = defineAlternatives('durability', [
  {
    name: "the starter's shape: a Set of returned ids per channel, no backpressure handling",
    layer: { ...reference, publishConfirmed: publishConfirmedWith({}) },
  },
  {
    name: "amqplib's alternateExchange option, classic queues by default (no x-queue-type), deliveryMode 2, a 'return' listener per publish removed at its confirm",
    layer: {
      exchangeOptions: (spec) => ({
        durable: true,
        autoDelete: false,
        ...(spec.alternateExchange ? { alternateExchange: spec.alternateExchange } : {}),
      }),
      queueOptions: (spec, queueType) =>
        queueType === 'quorum' && spec.replicate && spec.maxPriority === undefined
          ? { durable: true, arguments: { 'x-queue-type': 'quorum' } }
          : { durable: true },
      publishConfirmed: listenerPerPublish,
    },
  },
]);
