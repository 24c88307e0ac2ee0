// The containers, validated without a Docker engine: docker-compose.yml as Docker Compose reads it
// (Debian's docker-compose 1.29, `docker-compose --profile system config`), its two profiles (the
// system; a 3-node cluster), and the Dockerfile's shape. Building the image and running the containers needs an engine, which CI does not have.
// Skipped only where docker-compose is not installed and this is not CI (.ci/run installs it).
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { readEnv } from '../shared/config.ts';
import { describe, expect, it } from 'vitest';
import { RABBITMQ_IMAGE } from '../shared/broker/find-broker.ts';
import { SERVICE_NAMES } from '../shared/messages/events.ts';

const composeInstalled = spawnSync('docker-compose', ['version', '--short'], { encoding: 'utf8' }).status === 0;
const inCi = Boolean(process.env.CI);

function compose(...args: string[]): string {
  return execFileSync('docker-compose', args, { encoding: 'utf8', env: { ...process.env, RABBITMQ_USER: '', RABBITMQ_PASSWORD: '' } });
}

interface ComposeService {
  image?: string;
  hostname?: string;
  volumes?: string[];
  build?: { context: string };
  profiles?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  ports?: unknown[];
}

let resolved: { services: Record<string, ComposeService> } | undefined;

/** The resolved config as JSON, through the YAML parser of docker-compose's own Python (read once). */
function resolvedConfig(): { services: Record<string, ComposeService> } {
  if (resolved) return resolved;
  const program = fs.readFileSync(execFileSync('sh', ['-c', 'command -v docker-compose'], { encoding: 'utf8' }).trim(), 'utf8');
  const python = /^#!\s*(\S+)/.exec(program)?.[1] ?? 'python3';
  const json = execFileSync(python, ['-c', 'import json, sys, yaml; print(json.dumps(yaml.safe_load(sys.stdin)))'], {
    input: compose('--profile', 'system', 'config'),
    encoding: 'utf8',
  });
  resolved = JSON.parse(json) as { services: Record<string, ComposeService> };
  return resolved;
}

/** What `docker compose --profile <profile> up` starts: the services with no profile and that profile's (1.29's `config --services` lists every one). */
function servicesOf(profile: string): string[] {
  const { services } = resolvedConfig();
  return Object.entries(services)
    .filter(([, service]) => !service.profiles || service.profiles.includes(profile))
    .map(([name]) => name)
    .sort();
}

const CLUSTER_NODES = ['rabbitmq-1', 'rabbitmq-2', 'rabbitmq-3'];

describe('docker-compose.yml', () => {
  it('is checked in CI: .ci/run installs docker-compose', () => {
    if (inCi) expect(composeInstalled, 'docker-compose must be installed in CI (.ci/run installs it with apt)').toBe(true);
  });

  const title = composeInstalled
    ? 'as docker-compose reads it'
    : 'as docker-compose reads it: SKIPPED, docker-compose is not installed (apt-get install --no-install-recommends docker-compose)';
  describe.skipIf(!composeInstalled)(title, () => {
    it('the system profile lists the broker and the six services', () => {
      const services = compose('--profile', 'system', 'config', '--services').trim().split('\n');
      expect(services).toEqual(expect.arrayContaining(['rabbitmq', ...SERVICE_NAMES]));
      expect(servicesOf('system')).toEqual(['rabbitmq', ...SERVICE_NAMES].sort());
    });

    it('the cluster profile adds three nodes of the same image, with one cookie, the second and third joining the first', () => {
      expect(servicesOf('cluster')).toEqual(['rabbitmq', ...CLUSTER_NODES].sort());
      const { services } = resolvedConfig();
      const nodes = CLUSTER_NODES.map((name) => services[name]!);
      const cookies = new Set(nodes.map((node) => node.environment?.RABBITMQ_ERLANG_COOKIE));
      expect(cookies.size, 'one Erlang cookie for the three nodes').toBe(1);
      expect([...cookies][0]).toMatch(/\S{8,}/);
      for (const [index, node] of nodes.entries()) {
        const name = CLUSTER_NODES[index]!;
        expect(node.image, name).toBe(RABBITMQ_IMAGE);
        expect(node.profiles, name).toEqual(['cluster']);
        expect(node.hostname, name).toBe(name); // the node is rabbit@<hostname>: cluster.conf names it so
        expect(node.healthcheck?.test, name).toContain('rabbitmq-diagnostics');
        expect(
          node.volumes?.some((volume) => volume.includes('docker/rabbitmq/cluster.conf:/etc/rabbitmq/conf.d/')),
          name,
        ).toBe(true);
        if (index > 0) expect(node.depends_on?.['rabbitmq-1']?.condition, `${name} joins rabbitmq-1 once it is up`).toBe('service_healthy');
      }
      const peers = fs.readFileSync('docker/rabbitmq/cluster.conf', 'utf8');
      expect(peers).toContain('cluster_formation.peer_discovery_backend = classic_config');
      for (const name of CLUSTER_NODES) expect(peers).toContain(`= rabbit@${name}`);
      // Published ports never collide with the single broker's, which starts with every profile.
      const published = Object.values(services).flatMap((service) =>
        (service.ports ?? []).map((port) => (port as { published?: number }).published ?? String(port).split(':')[0]),
      );
      expect(new Set(published.map(String)).size).toBe(published.length);
    });

    it('the monitoring profile adds Prometheus and Grafana, fed by files in the repo; Prometheus scrapes each service where it serves /metrics', () => {
      expect(servicesOf('monitoring')).toEqual(['grafana', 'prometheus', 'rabbitmq']);
      const { services } = resolvedConfig();
      const mounts = [...(services.prometheus!.volumes ?? []), ...(services.grafana!.volumes ?? [])].map((volume) => volume.split(':')[0]!);
      for (const source of mounts) expect(fs.existsSync(source), source).toBe(true);
      // METRICS_PORT's default, plus each service's index in SERVICE_NAMES (service-config.ts).
      const base = readEnv({}).METRICS_PORT;
      const prometheus = fs.readFileSync('docker/prometheus/prometheus.yml', 'utf8');
      SERVICE_NAMES.forEach((name, index) => expect(prometheus).toContain(`- ${name}:${base + index}`));
      for (const name of SERVICE_NAMES)
        expect(services[name]!.environment?.HTTP_HOST, `${name} serves /metrics beyond its container`).toBe('0.0.0.0');
    });

    it('the broker is a current 4.x management image, the same as the testcontainers fallback, with no profile', () => {
      const { services } = resolvedConfig();
      const broker = services.rabbitmq!;
      expect(broker.image).toBe(RABBITMQ_IMAGE);
      expect(broker.image).toMatch(/^rabbitmq:4[.-]/);
      expect(broker.profiles ?? []).toEqual([]); // `docker compose up -d` still starts only the broker
      expect(broker.healthcheck?.test).toContain('rabbitmq-diagnostics');
    });

    it('every service runs the image built from the Dockerfile, as itself, once the broker is healthy', () => {
      const { services } = resolvedConfig();
      for (const name of SERVICE_NAMES) {
        const service = services[name]!;
        expect(service.profiles, name).toEqual(['system']);
        expect(service.build?.context, name).toBe(process.cwd());
        expect(service.environment?.SERVICE, name).toBe(name);
        expect(service.environment?.RABBITMQ_URL, name).toBe('amqp://guest:guest@rabbitmq:5672');
        expect(service.environment?.RABBITMQ_MANAGEMENT_URL, name).toBe('http://rabbitmq:15672');
        expect(service.depends_on?.rabbitmq?.condition, name).toBe('service_healthy');
      }
      expect(services.order!.ports).toHaveLength(1); // the HTTP API
    });
  });
});

describe('Dockerfile', () => {
  const dockerfile = fs.readFileSync('Dockerfile', 'utf8');
  const instructions = dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .filter((line) => line.trim() && !line.trim().startsWith('#'));
  const stages = instructions.map((line, index) => ({ line, index })).filter(({ line }) => /^FROM\s/i.test(line));
  const last = instructions.slice(stages.at(-1)!.index);

  it('is multi-stage, and its runtime stage runs as a user that is not root, with a healthcheck', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const user = last.filter((line) => /^USER\s/i.test(line)).at(-1);
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^USER\s+(root|0)\b/i);
    expect(last.some((line) => /^HEALTHCHECK\s+.*CMD/i.test(line))).toBe(true);
    expect(last.some((line) => /^(apt-get|RUN\s+apt-get)/i.test(line))).toBe(false); // no compilers in the runtime
  });

  it('names files that exist: the healthcheck, the build tsconfig, the service entry point', () => {
    expect(fs.existsSync('docker/healthcheck.mjs')).toBe(true);
    expect(fs.existsSync('docker/tsconfig.build.json')).toBe(true);
    expect(dockerfile).toContain('solutions/run-service.js');
    expect(fs.existsSync('solutions/run-service.ts')).toBe(true);
  });
});
