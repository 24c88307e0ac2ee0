// A RabbitMQ node of our own, started with this machine's `rabbitmq-server` on spare ports, with its
// own name, data and log folders in a temporary directory, so it never touches the machine's broker.
// Three users: findBroker (a broker for `npm start`, `npm test` and the grader where none runs: with
// the management and Prometheus plugins), milestone 4's durability checks (a broker they may
// restart: no plugins, no config file, so it boots fast), and the fault suite (`npm run chaos`) starts
// three with a cookie of their own and joins them into a cluster. The node is removed when its stop() is
// called, when this process exits, and, by a small watchdog process, when this process is killed.
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { httpRequest } from './management-api.ts';
import { freePort, portAnswers } from './ports.ts';
import { type RabbitmqInstall, rabbitmqInstall } from './rabbitmq-install.ts';

const run = promisify(execFile);

export interface ThrowawayNodeOptions {
  /** Starts the node's name and its folder's: `<prefix>-<pid>-<port>@localhost`. */
  prefix: string;
  /**
   * Plugins to enable, in order of need: the first one is required, the others only where this
   * RabbitMQ has them (rabbitmq_prometheus came with 3.8). None (the default) boots fastest.
   */
  plugins?: string[];
  /** How long to wait for the node to answer (default 60 s; the management plugin adds seconds). */
  startTimeoutMs?: number;
  /** The command that starts the node (default `rabbitmq-server`; tests name one that does not exist). */
  serverCommand?: string;
  /**
   * The Erlang cookie, for nodes that are to form a cluster (they must share one; `npm run chaos`
   * joins three). Without it the node has the cookie of the user it runs as, which on a Debian
   * machine run as root is the machine's broker's.
   */
  erlangCookie?: string;
  /** Which RabbitMQ to start (default: RABBITMQ_SERVER_ROOT's, else the machine's own; rabbitmq-install.ts). */
  install?: RabbitmqInstall;
}

/** The node did not open its ports in time: it may still be booting (a slow machine), not broken. */
export class ThrowawayNodeTimeoutError extends Error {
  override name = 'ThrowawayNodeTimeoutError';
}

export interface ThrowawayNode {
  /** Erlang node name, for `rabbitmqctl -n`. */
  node: string;
  /** amqp://guest:guest@127.0.0.1:<port> (guest may log in from localhost). */
  url: string;
  amqpPort: number;
  /** Set when the management plugin is enabled. */
  managementUrl?: string;
  /** Set when the Prometheus plugin is enabled. */
  prometheusPort?: number;
  plugins: string[];
  /** stop_app, then start_app (one `rabbitmqctl eval`): durable queues and persistent messages stay. */
  restart(): Promise<void>;
  /** The operating system's pid of the node's Erlang VM (0 when it is not running). */
  pid(): number;
  /** SIGKILL to the node's VM, as a crash would: its folder stays, so boot() brings it back. Resolves with the pid. */
  kill(): Promise<number>;
  /** Starts a killed node again, on the same name, ports and data; resolves once it answers. */
  boot(): Promise<void>;
  /** Ends the node and deletes its folder. Safe to call twice. */
  stop(): Promise<void>;
}

export async function commandExists(command: string): Promise<boolean> {
  try {
    await run('sh', ['-c', `command -v ${command}`]);
    return true;
  } catch {
    return false;
  }
}

/** Is there a `rabbitmq-server` (and its `rabbitmqctl`) on this machine, or in RABBITMQ_SERVER_ROOT, to start a node with? */
export async function rabbitmqServerInstalled(serverCommand = 'rabbitmq-server', install = rabbitmqInstall()): Promise<boolean> {
  if (install.root) {
    const inRoot = (name: string) =>
      fs.existsSync(path.isAbsolute(name) ? path.join(install.root!, name) : path.join(install.root!, 'usr/sbin', name));
    return inRoot(serverCommand) && inRoot('rabbitmqctl') && (await commandExists('chroot'));
  }
  return (await commandExists(serverCommand)) && (await commandExists('rabbitmqctl'));
}

/**
 * The plugins this RabbitMQ ships, from its plugins folders (undefined when none is found). Looked up
 * on disk: `rabbitmq-plugins directories` would say, but it boots an Erlang VM for it (seconds).
 */
async function installedPlugins(install: RabbitmqInstall): Promise<Set<string> | undefined> {
  const dirs = new Set<string>();
  if (!install.root) {
    if (process.env.RABBITMQ_PLUGINS_DIR) for (const dir of process.env.RABBITMQ_PLUGINS_DIR.split(':')) dirs.add(dir);
    try {
      const { stdout } = await run('sh', ['-c', 'command -v rabbitmq-server']);
      // Homebrew, generic unix tarball: sbin/rabbitmq-server is (a link to) the server's own, next to plugins/.
      dirs.add(path.join(path.dirname(fs.realpathSync(stdout.trim())), '..', 'plugins'));
    } catch {
      // not installed: startThrowawayNode fails later with a clearer message
    }
  }
  // Debian and Ubuntu: /usr/sbin/rabbitmq-server is a wrapper; the server lives in /usr/lib/rabbitmq.
  for (const dir of install.pluginDirs()) dirs.add(dir);
  const names = new Set<string>();
  for (const dir of dirs) {
    for (const entry of fs.existsSync(dir) ? fs.readdirSync(dir) : []) names.add(entry.replace(/-[0-9][^-]*?(\.ez)?$/, ''));
  }
  return names.size > 0 ? names : undefined;
}

/** Does the management API answer guest's GET /api/overview with a 200? */
async function managementAnswers(port: number): Promise<boolean> {
  try {
    const auth = `Basic ${Buffer.from('guest:guest').toString('base64')}`;
    const { status } = await httpRequest(new URL(`http://127.0.0.1:${port}/api/overview`), {
      headers: { authorization: auth },
      timeoutMs: 2000,
    });
    return status >= 200 && status <= 299;
  } catch {
    return false;
  }
}

function readPid(pidFile: string): number {
  try {
    return Number(fs.readFileSync(pidFile, 'utf8').trim()) || 0;
  } catch {
    return 0;
  }
}

/** Kills the node and removes its folder; returns its pid (0 when there was none). */
function killAndRemove(pidFile: string, dir: string): number {
  const pid = readPid(pidFile);
  if (pid > 0) {
    try {
      process.kill(pid, 'SIGKILL'); // nothing on a throwaway node is worth a graceful stop
    } catch {
      // already gone
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
  return pid;
}

/** Alive, also when it is not ours to signal (EPERM: a node that runs as another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A killed process lingers until the kernel has reaped it (its ports still answer meanwhile). */
async function waitUntilGone(pid: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (pid > 0 && Date.now() < deadline) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * A detached process that outlives us only to clean up: once our process is gone (killed, say),
 * it ends the node and deletes its folder.
 */
function startWatchdog(pidFile: string, dir: string): number | undefined {
  const script = `
    const fs = require('node:fs');
    const [parent, pidFile, dir] = process.argv.slice(1);
    const alive = (pid) => { try { process.kill(pid, 0); return true; } catch { return false; } };
    setInterval(() => {
      if (alive(Number(parent))) return;
      try { const pid = Number(fs.readFileSync(pidFile, 'utf8').trim()); if (pid > 0) process.kill(pid, 'SIGKILL'); } catch {}
      fs.rmSync(dir, { recursive: true, force: true });
      process.exit(0);
    }, 1000);`;
  try {
    const child = spawn(process.execPath, ['-e', script, String(process.pid), pidFile, dir], { detached: true, stdio: 'ignore' });
    child.unref();
    return child.pid;
  } catch {
    return undefined;
  }
}

export async function startThrowawayNode(options: ThrowawayNodeOptions): Promise<ThrowawayNode> {
  const install = options.install ?? rabbitmqInstall();
  await install.prepare();
  const dir = install.makeTempDir(`${options.prefix}-rabbit-`);
  /** Where the node sees a file of its folder (the same path, but for an install in a root of its own). */
  const seen = (file: string) => install.nodePath(file);
  const runRabbitmq = (name: string, args: string[], opts: { env?: NodeJS.ProcessEnv; timeout: number }) => {
    const command = install.command(name, args);
    return run(command.file, command.args, opts);
  };
  const amqpPort = await freePort();
  const distPort = await freePort();
  const node = `${options.prefix}-${process.pid}-${amqpPort}@localhost`;
  const url = `amqp://guest:guest@127.0.0.1:${amqpPort}`;
  const pidFile = path.join(dir, 'pid');
  for (const folder of ['mnesia', 'log']) fs.mkdirSync(path.join(dir, folder));

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...(options.erlangCookie ? { RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: `-setcookie ${options.erlangCookie}` } : {}),
    RABBITMQ_NODENAME: node,
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(amqpPort),
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_MNESIA_BASE: seen(path.join(dir, 'mnesia')),
    RABBITMQ_LOG_BASE: seen(path.join(dir, 'log')),
    // Not the machine's /etc/rabbitmq/rabbitmq.conf (or conf.d), whose listeners would clash with its broker.
    RABBITMQ_CONFIG_FILE: seen(path.join(dir, 'no-config')),
    RABBITMQ_CONFIG_FILES: seen(path.join(dir, 'no-conf.d')),
    RABBITMQ_ENABLED_PLUGINS_FILE: seen(path.join(dir, 'enabled_plugins')),
    RABBITMQ_PID_FILE: seen(pidFile),
  };

  let plugins: string[] = [];
  let managementPort: number | undefined;
  let prometheusPort: number | undefined;
  if (options.plugins?.length) {
    const [required, ...wanted] = options.plugins;
    const installed = await installedPlugins(install);
    if (installed && !installed.has(required!)) {
      fs.rmSync(dir, { recursive: true, force: true });
      throw new Error(`this RabbitMQ has no ${required} plugin`);
    }
    plugins = [required!, ...wanted.filter((plugin) => !installed || installed.has(plugin))];
    const config = ['# A throwaway node of the workshop: its own ports, statistics every second.', 'collect_statistics_interval = 1000'];
    if (plugins.includes('rabbitmq_management')) {
      managementPort = await freePort();
      config.push('management.tcp.ip = 127.0.0.1', `management.tcp.port = ${managementPort}`);
    }
    if (plugins.includes('rabbitmq_prometheus')) {
      prometheusPort = await freePort();
      config.push('prometheus.tcp.ip = 127.0.0.1', `prometheus.tcp.port = ${prometheusPort}`);
    }
    fs.writeFileSync(path.join(dir, 'rabbitmq.conf'), `${config.join('\n')}\n`);
    env.RABBITMQ_CONFIG_FILE = seen(path.join(dir, 'rabbitmq.conf'));
  }
  fs.writeFileSync(path.join(dir, 'enabled_plugins'), `[${plugins.join(',')}].\n`);
  fs.chmodSync(dir, 0o755);
  // As root, Debian's rabbitmq-server runs the node as the rabbitmq user: the folder must be theirs.
  if (process.getuid?.() === 0) await runRabbitmq('chown', ['-R', 'rabbitmq:rabbitmq', seen(dir)], { timeout: 30_000 }).catch(() => {});

  const watchdog = startWatchdog(pidFile, dir);
  const onExit = () => killAndRemove(pidFile, dir);
  process.once('exit', onExit);
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    process.removeListener('exit', onExit);
    const pid = killAndRemove(pidFile, dir);
    if (watchdog) {
      try {
        process.kill(watchdog, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await waitUntilGone(pid);
  };

  /** Starts the node's VM and waits until its listeners answer. */
  const boot = async () => {
    fs.rmSync(pidFile, { force: true }); // a killed node's pid file would name a dead process
    await runRabbitmq(options.serverCommand ?? 'rabbitmq-server', ['-detached'], { env, timeout: 30_000 });
    // `rabbitmqctl await_startup` right now fails: the node has not registered with epmd yet. The
    // listeners open last in the boot, so ports that accept connections mean the node is ready.
    const timeoutMs = options.startTimeoutMs ?? 60_000;
    const deadline = Date.now() + timeoutMs;
    for (const port of [amqpPort, managementPort, prometheusPort]) {
      if (port === undefined) continue;
      while (!(await portAnswers('127.0.0.1', port))) {
        // A node that ended during its boot (a port taken meanwhile, epmd) will not answer: say so now.
        const pid = readPid(pidFile);
        if (pid > 0 && !processAlive(pid))
          throw new Error(`the throwaway node (pid ${pid}) ended during its boot; its log was in ${path.join(dir, 'log')}`);
        if (Date.now() > deadline)
          throw new ThrowawayNodeTimeoutError(`the throwaway node did not open port ${port} within ${timeoutMs / 1000} s`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    // RabbitMQ 4.3's management API may answer 500 for a moment after its port opens (seen in the
    // fault suite's first call): ready means it answers.
    while (managementPort !== undefined && !(await managementAnswers(managementPort))) {
      if (Date.now() > deadline)
        throw new ThrowawayNodeTimeoutError(`the throwaway node's management API did not answer within ${timeoutMs / 1000} s`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  try {
    await boot();
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    node,
    url,
    amqpPort,
    managementUrl: managementPort === undefined ? undefined : `http://127.0.0.1:${managementPort}`,
    prometheusPort,
    plugins,
    pid: () => readPid(pidFile),
    kill: async () => {
      const pid = readPid(pidFile);
      if (pid <= 0) return 0;
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
      await waitUntilGone(pid);
      fs.rmSync(pidFile, { force: true });
      return pid;
    },
    boot,
    restart: async () => {
      const cookie = options.erlangCookie ? ['--erlang-cookie', options.erlangCookie] : [];
      await runRabbitmq('rabbitmqctl', ['-n', node, ...cookie, '-q', 'eval', 'ok = rabbit:stop(), ok = rabbit:start().'], {
        env,
        timeout: 60_000,
      });
    },
    stop,
  };
}
