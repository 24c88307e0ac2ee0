// Prometheus of the monitoring profile reports every scrape target up (scripts/containers/test-containers.sh):
//   node prometheus-check.mjs <Prometheus URL> <seconds>
// The targets are docker/prometheus/prometheus.yml's: six services and the broker's two metrics paths.
const [base, seconds] = process.argv.slice(2);
const deadline = Date.now() + Number(seconds) * 1000;
const EXPECTED = 8;
let last = 'no answer yet';
while (Date.now() < deadline) {
  try {
    const response = await fetch(`${base}/api/v1/targets?state=active`, { signal: AbortSignal.timeout(10_000) });
    const targets = (await response.json()).data.activeTargets;
    const down = targets.filter((target) => target.health !== 'up');
    last = `${targets.length} targets, not up: ${down.map((t) => `${t.scrapeUrl} (${t.health}${t.lastError ? `: ${t.lastError}` : ''})`).join(', ') || 'none'}`;
    if (targets.length === EXPECTED && down.length === 0) {
      const version = await (await fetch(`${base}/api/v1/status/buildinfo`, { signal: AbortSignal.timeout(10_000) })).json();
      console.log(`   Prometheus ${version.data?.version}: ${targets.length} targets up: ${targets.map((t) => t.scrapeUrl).join(' ')}`);
      process.exit(0);
    }
  } catch (error) {
    last = String(error);
  }
  await new Promise((resolve) => setTimeout(resolve, 2000));
}
console.error(`   Prometheus: ${last}`);
process.exit(1);
