// The compose file's Prometheus and Grafana cannot run here (no Docker engine), so their files are
// checked instead: Prometheus's config with promtool (Debian's prometheus package), every dashboard
// query parsed by promtool as a rule, and every metric a query names exported for real, by the
// services (scraped from a running system) or by the broker's plugin (scraped from this broker).
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inject, beforeAll, describe, expect, it } from 'vitest';
import { SERVICE_NAMES } from '../shared/messages/events.ts';
import type { RunningSystem } from '../solutions/system.ts';
import { useSystemUnderTest } from './system/support/system-under-test.ts';

const root = path.join(import.meta.dirname, '..');
const read = (file: string) => fs.readFileSync(path.join(root, file), 'utf8');
const promtool = spawnSync('promtool', ['--version']).status === 0;
// CI installs promtool (.ci/run); elsewhere a missing one skips the two promtool checks, said in their names.
const withPromtool = promtool || process.env.CI === 'true';

interface Panel {
  title: string;
  datasource?: { uid?: string };
  targets?: { expr: string; datasource?: { uid?: string } }[];
}
const dashboard = JSON.parse(read('docker/grafana/dashboards/order-system.json')) as { uid: string; panels: Panel[] };
const queries = dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => ({ panel: panel.title, expr: target.expr })));

/** Metric names in a text exposition: every `# TYPE` line, with a histogram's _bucket, _sum and _count. */
function exportedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const [, name, kind] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(name!);
    if (kind === 'histogram' || kind === 'summary') for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${name}${suffix}`);
  }
  return names;
}

describe('Prometheus and Grafana files (docker/)', () => {
  it.runIf(withPromtool)('prometheus.yml passes promtool check config (CI installs promtool)', () => {
    const output = execFileSync('promtool', ['check', 'config', path.join(root, 'docker/prometheus/prometheus.yml')], { encoding: 'utf8' });
    expect(output).toContain('SUCCESS');
  });

  it.runIf(withPromtool)('every dashboard query is valid PromQL (promtool check rules, one recording rule per query)', () => {
    const rules = {
      groups: [{ name: 'dashboard', rules: queries.map((query, index) => ({ record: `dashboard:query_${index}`, expr: query.expr })) }],
    };
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'dashboard-rules-')), 'rules.json');
    fs.writeFileSync(file, JSON.stringify(rules)); // YAML is a superset of JSON
    const result = spawnSync('promtool', ['check', 'rules', file], { encoding: 'utf8' });
    expect(result.status, `${result.stdout}${result.stderr}`).toBe(0);
  });

  it('the dashboard uses the provisioned data source, and every panel has a query', () => {
    const datasource = read('docker/grafana/provisioning/datasources/prometheus.yml');
    const uid = datasource.match(/uid:\s*(\S+)/)?.[1];
    expect(uid).toBe('prometheus');
    for (const panel of dashboard.panels) {
      expect(panel.datasource?.uid, panel.title).toBe(uid);
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
    }
    expect(read('docker/grafana/provisioning/dashboards/order-system.yml')).toContain('/var/lib/grafana/dashboards');
  });

  describe('every metric a query names is exported', () => {
    const sut = useSystemUnderTest('observability-config');
    let system: RunningSystem;
    beforeAll(async () => {
      system = await sut.start({ config: { metricsPort: 0 } });
    });

    it('by the services or by the broker’s per-object endpoint', async () => {
      const texts = await Promise.all(
        SERVICE_NAMES.map((service) => fetch(`http://127.0.0.1:${system.runtime(service).metricsPort}/metrics`).then((r) => r.text())),
      );
      const broker = await fetch(`http://${new URL(inject('managementUrl')).hostname}:15692/metrics/per-object`).then((r) => r.text());
      const exported = new Set([...texts.flatMap((text) => [...exportedNames(text)]), ...exportedNames(broker)]);
      const missing = queries.flatMap(({ panel, expr }) =>
        [...expr.matchAll(/\b(order_system_[a-z_]+|rabbitmq_[a-z_]+)\b/g)]
          .map((m) => m[1]!)
          .filter((name) => !exported.has(name))
          .map((name) => `${panel}: ${name}`),
      );
      expect(missing).toEqual([]);
      expect(queries.length).toBeGreaterThan(5);
    });
  });
});
