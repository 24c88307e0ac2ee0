// `npx tsx scripts/bench-load/count-fsyncs.ts [orders] [in flight]`: how many fsyncs one order costs
// the six services, counted by strace on an in-process system (all six services in this process)
// while orders go through one at a time (or several in flight); with SYSCALLS=all, every system call. Unlike a rate, a count does not depend on how busy the machine
// is, so two commits can be compared on a shared machine. Needs strace and a broker on 127.0.0.1.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { withVhost } from '../../shared/broker/broker-url.ts';
import { findBroker } from '../../shared/broker/find-broker.ts';
import { ManagementApi } from '../../shared/broker/management-api.ts';
import { silentLogger } from '../../shared/log.ts';
import { startSystem } from '../../solutions/system.ts';

const orders = Number(process.argv[2] ?? 20);
const inFlight = Number(process.argv[3] ?? 1);
const traced = process.env.SYSCALLS === 'all' ? [] : ['-e', 'trace=fsync,fdatasync'];
const broker = await findBroker({ log: silentLogger, mayStartContainer: false });
const api = new ManagementApi(broker.management);
const vhost = `count-fsyncs-${process.pid}`;
await api.createVhost(vhost);
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'count-fsyncs-'));
const system = await startSystem({
  brokerUrl: withVhost(broker.url, vhost),
  dataDir,
  config: { deliveryDelayMs: 0 },
  logFor: () => silentLogger,
});

async function completeOrder(orderId: string): Promise<void> {
  const placed = await fetch(`${system.baseUrl}/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ orderId, user: 'bench', items: ['item1'] }),
  });
  if (placed.status >= 300) throw new Error(`POST /orders answered ${placed.status}`);
  for (;;) {
    const { status } = (await (await fetch(`${system.baseUrl}/orders/${orderId}`)).json()) as { status: string };
    if (status === 'completed') return;
    if (status === 'rejected' || status === 'failed') throw new Error(`order ${orderId} ${status}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

try {
  for (let i = 0; i < 3; i++) await completeOrder(`warm-${i}`);
  await new Promise((resolve) => setTimeout(resolve, 1500)); // the warm-up's outbox deletes and spans
  const strace = spawn('strace', ['-f', '-c', ...traced, '-p', String(process.pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let report = '';
  strace.stderr.on('data', (chunk: Buffer) => (report += chunk.toString()));
  await new Promise((resolve) => setTimeout(resolve, 1000)); // attached
  let next = 0;
  const client = async () => {
    while (next < orders) await completeOrder(`counted-${next++}`);
  };
  await Promise.all(Array.from({ length: inFlight }, client));
  await new Promise((resolve) => setTimeout(resolve, 1500)); // the last outbox deletes
  strace.kill('SIGINT');
  await new Promise((resolve) => strace.once('exit', resolve));
  const calls = [...report.matchAll(/^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(fsync|fdatasync)$/gm)].reduce(
    (sum, match) => sum + Number(match[1]),
    0,
  );
  process.stdout.write(`${JSON.stringify({ orders, inFlight, fsyncs: calls, perOrder: calls / orders })}\n${report}`);
} finally {
  await system.stop();
  await api.deleteVhost(vhost);
  fs.rmSync(dataDir, { recursive: true, force: true });
}
