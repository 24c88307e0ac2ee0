// Which RabbitMQ throwaway nodes are started with: this machine's own (`rabbitmq-server` and
// `rabbitmqctl` on PATH), or one installed in a root filesystem of its own, named by
// RABBITMQ_SERVER_ROOT and entered with chroot. The second is how a machine whose distribution ships
// an older RabbitMQ runs the current one: `npm run broker:4` builds a Debian unstable root holding
// RabbitMQ 4.x (scripts/rabbitmq4/build-root.sh) and points RABBITMQ_SERVER_ROOT at it, so the
// grader's restartable nodes and the fault suite's clusters are 4.x too. chroot needs root.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface RabbitmqInstall {
  /** The root filesystem, when the install lives in one. */
  root?: string;
  /** How to run one of RabbitMQ's commands (rabbitmq-server, rabbitmqctl, …): the file and its arguments. */
  command(name: string, args: string[]): { file: string; args: string[] };
  /** Where the nodes' temporary folders go (inside the root, for a root install). */
  tempBase: string;
  /** A new temporary folder under tempBase. */
  makeTempDir(prefix: string): string;
  /** The path at which the node sees a folder of makeTempDir's. */
  nodePath(hostPath: string): string;
  /** Folders where this install keeps its plugins. */
  pluginDirs(): string[];
  /** Makes the install ready to start a node (a root needs /proc). */
  prepare(): Promise<void>;
}

/** The install RABBITMQ_SERVER_ROOT names, else the machine's own. */
export function rabbitmqInstall(env: NodeJS.ProcessEnv = process.env): RabbitmqInstall {
  const root = env.RABBITMQ_SERVER_ROOT?.trim();
  return root ? rootInstall(path.resolve(root)) : machineInstall();
}

function machineInstall(): RabbitmqInstall {
  return {
    command: (name, args) => ({ file: name, args }),
    tempBase: os.tmpdir(),
    makeTempDir: (prefix) => fs.mkdtempSync(path.join(os.tmpdir(), prefix)),
    nodePath: (hostPath) => hostPath,
    pluginDirs: () => libPluginDirs(''),
    prepare: async () => {},
  };
}

function rootInstall(root: string): RabbitmqInstall {
  const inside = (hostPath: string) => `/${path.relative(root, hostPath)}`;
  return {
    root,
    // chroot keeps the environment: the node's RABBITMQ_* variables reach it as they are.
    command: (name, args) => ({ file: 'chroot', args: [root, name, ...args] }),
    tempBase: path.join(root, 'tmp'),
    makeTempDir: (prefix) => fs.mkdtempSync(path.join(root, 'tmp', prefix)),
    nodePath: inside,
    pluginDirs: () => libPluginDirs(root),
    async prepare() {
      if (!fs.existsSync(path.join(root, 'usr/sbin/rabbitmq-server'))) {
        throw new Error(`RABBITMQ_SERVER_ROOT=${root} holds no usr/sbin/rabbitmq-server (build one with scripts/rabbitmq4/build-root.sh)`);
      }
      // The node reads /proc (memory, CPUs); mounted once and left for the next node.
      if (!fs.existsSync(path.join(root, 'proc/self'))) await run('mount', ['-t', 'proc', 'proc', path.join(root, 'proc')]);
    },
  };
}

/** Debian's and the generic layouts: /usr/lib/rabbitmq/lib/rabbitmq_server-<v>/plugins. */
function libPluginDirs(root: string): string[] {
  const dirs = [path.join(root, '/usr/lib/rabbitmq/plugins')];
  for (const lib of ['/usr/lib/rabbitmq/lib', '/usr/local/lib/rabbitmq/lib'].map((dir) => path.join(root, dir))) {
    for (const entry of fs.existsSync(lib) ? fs.readdirSync(lib) : []) dirs.push(path.join(lib, entry, 'plugins'));
  }
  return dirs;
}
