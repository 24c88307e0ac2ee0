// Known-wrong processOnce, each a whole function a learner writes: the check, the work and the
// record not in one transaction, or the wrong answer returned.
import type { Mutant } from '../../../mutant.ts';
import { processing } from './consumer.ts';

export const processOnceMutants: Mutant<'acks'>[] = [
  {
    name: 'processOnce without the check: a repeated message is applied again',
    breaks: ['05.process-once'],
    layer: processing((store, messageId, apply) =>
      store.transaction(() => {
        apply();
        store.record(messageId);
        return true;
      }),
    ),
  },
  {
    name: 'processOnce returns whether the message was a duplicate (true for the repeat)',
    breaks: ['05.process-once'],
    layer: processing((store, messageId, apply) =>
      store.transaction(() => {
        if (store.has(messageId)) return true;
        apply();
        store.record(messageId);
        return false;
      }),
    ),
  },
  {
    name: 'processOnce always returns true',
    breaks: ['05.process-once'],
    layer: processing((store, messageId, apply) => {
      store.transaction(() => {
        if (store.has(messageId)) return;
        apply();
        store.record(messageId);
      });
      return true;
    }),
  },
  {
    name: 'processOnce checks and records outside the transaction of the work',
    breaks: ['05.process-once-atomic'],
    layer: processing((store, messageId, apply) => {
      if (store.has(messageId)) return false;
      store.transaction(apply);
      store.record(messageId);
      return true;
    }),
  },
  {
    name: 'processOnce looks the id up before opening the transaction of the work and the record',
    breaks: ['05.process-once-atomic'],
    layer: processing((store, messageId, apply) => {
      if (store.has(messageId)) return false;
      return store.transaction(() => {
        apply();
        store.record(messageId);
        return true;
      });
    }),
  },
  {
    name: "processOnce catches the work's error and returns false",
    breaks: ['05.process-once-atomic'],
    layer: processing((store, messageId, apply) =>
      store.transaction(() => {
        if (store.has(messageId)) return false;
        try {
          apply();
        } catch {
          return false;
        }
        store.record(messageId);
        return true;
      }),
    ),
  },
  {
    name: 'processOnce records the id in a transaction of its own, after the work',
    breaks: ['05.process-once-atomic'],
    layer: processing((store, messageId, apply) => {
      const fresh = store.transaction(() => {
        if (store.has(messageId)) return false;
        apply();
        return true;
      });
      if (fresh) store.transaction(() => store.record(messageId));
      return fresh;
    }),
  },
  {
    name: 'processOnce without a transaction',
    breaks: ['05.process-once-atomic'],
    layer: processing((store, messageId, apply) => {
      if (store.has(messageId)) return false;
      apply();
      store.record(messageId);
      return true;
    }),
  },
];
