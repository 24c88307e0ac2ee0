// 08.refusals: an API that says no (404, 401) makes the layer reject with an error that says so,
// and an API that never answers makes it give up in time.
import { type Check, expectThat } from '../../check.ts';
import { againstSilence, fake, GIVE_UP_GRACE_MS, GIVE_UP_MS, refusal, sampled } from './layer-calls.ts';

const ZEROS_HINT = 'A refusal must reject: answering zeros or [] makes a typo in a name look like an empty, healthy queue.';

/** The error `what` rejected with says `meaning` (matches `says`). */
function expectClear(what: string, error: string, says: RegExp, meaning: string): void {
  expectThat(
    says.test(error),
    `${what} to reject with an error that says ${meaning}`,
    `an error that does not: ${error.slice(0, 200)}`,
    'Check response.ok (or the status) before parsing the body, and put the status in the error you throw.',
  );
}

/** `call` rejects, with an error that says `meaning`. */
async function expectRefusal(what: string, call: () => Promise<unknown>, says: RegExp, meaning: string): Promise<void> {
  expectClear(what, await refusal(what, call, meaning, ZEROS_HINT), says, meaning);
}

export const refusals: Check<'monitoring'> = {
  id: '08.refusals',
  name: 'when the management API refuses (unknown queue or vhost, wrong password), the error says so',
  hint: "Look at the status before the body: throw an Error naming the status (404, 401) and what was asked. Don't answer zeros: a queue that does not exist is not an empty queue.",
  // An API that never answers is waited for up to GIVE_UP_MS and the grace, alongside the refusals.
  timeoutMs: GIVE_UP_MS + GIVE_UP_GRACE_MS + 1500,
  async run(context) {
    const api = await fake(context);
    api.setQueues('shop', [sampled('order.queue', { ready: 1, unacked: 0, consumers: 0 })]);
    api.silence('hung');
    const silent = [
      againstSilence("queueStats('order.queue')", () => context.layer.queueStats(api.target('hung'), 'order.queue')),
      againstSilence('listQueueStats()', () => context.layer.listQueueStats(api.target('hung'))),
    ];
    for (const call of silent) call.catch(() => {}); // awaited below, unless a refusal fails the check first
    await expectRefusal(
      "queueStats('no-such.queue')",
      () => context.layer.queueStats(api.target('shop'), 'no-such.queue'),
      /404|not.?found/i,
      'the queue was not found (404)',
    );
    await expectRefusal(
      'listQueueStats() on a vhost that does not exist',
      () => context.layer.listQueueStats(api.target('no-such-vhost')),
      /404|not.?found/i,
      'it was not found (404)',
    );
    await expectRefusal(
      'queueStats(order.queue) with a wrong password',
      () => context.layer.queueStats(api.target('shop', { password: 'not-the-password' }), 'order.queue'),
      /401|unauthori[sz]ed|not.?authori[sz]ed|login|credentials|password/i,
      'it was not authorised (401)',
    );

    const hung = (await Promise.all(silent)).filter((wrongly): wrongly is string => wrongly !== undefined);
    expectThat(
      hung.length === 0,
      `queueStats and listQueueStats to give up within ${GIVE_UP_MS / 1000} s and reject when the API never answers`,
      () => hung.join('; '),
      'A request that gets no answer waits as long as the server keeps the connection open: give each request a deadline of its own.',
    );
  },
};
