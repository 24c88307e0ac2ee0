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

// The wire format both sides agree on: JSON bodies; an error travels back as {"error": "<message>"}
// with the header ERROR_HEADER: true. See README § Errors travel back as replies.
const JSON_CONTENT_TYPE = 'application/json';
const ERROR_HEADER = 'x-rpc-error';

async function createClient(channel: Channel, { timeoutMs }: { timeoutMs: number }): Promise<RpcClient> {
  // 🐨 Give this client one place for its replies, private to it, and listen there once, for all
  //    its calls. See README § A return address and § One reply queue, many calls.
  // 🐨 Keep the calls still waiting so that each reply finds its own call, and a reply for nobody
  //    (a stranger's, a late one) changes nothing and throws nothing. See README § One reply queue, many calls.
  return {
    async call(queue, request) {
      // 🐨 Send the request as JSON with its return address and an id of its own; it must not wait in
      //    the queue longer than the caller does. Resolve with the parsed reply, reject with the
      //    remote error, or with RpcTimeoutError once timeoutMs have passed. However the call ends,
      //    nothing of it stays behind. See README § Timeouts, and requests that expire.
      return todo(import.meta.url, 'call');
    },
    async close() {
      // 🐨 The calls still waiting fail now, and the client leaves nothing behind on the broker or
      //    in this process. See README § Closing a client.
    },
  };
}

async function serve(channel: Channel, queue: string, handler: RpcHandler): Promise<ConsumerHandle> {
  const inFlight = new Set<Promise<void>>();
  // 🐨 Take the requests from `queue` so that a server that dies mid-request gives them back. For each
  //    one, answer where it asks to be answered, under its id: the handler's result, or its error.
  //    Settle every request once, in an order that loses none if the server dies at any point.
  //    See README § Errors travel back as replies and § Reply, then ack.
  //    Plumbing for stop(): put the promise of each request's handling (yours to write, and one that
  //    never rejects) in inFlight, and take it out when it settles.
  const consumerTag: string = todo(import.meta.url, 'serve');
  const stop = async () => {
    await channel.cancel(consumerTag).catch(() => {}); // a closed channel has no consumer left
    await Promise.all(inFlight);
  };
  return { consumerTag, inFlight: () => inFlight.size, stop };
}

export const rpc: RpcLayer = { createClient, serve };
