// Request rates, error rates and latency quantiles of the mesh, computed in the control plane
// from successive scrapes of every proxy's Istio standard metrics (istio_requests_total and
// istio_request_duration_milliseconds, MET-01/02; labels from istio.io's metrics reference).
//
// TCP traffic comes from istio_tcp_connections_opened_total and the sent/received byte counters.
//
// A scrape round reads each proxy's exposition; each counter's increase since that proxy's
// previous scrape (a decrease is a restarted proxy: the new value is the increase) is added to
// an edge key made of the labels the dashboard shows (reporter, source workload, destination
// service and workload, connection security). When the round ends, each key that saw requests
// gets one point in a ring of the last `maxRounds` rounds. Memory is bounded by
// keys × maxRounds; keys come from bounded label sets (never paths) and are capped besides.

import { parsePrometheusText } from './prom-text.js';
import type { Sample } from './prom-text.js';
import { addBuckets, histogramQuantile } from './histogram.js';

export const REQUESTS_TOTAL = 'istio_requests_total';
export const DURATION_BUCKET = 'istio_request_duration_milliseconds_bucket';
export const TCP_OPENED = 'istio_tcp_connections_opened_total';
const TCP_BYTES = ['istio_tcp_sent_bytes_total', 'istio_tcp_received_bytes_total'];
const FAMILIES = [REQUESTS_TOTAL, DURATION_BUCKET, TCP_OPENED, ...TCP_BYTES];

/** The labels of one edge of traffic, as the proxies report them. */
export interface EdgeLabels {
  /** `source` (the client's proxy) or `destination` (the server's proxy). */
  readonly reporter: string;
  readonly sourceWorkload: string;
  readonly sourceNamespace: string;
  readonly sourcePrincipal: string;
  /** FQDN, e.g. backend.default.svc.cluster.local (`unknown` when the proxy could not tell). */
  readonly destinationService: string;
  readonly destinationServiceName: string;
  readonly destinationServiceNamespace: string;
  readonly destinationWorkload: string;
  readonly destinationNamespace: string;
  readonly destinationPrincipal: string;
  /** `mutual_tls`, `none` or `unknown` (source-reported series do not know). */
  readonly security: string;
}

/** What a key accumulated over some rounds. */
export interface Totals {
  requests: number;
  errors: number;
  /** Cumulative latency buckets (ms → count) of the requests. */
  readonly buckets: Map<number, number>;
  /** TCP connections opened, and bytes both ways. */
  connections: number;
  bytes: number;
}

export function emptyTotals(): Totals {
  return { requests: 0, errors: 0, buckets: new Map(), connections: 0, bytes: 0 };
}

function addTotals(into: Totals, from: Totals): void {
  into.requests += from.requests;
  into.errors += from.errors;
  addBuckets(into.buckets, from.buckets);
  into.connections += from.connections;
  into.bytes += from.bytes;
}

interface Point extends Totals {
  readonly round: number;
}

interface KeySeries {
  readonly labels: EdgeLabels;
  readonly points: Point[];
}

export interface Rates {
  /** Requests per second. */
  readonly rps: number;
  /** Share of requests that failed (5xx, or no response at all), 0..1; null without requests. */
  readonly errorRate: number | null;
  readonly p50: number | null;
  readonly p99: number | null;
  readonly requests: number;
  /** TCP connections opened per second, and bytes per second both ways. */
  readonly cps: number;
  readonly bytesPerSecond: number;
  readonly connections: number;
}

export interface MeshMetricsOptions {
  /** Rounds kept (with a 5 s interval, 120 rounds are 10 minutes). */
  readonly maxRounds?: number;
  /** At most this many edge keys; past it, new keys are ignored until old ones age out. */
  readonly maxKeys?: number;
}

function labelsOf(s: Sample): EdgeLabels {
  const l = s.labels;
  return {
    reporter: l.reporter ?? 'unknown',
    sourceWorkload: l.source_workload ?? 'unknown',
    sourceNamespace: l.source_workload_namespace ?? 'unknown',
    sourcePrincipal: l.source_principal ?? 'unknown',
    destinationService: l.destination_service ?? 'unknown',
    destinationServiceName: l.destination_service_name ?? 'unknown',
    destinationServiceNamespace: l.destination_service_namespace ?? 'unknown',
    destinationWorkload: l.destination_workload ?? 'unknown',
    destinationNamespace: l.destination_workload_namespace ?? 'unknown',
    destinationPrincipal: l.destination_principal ?? 'unknown',
    security: l.connection_security_policy ?? 'unknown',
  };
}

function keyOf(e: EdgeLabels): string {
  return [e.reporter, e.sourceWorkload, e.sourceNamespace, e.sourcePrincipal, e.destinationService, e.destinationServiceName, e.destinationServiceNamespace, e.destinationWorkload, e.destinationNamespace, e.destinationPrincipal, e.security].join('\u0001');
}

/** A series' identity inside one proxy's exposition: its name and every label. */
function seriesId(s: Sample): string {
  let id = s.name;
  for (const k of Object.keys(s.labels).sort()) id += `\u0001${k}=${s.labels[k]}`;
  return id;
}

function isError(code: string | undefined): boolean {
  const n = Number(code);
  return !Number.isFinite(n) || n === 0 || n >= 500;
}

export class MeshMetrics {
  private readonly maxRounds: number;
  private readonly maxKeys: number;
  /** Times (epoch ms) of the last maxRounds + 1 completed rounds, oldest first. */
  private readonly roundTimes: number[] = [];
  private roundNo = 0;
  private readonly prev = new Map<string, Map<string, number>>();
  private readonly pending = new Map<string, { labels: EdgeLabels; totals: Totals }>();
  private readonly keys = new Map<string, KeySeries>();

  constructor(opts: MeshMetricsOptions = {}) {
    this.maxRounds = opts.maxRounds ?? 120;
    this.maxKeys = opts.maxKeys ?? 2000;
  }

  /**
   * Adds one proxy's exposition to the round in progress. A proxy's first scrape is a baseline
   * only, unless `firstCountsWhole`: when whoever scrapes started the proxy (the local runner
   * does), its counters began at zero since then, so the first values are increases too.
   */
  ingest(proxyId: string, text: string, firstCountsWhole = false): void {
    const samples = parsePrometheusText(text, FAMILIES);
    const before = this.prev.get(proxyId);
    const now = new Map<string, number>();
    for (const s of samples) {
      if (!FAMILIES.includes(s.name)) continue;
      const id = seriesId(s);
      now.set(id, s.value);
      if (!before && !firstCountsWhole) continue;
      const last = before?.get(id);
      // A series new since the last scrape started at 0; a smaller value means a restart.
      const delta = last === undefined || s.value < last ? s.value : s.value - last;
      // Zero-delta buckets still matter: they are the lower bounds of the next ones.
      if (s.name === DURATION_BUCKET ? !(delta >= 0) : !(delta > 0)) continue;
      const labels = labelsOf(s);
      const key = keyOf(labels);
      let p = this.pending.get(key);
      if (!p) this.pending.set(key, (p = { labels, totals: emptyTotals() }));
      if (s.name === TCP_OPENED) p.totals.connections += delta;
      else if (s.name !== REQUESTS_TOTAL && s.name !== DURATION_BUCKET) p.totals.bytes += delta;
      else if (s.name === REQUESTS_TOTAL) {
        p.totals.requests += delta;
        if (isError(s.labels.response_code)) p.totals.errors += delta;
      } else {
        const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
        if (!Number.isNaN(le)) p.totals.buckets.set(le, (p.totals.buckets.get(le) ?? 0) + delta);
      }
    }
    this.prev.set(proxyId, now);
  }

  /** Forgets a proxy that is gone (its counters will not come back). */
  forgetProxy(proxyId: string): void {
    this.prev.delete(proxyId);
  }

  proxyIds(): string[] {
    return [...this.prev.keys()];
  }

  /** Ends the round in progress at time `t` (epoch ms). */
  endRound(t: number): void {
    this.roundNo++;
    this.roundTimes.push(t);
    if (this.roundTimes.length > this.maxRounds + 1) this.roundTimes.shift();
    for (const [key, p] of this.pending) {
      if (p.totals.requests <= 0 && p.totals.connections <= 0 && p.totals.bytes <= 0) continue;
      let ks = this.keys.get(key);
      if (!ks) {
        if (this.keys.size >= this.maxKeys) continue;
        this.keys.set(key, (ks = { labels: p.labels, points: [] }));
      }
      ks.points.push({ round: this.roundNo, ...p.totals });
    }
    this.pending.clear();
    const oldest = this.roundNo - this.maxRounds;
    for (const [key, ks] of this.keys) {
      while (ks.points.length > 0 && ks.points[0]!.round <= oldest) ks.points.shift();
      if (ks.points.length === 0) this.keys.delete(key);
    }
  }

  get rounds(): number {
    return this.roundNo;
  }

  /** Seconds covered by the last `n` rounds (0 before two rounds completed). */
  windowSeconds(n: number): number {
    const times = this.roundTimes;
    if (times.length < 2) return 0;
    const from = times[Math.max(0, times.length - 1 - n)]!;
    return (times[times.length - 1]! - from) / 1000;
  }

  /** Every key with its totals over the last `n` rounds (keys idle in that window have zeros). */
  totals(n: number): { labels: EdgeLabels; totals: Totals }[] {
    const since = this.roundNo - n;
    const out: { labels: EdgeLabels; totals: Totals }[] = [];
    for (const ks of this.keys.values()) {
      const t = emptyTotals();
      for (const p of ks.points) if (p.round > since) addTotals(t, p);
      out.push({ labels: ks.labels, totals: t });
    }
    return out;
  }

  /**
   * One point per round of the last `points` rounds for the keys `select` picks: rates over a
   * sliding window of `smooth` rounds ending at that round (time-series charts).
   */
  series(select: (l: EdgeLabels) => boolean, points: number, smooth = 3): { t: number; rates: Rates }[] {
    const chosen = [...this.keys.values()].filter((k) => select(k.labels));
    const out: { t: number; rates: Rates }[] = [];
    const times = this.roundTimes;
    const firstRound = this.roundNo - times.length + 1;
    for (let r = Math.max(firstRound + 1, this.roundNo - points + 1); r <= this.roundNo; r++) {
      const from = Math.max(firstRound, r - smooth);
      const seconds = (times[r - firstRound]! - times[from - firstRound]!) / 1000;
      const t = emptyTotals();
      for (const k of chosen) for (const p of k.points) if (p.round > from && p.round <= r) addTotals(t, p);
      out.push({ t: times[r - firstRound]!, rates: ratesOf(t, seconds) });
    }
    return out;
  }
}

export function ratesOf(t: Totals, seconds: number): Rates {
  return {
    rps: seconds > 0 ? t.requests / seconds : 0,
    errorRate: t.requests > 0 ? t.errors / t.requests : null,
    p50: histogramQuantile(0.5, t.buckets),
    p99: histogramQuantile(0.99, t.buckets),
    requests: t.requests,
    cps: seconds > 0 ? t.connections / seconds : 0,
    bytesPerSecond: seconds > 0 ? t.bytes / seconds : 0,
    connections: t.connections,
  };
}

/** Sums totals. */
export function sumTotals(list: readonly Totals[]): Totals {
  const t = emptyTotals();
  for (const x of list) addTotals(t, x);
  return t;
}
