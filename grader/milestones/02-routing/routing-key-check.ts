// Milestone 2's check of routingKeyFor: each event is published under its type, express or not.
import { EVENT_TYPES } from '../../../shared/messages/events.ts';
import { type Check, expectThat } from '../../check.ts';
import { sampleEvent } from './routing-support.ts';

export const routingKey: Check<'routing'> = {
  id: '02.routing-key',
  name: 'routingKeyFor gives each event its type as the routing key, express orders included',
  hint: 'The bindings of SUBSCRIPTIONS match event types, word for word (README § Exchanges, bindings and routing keys).',
  async run({ layer }) {
    for (const express of [false, true]) {
      for (const type of EVENT_TYPES) {
        const key = layer.routingKeyFor(sampleEvent(type, express));
        expectThat(
          key === type,
          `routingKeyFor(${express ? 'an express ' : 'a '}${type} event) to be "${type}"`,
          `"${key}"`,
          express && key !== layer.routingKeyFor(sampleEvent(type))
            ? 'An express order is routed like any other: the bindings know only event types. Express orders overtake through priorities (milestone 9).'
            : undefined,
        );
      }
    }
  },
};
