// Results for machines, in the shape of Exercism's test runner results.json (version 3): a
// top-level status and message, and per check its name, status, message and task id, in order.
import type { MilestoneResult, Status } from '../runner.ts';
import { milestoneVerdict } from '../verdict.ts';

export interface ResultsJson {
  version: 3;
  status: Status;
  message?: string;
  tests: Array<{ name: string; status: Status; message?: string; task_id: number; test_code: string }>;
}

const MAX_MESSAGE = 2000;

export function toResultsJson(results: MilestoneResult[]): ResultsJson {
  // The milestones' verdicts, put together by the same rule as a milestone's checks' (verdict.ts).
  const { status } = milestoneVerdict({ checks: results });
  const errors = results.flatMap((r) => [
    ...(r.error ? [r.error] : []),
    ...(r.late ?? []).map((line) => `milestone ${r.milestone.number}: your code threw after its check had ended: ${line}`),
    ...(r.typeErrors ?? []).map((line) => `milestone ${r.milestone.number}: type error: ${line}`),
  ]);
  return {
    version: 3,
    status,
    ...(errors.length > 0 ? { message: errors.join('\n').slice(0, MAX_MESSAGE) } : {}),
    tests: results.flatMap((r) =>
      r.checks.map((check) => ({
        name: check.name,
        status: check.status,
        ...(check.status === 'pass'
          ? {}
          : {
              message: (check.expected !== undefined
                ? `expected ${check.expected}; saw ${check.seen}\nhint: ${check.hint}`
                : `${check.message ?? ''}\nhint: ${check.hint}`
              ).slice(0, MAX_MESSAGE),
            }),
        task_id: r.milestone.number,
        test_code: check.id,
      })),
    ),
  };
}
