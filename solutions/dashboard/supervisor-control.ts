// Service control for the dashboard when `npm start` runs it: requests go to the supervisor over
// the IPC channel it opened, and it tells us whenever a service's state changes.
import type { ServiceName } from '../../shared/messages/events.ts';
import type { ServiceControl } from './server.ts';

type States = ReturnType<ServiceControl['states']>;

export type ControlRequest = { type: 'service-control'; id: number; action: 'stop' | 'start'; service: ServiceName };
export type ControlMessage = { type: 'service-control-result'; id: number; error?: string } | { type: 'service-states'; states: States };

export function supervisorControl(): ServiceControl {
  let states: States = {};
  let nextId = 0;
  const pending = new Map<number, { resolve(): void; reject(error: Error): void }>();
  const listeners: Array<() => void> = [];
  process.on('message', (message: ControlMessage) => {
    if (message.type === 'service-states') {
      states = message.states;
      for (const listener of listeners) listener();
    } else if (message.type === 'service-control-result') {
      const waiting = pending.get(message.id);
      pending.delete(message.id);
      if (message.error) waiting?.reject(new Error(message.error));
      else waiting?.resolve();
    }
  });
  const ask = (action: 'stop' | 'start', service: ServiceName) =>
    new Promise<void>((resolve, reject) => {
      const id = ++nextId;
      pending.set(id, { resolve, reject });
      const request: ControlRequest = { type: 'service-control', id, action, service };
      process.send?.(request);
    });
  return {
    states: () => states,
    stop: (service) => ask('stop', service),
    start: (service) => ask('start', service),
    onChange: (listener) => listeners.push(listener),
  };
}
