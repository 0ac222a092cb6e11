// One proxy's stats when it runs as several worker processes (`strait proxy --workers N`): the
// admin front adds up what each worker's own admin reports, series by series, so /stats and
// /stats/prometheus read like one proxy's. Counters, gauges (active connections, requests)
// and histogram buckets, sums and counts add up across workers (buckets are cumulative per
// worker, so their sums are cumulative too); `server.live` is a state, not an amount, and is
// the minimum (live only when every worker is).

/** Series whose merged value is the minimum over workers rather than the sum. */
const STATE_SERIES = new Set(['server.live', 'envoy_server_live']);

function merge(name: string, a: number, b: number): number {
  return STATE_SERIES.has(name) ? Math.min(a, b) : a + b;
}

function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : String(Math.round(n * 1000) / 1000);
}

/** Prometheus text exposition from each worker → one exposition (first worker's order). */
export function mergePrometheusText(texts: readonly string[]): string {
  const order: string[] = [];
  const comments = new Set<string>();
  const values = new Map<string, number>();
  for (const text of texts) {
    for (const line of text.split('\n')) {
      if (line === '') continue;
      if (line.startsWith('#')) {
        if (!comments.has(line)) {
          comments.add(line);
          order.push(line);
        }
        continue;
      }
      const sp = line.lastIndexOf(' ');
      const series = line.slice(0, sp);
      const v = Number(line.slice(sp + 1));
      const prev = values.get(series);
      if (prev === undefined) {
        order.push(series);
        values.set(series, v);
      } else {
        const brace = series.indexOf('{');
        values.set(series, merge(brace < 0 ? series : series.slice(0, brace), prev, v));
      }
    }
  }
  return order.map((k) => (k.startsWith('#') ? k : `${k} ${fmt(values.get(k)!)}`)).join('\n') + '\n';
}

/** Envoy's /stats text (`name: value`, histograms `name: count=N sum=S`) from each worker → one. */
export function mergeEnvoyText(texts: readonly string[]): string {
  const values = new Map<string, number[]>();
  for (const text of texts) {
    for (const line of text.split('\n')) {
      const i = line.indexOf(': ');
      if (i < 0) continue;
      const name = line.slice(0, i);
      const rest = line.slice(i + 2);
      const nums = rest.startsWith('count=') ? rest.split(' ').map((p) => Number(p.slice(p.indexOf('=') + 1))) : [Number(rest)];
      const prev = values.get(name);
      values.set(name, prev ? prev.map((p, k) => merge(name, p, nums[k] ?? 0)) : nums);
    }
  }
  const lines = [...values].map(([name, v]) => (v.length === 2 ? `${name}: count=${fmt(v[0]!)} sum=${fmt(v[1]!)}` : `${name}: ${fmt(v[0]!)}`));
  return lines.sort().join('\n') + '\n';
}
