// Grading never restarts the learner's own broker without their yes. Where no throwaway node can
// start (here: a rabbitmq-server that does not exist, or one that fails at once), milestone 4's
// restart check is "could not check", saying how to allow it, and the shared broker is left alone:
// a connection opened on it before stays open (rabbitmqctl stop_app would close it). Only
// --restart-my-broker (or a yes on a terminal) chooses the learner's broker; nothing here restarts it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import amqp, { type ChannelModel } from 'amqplib';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { BrokerEndpoint } from '../../shared/broker/find-broker.ts';
import { commandExists } from '../../shared/broker/throwaway-node.ts';
import { useTestVhost } from '../../tests/support/vhost.ts';
import { BrokerControlUnavailableError, brokerControlFor, type SharedRestartConsent } from '../broker-control.ts';
import { CannotJudgeError } from '../check.ts';
import { sharedRestartConsent } from '../cli/grade.ts';
import { parseGradeCommandLine } from '../cli/shared.ts';
import type { ResultsJson } from '../report/json.ts';
import { runScript } from './cli-support.ts';

const NO_SUCH_SERVER = '/nonexistent/rabbitmq-server';
const rabbitmqctlHere = await commandExists('rabbitmqctl');

/** The shared broker as the grader sees it: found, not started by us, so nothing to restart it with. */
function sharedBroker(): BrokerEndpoint {
  return {
    url: inject('brokerUrl'),
    management: { baseUrl: inject('managementUrl'), username: inject('managementUser'), password: inject('managementPassword') },
    source: 'environment',
    stop: async () => {},
  };
}

let watcher: ChannelModel;
let watcherClosed: string | undefined;

// A connection to the shared broker, opened before any test: a restart would close it.
useTestVhost('broker-control', async ({ url }) => {
  watcher = await amqp.connect(url);
  watcher.on('error', () => {});
  watcher.on('close', (error?: Error) => (watcherClosed = error?.message ?? 'closed'));
});

// Registered after useTestVhost's hooks, so it runs before the vhost goes.
afterAll(async () => {
  await watcher?.close().catch(() => {});
});

/** The shared broker was not restarted: the connection opened before is still open and usable. */
async function expectSharedBrokerUntouched(): Promise<void> {
  expect(watcherClosed, 'a connection to the shared broker was closed: was it restarted?').toBeUndefined();
  const channel = await watcher.createChannel();
  await channel.close();
}

describe('milestone 4 without a throwaway node', () => {
  it('without a yes, the learner\'s broker is not chosen: "could not check", saying how to allow it', { timeout: 30_000 }, async () => {
    const refused: SharedRestartConsent = { kind: 'refused', why: 'there is no terminal to ask you on: CI, a pipe or --watch' };
    const control = brokerControlFor(sharedBroker(), { sharedRestart: refused, rabbitmqServer: NO_SUCH_SERVER });
    const failure = await control.acquireRestartable().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(BrokerControlUnavailableError);
    expect(failure).toBeInstanceOf(CannotJudgeError); // the runner's "error" verdict: could not check
    const message = (failure as Error).message;
    if (rabbitmqctlHere) {
      expect(message).toContain('rabbitmq-server is not installed');
      expect(message).toContain('there is no terminal to ask you on');
      expect(message).toContain('npm run grade -- 4 --restart-my-broker');
    }
    await expectSharedBrokerUntouched();
  });

  it(
    'a node that fails at once gets one more try, said on screen; then the learner is asked, and no means no',
    { timeout: 30_000, skip: !rabbitmqctlHere },
    async () => {
      const questions: string[] = [];
      const announced: string[] = [];
      const control = brokerControlFor(sharedBroker(), {
        // /bin/false: a rabbitmq-server that exists and fails at once, as a transient failure does.
        rabbitmqServer: '/bin/false',
        sharedRestart: { kind: 'ask', ask: async (question) => (questions.push(question), false) },
      });
      const failure = await control.acquireRestartable({ announce: (message) => announced.push(message) }).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(announced.filter((line) => line.includes('trying once more'))).toHaveLength(1);
      expect(questions).toHaveLength(1);
      const host = new URL(inject('brokerUrl')).hostname;
      expect(questions[0]).toContain(
        `Milestone 4 wants to restart your RabbitMQ at ${host} (stop_app/start_app; durable queues and persistent messages are kept). Restart it? [y/N]`,
      );
      expect(failure).toBeInstanceOf(BrokerControlUnavailableError);
      expect((failure as Error).message).toContain('you answered no');
      expect((failure as Error).message).toContain('--restart-my-broker');
      await expectSharedBrokerUntouched();
    },
  );

  it(
    "with --restart-my-broker, the learner's broker is the one chosen (not restarted here)",
    { timeout: 30_000, skip: !rabbitmqctlHere },
    async () => {
      const args = parseGradeCommandLine(['4', '--restart-my-broker']);
      expect(args).toMatchObject({ which: 4, restartMyBroker: true });
      const control = brokerControlFor(sharedBroker(), { sharedRestart: sharedRestartConsent(args), rabbitmqServer: NO_SUCH_SERVER });
      const chosen = await control.acquireRestartable();
      expect(chosen.url).toBe(inject('brokerUrl'));
      expect(chosen.description).toContain('your local RabbitMQ broker');
      expect(chosen.description).toContain('--restart-my-broker allows it');
      await chosen.release(); // never chosen.restart(): other tests run on this broker
      await expectSharedBrokerUntouched();
    },
  );

  it('without the flag and without a terminal (CI, this test run), nobody may say yes', () => {
    expect(parseGradeCommandLine(['4'])).not.toHaveProperty('restartMyBroker');
    expect(sharedRestartConsent(parseGradeCommandLine(['4']))).toMatchObject({ kind: 'refused' });
    expect(sharedRestartConsent({}, { stdin: true, stdout: false })).toMatchObject({ kind: 'refused' });
    expect(sharedRestartConsent({}, { stdin: false, stdout: true })).toMatchObject({ kind: 'refused' });
    expect(sharedRestartConsent({ restartMyBroker: true }, { stdin: false, stdout: false })).toEqual({ kind: 'granted' });
  });
});

describe('npm run grade -- 4, as CI runs it, where no throwaway node can start', () => {
  it(
    '04.survives-restart is "could not check" with how to allow a restart, the other checks are graded, and the shared broker stays up',
    { timeout: 150_000 },
    async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'workshop-broker-control-'));
      const json = path.join(dir, 'results.json');
      // No terminal (runScript's stdin is closed): nobody is asked.
      const { code, output } = await runScript('grader/cli/grade.ts', ['4', '--target', 'solutions', '--json', json], {
        env: {
          RABBITMQ_URL: inject('brokerUrl'),
          RABBITMQ_MANAGEMENT_URL: inject('managementUrl'),
          WORKSHOP_PROGRESS_DIR: path.join(dir, '.progress'),
          GRADER_RABBITMQ_SERVER: NO_SUCH_SERVER,
        },
        timeoutMs: 140_000,
      });
      const results = JSON.parse(fs.readFileSync(json, 'utf8')) as ResultsJson;
      const restart = results.tests.find((test) => test.name.includes('survive a broker restart'));
      expect(restart?.status, output).toBe('error');
      expect(restart?.message).toContain('npm run grade -- 4 --restart-my-broker');
      expect(
        results.tests.filter((test) => test !== restart).every((test) => test.status === 'pass'),
        output,
      ).toBe(true);
      expect(results.status).toBe('error');
      expect(output).toContain('Could not check');
      expect(output).not.toContain('restarting your local RabbitMQ broker');
      expect(code).not.toBe(0);
      await expectSharedBrokerUntouched();
    },
  );
});
