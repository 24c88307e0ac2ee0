// Milestone 7: request and reply (RPC) over RabbitMQ. The order service asks the payment service
// "has order X been paid?" and waits for the answer, or gives up after a timeout.
// Read README.md in this folder first. Run `npm run milestone -- 7` to watch it work,
// `npm run grade -- 7` to check it, `npm run hint -- 7` when you are stuck.
import { randomUUID } from 'node:crypto';
import type { Channel, ConsumeMessage } from 'amqplib';
import { todo } from '../../shared/workshop/exercise.ts';
import type { ConsumerHandle } from '../../shared/layers/05-acks-prefetch.ts';
import { type RpcClient, type RpcHandler, type RpcLayer, RpcTimeoutError } from '../../shared/layers/07-rpc.ts';
import { describeError } from '../../shared/log.ts';

// The wire format both sides agree on (README § Errors travel back as replies).
const JSON_CONTENT_TYPE = 'application/json';
const ERROR_HEADER = 'x-rpc-error';

async function createClient(channel: Channel, { timeoutMs }: { timeoutMs: number }): Promise<RpcClient> {
  // 🐨 One place for this client's replies, listened to for all its calls, where each reply finds
  //    its own call and a reply for nobody does no harm: clauses 2, 3 and 7.
  return {
    async call(queue, request) {
      // 🐨 One question asked, then answered or given up on, leaving nothing behind: clauses 1, 4,
      //    5, 6 and 12.
      return todo(import.meta.url, 'call');
    },
    async close() {
      // 🐨 The end of the client, on the broker and in this process: clause 8.
    },
  };
}

async function serve(channel: Channel, queue: string, handler: RpcHandler): Promise<ConsumerHandle> {
  const inFlight = new Set<Promise<void>>();
  // 🐨 Every request on `queue` answered to whoever asked, and none lost if the server dies at any
  //    point: clauses 9, 10, 11 and 12.
  // 💰 For stop(), given below: put the promise of each request's handling (one that never rejects)
  //    in inFlight, and take it out when it settles.
  const consumerTag: string = todo(import.meta.url, 'serve');
  const stop = async () => {
    await channel.cancel(consumerTag).catch(() => {}); // a closed channel has no consumer left
    await Promise.all(inFlight);
  };
  return { consumerTag, inFlight: () => inFlight.size, stop };
}

export const rpc: RpcLayer = { createClient, serve };
