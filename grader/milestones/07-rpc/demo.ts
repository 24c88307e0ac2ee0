// Milestone 7 demo: your server answers payment-status questions, your client asks three at once,
// sends one the server cannot answer, and asks a queue nobody serves (a timeout).
import { RpcTimeoutError } from '../../../shared/layers/07-rpc.ts';
import { describeError } from '../../../shared/log.ts';
import type { DemoContext } from '../../demo-context.ts';

const PAYMENTS: Record<string, { status: string; amount: number }> = {
  '123': { status: 'paid', amount: 2400 },
  '124': { status: 'declined', amount: 990 },
};

export async function runDemo({ layers, connect, log }: DemoContext): Promise<void> {
  const connection = await connect();
  const setup = await connection.createChannel();
  const { queue } = await setup.assertQueue('demo.payment.rpc.queue', { exclusive: true });
  const { queue: nobody } = await setup.assertQueue('demo.nobody.rpc.queue', { exclusive: true });

  const server = log.child('payment');
  await layers.rpc.serve(await connection.createChannel(), queue, async (request) => {
    const { orderId } = request as { orderId?: string };
    if (typeof orderId !== 'string') throw new Error('a payment status request needs an orderId');
    await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 80)); // a database lookup
    server.info(`answering for order ${orderId}`);
    return { orderId, ...(PAYMENTS[orderId] ?? { status: 'unknown' }) };
  });
  log.info(`the payment server consumes ${queue}`);

  const client = await layers.rpc.createClient(await connection.createChannel(), { timeoutMs: 1000 });
  log.info('the client is ready (its reply queue is up to your layer); timeout 1000 ms');

  const ask = async (target: string, request: unknown) => {
    const started = Date.now();
    log.info(`asking ${target}: ${JSON.stringify(request)}`);
    try {
      const reply = await client.call(target, request);
      log.info(`reply to ${JSON.stringify(request)} after ${Date.now() - started} ms: ${JSON.stringify(reply)}`);
    } catch (error) {
      const kind = error instanceof RpcTimeoutError ? 'timed out' : 'failed';
      log.info(`call ${JSON.stringify(request)} ${kind} after ${Date.now() - started} ms: ${describeError(error)}`);
    }
  };

  log.info('three calls at once: the replies come back in any order, each to its own caller');
  await Promise.all([ask(queue, { orderId: '123' }), ask(queue, { orderId: '124' }), ask(queue, { orderId: '999' })]);
  log.info('a request the handler cannot answer: the error travels back as a rejected call');
  await ask(queue, { order: 'typo' });
  log.info(`a queue nobody serves: the call gives up after its timeout, and the request expires with it`);
  await ask(nobody, { orderId: '123' });
  await client.close();
}
