// Proxy statistics in Envoy's vocabulary. A stat is created once, when config is compiled (a
// cluster, a listener, an HCM), and the request path only bumps a number on an object it already
// holds. Each stat has an Envoy dotted name (`cluster.<name>.upstream_rq_total`, shown by the
// admin /stats page) and a Prometheus family with the name extracted into labels
// (`envoy_cluster_upstream_rq_total{cluster_name="<name>"}`), as Istio's proxies expose them.
// Families that only exist in Prometheus form (Istio's standard metrics, `istio_requests_total`)
// are registered with `labelled(...)`, each with a HELP text so the exposition lints clean.

export type Labels = Readonly<Record<string, string>>;

export interface Counter {
  value: number;
}

export interface Gauge {
  value: number;
}

export class Histogram {
  readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(readonly bounds: readonly number[]) {
    this.counts = new Array<number>(bounds.length + 1).fill(0);
  }

  record(v: number): void {
    let i = 0;
    while (i < this.bounds.length && v > this.bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += v;
    this.count++;
  }
}

type Kind = 'counter' | 'gauge' | 'histogram';

interface Entry {
  readonly kind: Kind;
  readonly envoyName: string;
  readonly family: string;
  readonly labels: Labels;
  readonly cell: Counter | Gauge | Histogram;
}

/** Envoy's default histogram buckets (milliseconds). */
export const DEFAULT_BUCKETS_MS = [0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000];

export class StatsRegistry {
  private readonly entries = new Map<string, Entry>();
  private readonly help = new Map<string, string>();

  /**
   * One series of a Prometheus-only family: `family{labels}` (labels in the given order). Call it
   * when a label combination is first seen and keep the cell; the request path only bumps it.
   */
  labelled(kind: 'counter', family: string, labels: Labels, help: string): Counter;
  labelled(kind: 'histogram', family: string, labels: Labels, help: string, bounds?: readonly number[]): Histogram;
  labelled(kind: 'counter' | 'histogram', family: string, labels: Labels, help: string, bounds: readonly number[] = DEFAULT_BUCKETS_MS): Counter | Histogram {
    if (!this.help.has(family)) this.help.set(family, help);
    return this.get(kind, `${family}${fmtLabels(labels)}`, family, labels, () => (kind === 'counter' ? { value: 0 } : new Histogram(bounds)));
  }

  /** A scope names a component instance: scope('cluster', { cluster_name: 'outbound|80||a' }). */
  scope(prefix: string, tags: Labels = {}, envoyInfix?: string): StatsScope {
    return new StatsScope(this, prefix, tags, envoyInfix ?? Object.values(tags).join('.'));
  }

  /** @internal used by StatsScope */
  get(kind: Kind, envoyName: string, family: string, labels: Labels, make: () => Counter | Gauge | Histogram): Counter | Gauge | Histogram {
    const key = `${family}|${labelKey(labels)}`;
    let e = this.entries.get(key);
    if (!e) {
      e = { kind, envoyName, family, labels, cell: make() };
      this.entries.set(key, e);
    } else if (e.kind !== kind) {
      throw new Error(`stat ${family} registered as ${e.kind} and ${kind}`);
    }
    return e.cell;
  }

  /** Envoy's /stats text: `name: value`, sorted by name. */
  envoyText(): string {
    const lines: string[] = [];
    for (const e of this.entries.values()) {
      if (e.kind === 'histogram') {
        const h = e.cell as Histogram;
        lines.push(`${e.envoyName}: count=${h.count} sum=${round(h.sum)}`);
      } else {
        lines.push(`${e.envoyName}: ${(e.cell as Counter).value}`);
      }
    }
    return lines.sort().join('\n') + '\n';
  }

  /** Prometheus text exposition format 0.0.4, one family per TYPE line. */
  prometheusText(): string {
    const families = new Map<string, Entry[]>();
    for (const e of this.entries.values()) {
      let list = families.get(e.family);
      if (!list) families.set(e.family, (list = []));
      list.push(e);
    }
    const out: string[] = [];
    for (const [family, list] of [...families.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const kind = list[0]!.kind;
      const help = this.help.get(family);
      if (help !== undefined) out.push(`# HELP ${family} ${help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`);
      out.push(`# TYPE ${family} ${kind}`);
      for (const e of list) {
        if (kind === 'histogram') {
          const h = e.cell as Histogram;
          let cumulative = 0;
          h.bounds.forEach((b, i) => {
            cumulative += h.counts[i]!;
            out.push(`${family}_bucket${fmtLabels({ ...e.labels, le: String(b) })} ${cumulative}`);
          });
          out.push(`${family}_bucket${fmtLabels({ ...e.labels, le: '+Inf' })} ${h.count}`);
          out.push(`${family}_sum${fmtLabels(e.labels)} ${round(h.sum)}`);
          out.push(`${family}_count${fmtLabels(e.labels)} ${h.count}`);
        } else {
          out.push(`${family}${fmtLabels(e.labels)} ${(e.cell as Counter).value}`);
        }
      }
    }
    return out.join('\n') + '\n';
  }

  /** Reads one stat by family and labels (tests, status). */
  valueOf(family: string, labels: Labels = {}): number | undefined {
    const e = this.entries.get(`${family}|${labelKey(labels)}`);
    if (!e) return undefined;
    return e.kind === 'histogram' ? (e.cell as Histogram).count : (e.cell as Counter).value;
  }
}

export class StatsScope {
  constructor(
    private readonly registry: StatsRegistry,
    private readonly prefix: string,
    private readonly tags: Labels,
    private readonly infix: string,
  ) {}

  private names(stat: string, extra: Labels, envoyStat?: string): [string, string, Labels] {
    const envoyName = [this.prefix, this.infix, envoyStat ?? stat].filter(Boolean).join('.');
    return [envoyName, `envoy_${this.prefix}_${stat}`, { ...this.tags, ...extra }];
  }

  counter(stat: string, extra: Labels = {}, envoyStat?: string): Counter {
    const [n, f, l] = this.names(stat, extra, envoyStat);
    return this.registry.get('counter', n, f, l, () => ({ value: 0 })) as Counter;
  }

  gauge(stat: string, extra: Labels = {}, envoyStat?: string): Gauge {
    const [n, f, l] = this.names(stat, extra, envoyStat);
    return this.registry.get('gauge', n, f, l, () => ({ value: 0 })) as Gauge;
  }

  histogram(stat: string, extra: Labels = {}, bounds: readonly number[] = DEFAULT_BUCKETS_MS): Histogram {
    const [n, f, l] = this.names(stat, extra);
    return this.registry.get('histogram', n, f, l, () => new Histogram(bounds)) as Histogram;
  }
}

function labelKey(labels: Labels): string {
  return Object.keys(labels).sort().map((k) => `${k}=${labels[k]}`).join(',');
}

function fmtLabels(labels: Labels): string {
  const keys = Object.keys(labels);
  if (keys.length === 0) return '';
  return `{${keys.map((k) => `${k}="${escapeLabel(labels[k]!)}"`).join(',')}}`;
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}
