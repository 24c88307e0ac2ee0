// Reading what the services recorded, straight from their own databases (each service's store is
// the same class the service uses). Works on a running system's databases, or on the SQLite files
// of services running as separate processes.
import path from 'node:path';
import Database from 'better-sqlite3';
import type { ServiceName } from '../../../shared/messages/events.ts';
import type { ServiceDatabase } from '../../../solutions/runtime/database.ts';
import { AuditStore, type AuditEntry } from '../../../solutions/services/audit/audit-store.ts';
import { eventually } from '../../support/eventually.ts';

export type { AuditEntry };

/** The event types of an audit trail, in the order the audit service recorded them. */
export function typesOf(entries: AuditEntry[]): string[] {
  return entries.map((entry) => entry.type);
}

export function countOf(entries: AuditEntry[], type: string): number {
  return entries.filter((entry) => entry.type === type).length;
}

/** Waits until the audit trail of `orderId` holds every one of `types`, and returns the whole trail. */
export function waitForAudit(audit: AuditStore, orderId: string, types: string[], timeoutMs = 15_000): Promise<AuditEntry[]> {
  let last: AuditEntry[] = [];
  return eventually(
    () => {
      last = audit.forOrder(orderId);
      return types.every((type) => last.some((entry) => entry.type === type)) ? last : undefined;
    },
    { timeoutMs, what: `the audit log of order ${orderId} to hold ${types.join(', ')}` },
  ).catch((error: unknown) => {
    throw new Error(`${(error as Error).message} (it holds: ${typesOf(last).join(', ') || 'nothing'})`);
  });
}

/** Opens a service's database file read-only, as a second reader next to the running service. */
export function openServiceFile(dataDir: string, service: ServiceName): ServiceDatabase {
  return new Database(path.join(dataDir, `${service}.sqlite`), { readonly: true, fileMustExist: true });
}
