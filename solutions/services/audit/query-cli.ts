// `npm run audit -- [orderId]`: prints the audit log (one order's events, or the latest 50).
import path from 'node:path';
import Database from 'better-sqlite3';
import { CliError, defineCli, parseOrExit, runMain } from '../../../shared/cli/args.ts';
import { readEnv } from '../../../shared/config.ts';
import { AuditStore } from './audit-store.ts';

const LATEST = 50;

const AUDIT_CLI = defineCli({
  command: 'npm run audit',
  synopsis: ['npm run audit [-- <orderId>]'],
  summary: `Prints the audit log kept by the audit service (DATA_DIR/audit.sqlite): every event of one order,
in order, or without an order id the latest ${LATEST} events.`,
  positionals: { name: '<orderId>', description: 'the order whose events to print', max: 1 },
});

const orderId = parseOrExit(AUDIT_CLI).positionals[0];

function main(): void {
  const file = path.join(readEnv().DATA_DIR, 'audit.sqlite');
  let db: Database.Database;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
  } catch (error) {
    throw new CliError(`No audit log at ${file} yet: start the system (npm start) and place an order first.`, { cause: error });
  }
  try {
    const store = new AuditStore(db);
    const entries = orderId ? store.forOrder(orderId) : store.latest(LATEST);
    if (entries.length === 0) console.log(orderId ? `No events for order ${orderId}.` : 'The audit log is empty.');
    for (const entry of entries)
      console.log(`${entry.occurredAt}  ${entry.type.padEnd(22)} order ${entry.orderId}  from ${entry.source}  (${entry.messageId})`);
  } finally {
    db.close();
  }
}

// No audit log yet: exit 1; a bug: 4 (shared/cli/errors.ts).
await runMain(main);
