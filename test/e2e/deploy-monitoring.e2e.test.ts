import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { collect } from '../support/echo-client.js';
import { useFixture } from '../support/fixture.js';
import { waitUntil } from '../support/ports.js';
import { exportedNames, metricNamesIn } from '../support/promql.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const read = (path: string): string => readFileSync(ROOT + path, 'utf8');
const DASHBOARD = 'deploy/grafana/dashboards/echo-relay.json';

interface Panel {
  title: string;
  targets?: { expr: string }[];
}

/** Every PromQL expression of the dashboard, with where it is: panel targets and template queries. */
function dashboardQueries(): { where: string; expr: string }[] {
  const dashboard = JSON.parse(read(DASHBOARD)) as {
    panels: Panel[];
    templating: { list: { name: string; definition: string }[] };
  };
  const out = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: p.title, expr: t.expr })));
  for (const v of dashboard.templating.list) {
    // label_values(<metric>, <label>): only the metric is PromQL.
    const metric = /^label_values\(([^,]+),/.exec(v.definition)?.[1];
    if (metric) out.push({ where: `variable ${v.name}`, expr: metric });
  }
  return out;
}

/** Whether (), [] and {} nest and close, outside double-quoted strings. */
function balanced(expr: string): boolean {
  const open: string[] = [];
  const pairs: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
  for (const ch of expr.replace(/"(?:[^"\\]|\\.)*"/g, '""')) {
    if ('([{'.includes(ch)) open.push(ch);
    else if (ch in pairs && open.pop() !== pairs[ch]) return false;
  }
  return open.length === 0;
}

describe('the monitoring profile of docker-compose.yml against a real echo-relay', () => {
  const fx = useFixture({ prefix: 'laravel_database_' });
  let text = '';

  beforeAll(async () => {
    // Activity first, so the labelled series have samples too (a connection, a subscription, a delivery).
    const echo = await fx.echoOn('monitoring-demo');
    const got = collect(echo, 'monitoring-demo', '.tick');
    await fx.relay.waitForSubscribers('monitoring-demo', 1);
    await fx.laravel.broadcast(['monitoring-demo'], 'tick', { n: 1 });
    await waitUntil(() => got.length === 1, 5000, 'the broadcast');
    text = await (await fetch(`${fx.relay.apiUrl}/metrics`)).text();
  });

  it('reads the metric names out of PromQL, so the check below has something to check', () => {
    expect(
      metricNamesIn(
        'histogram_quantile(0.99, sum by (le, instance) (rate(a_bucket{instance=~"$instance", x="b(c)"}[$__rate_interval]))) / on(instance) group_left b_total offset 5m * 1e3',
      ).sort(),
    ).toEqual(['a_bucket', 'b_total']);
    const names = exportedNames('# TYPE h histogram\n# TYPE c counter\nc{a="1"} 2\n');
    expect([...names].sort()).toEqual(['c', 'h', 'h_bucket', 'h_count', 'h_sum']);
    expect([balanced('sum(rate(a{b="(}"}[1m]))'), balanced('sum(rate(a[1m])'), balanced('a{b="c")')]).toEqual([
      true,
      false,
      false,
    ]);
  });

  it("queries only metrics the server exports, covering each of the dashboard's subjects", () => {
    const exported = exportedNames(text);
    const queries = dashboardQueries();
    const used = new Set(queries.flatMap((q) => metricNamesIn(q.expr)));
    const missing = queries.flatMap((q) =>
      metricNamesIn(q.expr)
        .filter((name) => !exported.has(name))
        .map((name) => `${q.where}: ${name}`),
    );
    expect(missing).toEqual([]);
    // No promtool here: at least every bracket of every query closes (a lost one only shows in Grafana).
    const unbalanced = queries.filter((q) => !balanced(q.expr)).map((q) => `${q.where}: ${q.expr}`);
    expect(unbalanced).toEqual([]);
    for (const name of [
      'echo_relay_connections',
      'echo_relay_deliveries_total',
      'echo_relay_messages_dropped_total',
      'echo_relay_auth_duration_seconds_bucket',
      'echo_relay_auth_requests_total',
      'echo_relay_subscriptions',
      'echo_relay_redis_subscribed',
    ]) {
      expect(used).toContain(name);
    }
    // The activity above shows up under the names the dashboard reads.
    expect(text).toMatch(/^echo_relay_deliveries_total [1-9]/m);
    expect(text).toMatch(/^echo_relay_connections\{eio="4"\} 1$/m);
  });

  it('wires Grafana to Prometheus and Prometheus to every replica on the port nginx balances', () => {
    const compose = read('docker-compose.yml');
    const dashboard = JSON.parse(read(DASHBOARD)) as { uid: string; panels: { datasource: { uid: string } }[] };
    const datasource = read('deploy/grafana/provisioning/datasources/prometheus.yml');
    const uid = /^\s+uid: (\S+)$/m.exec(datasource)?.[1];
    expect(dashboard.panels.map((p) => p.datasource.uid)).toEqual(dashboard.panels.map(() => uid));
    expect(datasource).toMatch(/^\s+url: http:\/\/prometheus:9090$/m);
    const provider = read('deploy/grafana/provisioning/dashboards/echo-relay.yml');
    const path = /^\s+path: (\S+)$/m.exec(provider)?.[1];
    expect(compose).toContain(`./deploy/grafana/dashboards:${path}:ro`);
    expect(compose).toContain('./deploy/grafana/provisioning:/etc/grafana/provisioning:ro');
    const prometheus = read('deploy/prometheus.yml');
    expect(prometheus).toMatch(/names: \['echo-relay'\]\n\s+type: A\n\s+port: 6001/);
    expect(read('deploy/nginx.conf')).toMatch(/server echo-relay:6001 resolve /);
    // Both monitoring services belong to the profile, so a plain `docker compose up` starts neither.
    for (const service of ['prometheus', 'grafana']) {
      expect(compose).toMatch(new RegExp(`^  ${service}:\\n(?:    .*\\n)*?    profiles: \\['monitoring'\\]`, 'm'));
    }
  });

  it('keeps the YAML files free of tabs, which YAML forbids as indentation', () => {
    for (const file of [
      'docker-compose.yml',
      'deploy/prometheus.yml',
      'deploy/grafana/provisioning/datasources/prometheus.yml',
      'deploy/grafana/provisioning/dashboards/echo-relay.yml',
    ]) {
      expect({ file, tabs: read(file).includes('\t') }).toEqual({ file, tabs: false });
    }
  });
});
