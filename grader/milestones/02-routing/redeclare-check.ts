// Milestone 2's check that declareRoutes is idempotent: declared again where the whole topology
// already exists, it succeeds and leaves every binding and exchange as it was.
import { ExerciseNotWrittenError } from '../../../shared/workshop/exercise.ts';
import { type Check, CheckFailure, expectThat } from '../../check.ts';
import { declareTopology } from '../../../solutions/runtime/declare-topology.ts';
import { asSpec, bindingsOf, compareBindings, describeDiff, isEmptyDiff } from '../../checks/bindings-support.ts';
import { exchangeInfos } from './exchange-info.ts';
import { openChannel, whyFailed } from './routing-support.ts';

export const redeclare: Check<'routing'> = {
  id: '02.redeclare',
  name: 'declaring the routes again, where the whole topology already exists, succeeds and changes nothing',
  hint: 'Every service declares the topology at every start: a declaration must describe each exchange exactly as it already is (README § Declaring is idempotent, with the same arguments).',
  async run(context) {
    // The broker as the running system leaves it: every queue, exchange and binding, declared by the reference layers.
    const channel = await openChannel(context);
    await declareTopology(channel, context.topology, context.reference, context.settings.queueType);
    const before = await bindingsOf(context);
    const exchangesBefore = await exchangeInfos(context);
    for (const attempt of ['first', 'second']) {
      // A refused declaration closes the channel: each attempt gets one of its own.
      const fresh = await openChannel(context);
      try {
        await context.layer.declareRoutes(fresh, context.topology, (spec) => context.reference.durability.exchangeOptions(spec));
      } catch (error) {
        if (error instanceof ExerciseNotWrittenError) throw error;
        const message = whyFailed(error);
        throw new CheckFailure(
          `the ${attempt} declareRoutes on a vhost where the system already declared everything to succeed`,
          `the broker refused it: ${message}`,
          /inequivalent arg/.test(message)
            ? 'An exchange that exists must be declared with the same type and the same options: the ones exchangeOptions(spec) gives.'
            : undefined,
        );
      }
    }
    const diff = compareBindings(await bindingsOf(context), before.map(asSpec), () => true);
    expectThat(
      isEmptyDiff(diff),
      'the bindings to be the same after declaring twice more',
      () => describeDiff(diff),
      diff.missing.length > 0
        ? 'Declaring adds what is missing and leaves the rest: deleting or unbinding first removes bindings that other layers made.'
        : undefined,
    );
    const exchangesAfter = await exchangeInfos(context);
    const changed = [...exchangesBefore.values()]
      .filter((info) => JSON.stringify(exchangesAfter.get(info.name)) !== JSON.stringify(info))
      .map((info) => info.name);
    expectThat(changed.length === 0, 'every exchange as it was', () => `changed: ${changed.join(', ')}`);
  },
};
