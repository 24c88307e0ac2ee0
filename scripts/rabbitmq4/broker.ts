// `npm run broker:4 [-- <command…>]`: a RabbitMQ 4.x node beside the machine's own broker, from
// Debian's packages, for trying and testing the workshop on the broker line learners install today.
// The first run builds a Debian unstable root holding rabbitmq-server (build-root.sh, about 3–4 min,
// cached outside the clone); every run starts a throwaway node in it (chroot) on spare ports, with
// the management and Prometheus plugins, and removes it on exit. With a command, the command runs
// against that node (RABBITMQ_URL, RABBITMQ_MANAGEMENT_URL, and RABBITMQ_SERVER_ROOT so that the
// nodes the tests and the grader start themselves are 4.x too) and its exit code is this one's.
// Needs root: debootstrap, mount and chroot do.
import { execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { rabbitmqInstall } from '../../shared/broker/rabbitmq-install.ts';
import { startThrowawayNode } from '../../shared/broker/throwaway-node.ts';
import { CliError, defineCli, runMain } from '../../shared/cli/args.ts';

const run = promisify(execFile);
const BUILD_ROOT = fileURLToPath(new URL('./build-root.sh', import.meta.url));

const BROKER4_CLI = defineCli({
  command: 'npm run broker:4',
  synopsis: ['npm run broker:4', 'npm run broker:4 -- <command> [args…]'],
  summary: `Starts a RabbitMQ 4.x node (Debian unstable's rabbitmq-server, in a root of its own, built once) on spare
ports beside the machine's broker, prints its addresses and keeps it until Ctrl-C; or runs <command> against it
and stops it after. Run as root.`,
  notes: 'Environment: RABBITMQ4_ROOT (where the root is built; default ~/.cache/rabbitmq-order-workshop/rabbitmq4-root).',
});

/** Builds the root when it is not there yet (the script says what it does on stderr) and returns its path. */
async function buildRoot(): Promise<string> {
  const env = { ...process.env, ...(process.env.RABBITMQ4_ROOT ? { ROOT: process.env.RABBITMQ4_ROOT } : {}) };
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [BUILD_ROOT], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0
        ? resolve(out.trim().split('\n').at(-1) as string)
        : reject(new CliError(`building the RabbitMQ 4 root failed (exit ${code}); see the lines above`)),
    );
  });
}

async function versionIn(root: string): Promise<string> {
  const { stdout } = await run('chroot', [root, 'dpkg-query', '-W', '-f=${Version}', 'rabbitmq-server']);
  return stdout.trim();
}

await runMain(async () => {
  // The command starts at the first word that is no option, or after `--`, and keeps its own
  // options (`npm run broker:4 -- npx vitest run --bail 1`); what comes before is ours (--help).
  const argv = process.argv.slice(2);
  const start = argv.findIndex((arg) => arg === '--' || !arg.startsWith('-'));
  const ours = start === -1 ? argv : argv.slice(0, start);
  BROKER4_CLI.parse(ours);
  const command = start === -1 ? [] : argv.slice(argv[start] === '--' ? start + 1 : start);
  if (process.getuid?.() !== 0)
    throw new CliError('npm run broker:4 builds and enters a root filesystem (debootstrap, mount, chroot): run it as root');
  const root = await buildRoot();
  const install = rabbitmqInstall({ RABBITMQ_SERVER_ROOT: root });
  const node = await startThrowawayNode({
    prefix: 'rabbit4',
    plugins: ['rabbitmq_management', 'rabbitmq_prometheus'],
    startTimeoutMs: 120_000,
    install,
  });
  const env = { RABBITMQ_URL: node.url, RABBITMQ_MANAGEMENT_URL: node.managementUrl as string, RABBITMQ_SERVER_ROOT: root };
  process.stderr.write(
    `RabbitMQ ${await versionIn(root)} (${node.node}) at ${node.url}, management ${node.managementUrl}, Prometheus :${node.prometheusPort}\n`,
  );
  try {
    if (command.length === 0) {
      process.stdout.write(
        `${Object.entries(env)
          .map(([key, value]) => `export ${key}=${value}`)
          .join('\n')}\n`,
      );
      process.stderr.write('Ctrl-C stops and removes the node.\n');
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      return 0;
    }
    const [file, ...args] = command as [string, ...string[]];
    return await new Promise<number>((resolve) => {
      const child = spawn(file, args, { env: { ...process.env, ...env }, stdio: 'inherit' });
      const forward = (signal: NodeJS.Signals) => child.kill(signal);
      process.on('SIGINT', forward);
      process.on('SIGTERM', forward);
      child.on('error', (error) => {
        process.stderr.write(`npm run broker:4: could not run ${file}: ${error.message}\n`);
        resolve(127);
      });
      child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 + 15 : 1)));
    });
  } finally {
    await node.stop();
  }
});
