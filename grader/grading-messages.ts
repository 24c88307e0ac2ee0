// The messages between `npm run grade` (grading-process.ts) and its grading child (grading-worker.ts):
// the request the parent sends, the learner's answers it relays, and what the child reports back.
import type { WireError } from '../shared/cli/errors.ts';
import type { CheckResult, MilestoneResult, Target } from './runner.ts';

export interface WorkerRequest {
  milestone: number;
  target: Target;
  skip: string[];
  /** A yes or no decided here, or 'ask': the child asks this process, which has the terminal (restart-question). */
  sharedRestart: { kind: 'granted' } | { kind: 'ask' } | { kind: 'refused'; why: string };
  /** The broker the parent found and checked: the child uses it as is (a child started before it was found has no RABBITMQ_URL). */
  broker?: { url: string; managementUrl: string };
}

/** What the parent sends the child after the request: the learner's answer to a restart-question. */
export type ParentMessage = { type: 'restart-answer'; yes: boolean };

export type WorkerResult = Omit<MilestoneResult, 'milestone'>;

export type WorkerMessage =
  | { type: 'heartbeat' }
  | { type: 'checks'; checks: CheckName[] }
  /** What the graded code printed, and the check it printed it in (none: while its file loaded); `dropped` lines past the limit. */
  | { type: 'output'; id?: string; text: string; dropped?: number }
  | { type: 'check-start'; id: string }
  | { type: 'check'; result: CheckResult }
  | { type: 'announce'; message: string }
  | { type: 'restart-question'; question: string }
  | { type: 'late'; message: string }
  | { type: 'done'; result: WorkerResult }
  /** Grading could not start or went wrong as a whole: whose fault it is travels as its kind, never its class's name. */
  | { type: 'error'; error: WireError };

export type CheckName = { id: string; name: string; hint: string };
