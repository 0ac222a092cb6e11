// The dashboard's server side, mounted on the control plane's API server: it scrapes every
// proxy's /stats/prometheus every few seconds into MeshMetrics, and answers
//   GET / and /dashboard          the page (page.ts; scripts from /dashboard/assets/, built
//                                 from src/dashboard/client/ by `npm run build`)
//   GET /api/graph?window=S       the service graph over the last S seconds (default 60)
//   GET /api/services?points=N    per-service golden metrics and their last N points
//   GET /api/config               the applied resources and their validation diagnostics
//   GET /api/tap?pod=...          a proxy's live tap as Server-Sent Events (tap-relay.ts)
//   GET /api/proxy/<page>?pod=    a proxy's admin page (admin-relay.ts; `strait proxy-config`)
// Everything is served from this process: no CDN, works offline.

import { loopbackHost } from '../common/same-machine.js';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock, Timer } from '../common/clock.js';
import { fetchAdminText, relayAdminPage, RELAYED_PAGES } from './admin-relay.js';
import { MeshMetrics, ratesOf, sumTotals } from './mesh-metrics.js';
import type { EdgeLabels, Rates } from './mesh-metrics.js';
import type { MeshView } from './mesh-view.js';
import { dashboardPage } from './page.js';
import { buildServiceGraph } from './service-graph.js';
import type { ServiceGraph } from './service-graph.js';
import { relayTap } from './tap-relay.js';

export interface DashboardOptions {
  /** How often every proxy is scraped (default 5 s, Prometheus' usual 15 s is too slow to watch). */
  readonly scrapeIntervalMs?: number;
  /** Rounds of samples kept (default 120: ten minutes at 5 s). */
  readonly maxRounds?: number;
}

export interface ServiceMetrics {
  readonly id: string;
  readonly name: string;
  readonly namespace: string;
  readonly reporter: string;
  readonly rates: Rates;
  readonly series: { t: number; rps: number; errorRate: number | null; p50: number | null; p99: number | null }[];
}

/** Where the compiled client scripts are: beside this module in dist, or dist's copy when run from src. */
function assetDirs(): string[] {
  const here = path.dirname(fileURLToPath(import.meta.url));
  return [path.join(here, 'client'), path.resolve(here, '../../dist/dashboard/client')];
}

const ASSET = /^\/dashboard\/assets\/([a-z0-9-]+\.js)$/;

// Re-exported: the dashboard's tests and callers name it here.
export { loopbackHost };

export class Dashboard {
  readonly metrics: MeshMetrics;
  private readonly intervalMs: number;
  private timer: Timer | null = null;
  private stopped = false;
  private scraping: Promise<void> | null = null;

  constructor(private readonly view: MeshView, private readonly clock: Clock, opts: DashboardOptions = {}) {
    this.intervalMs = opts.scrapeIntervalMs ?? 5000;
    this.metrics = new MeshMetrics({ maxRounds: opts.maxRounds ?? 120 });
  }

  start(): void {
    this.stopped = false;
    const tick = () => {
      this.timer = null;
      this.scraping = this.scrapeRound().finally(() => {
        this.scraping = null;
        if (!this.stopped) this.timer = this.clock.setTimer(this.intervalMs, tick);
      });
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    await this.scraping;
  }

  /** One round: every proxy's istio_* series, then the round's points. A proxy that fails is skipped. */
  async scrapeRound(): Promise<void> {
    const pods = this.view.pods().filter((p) => p.adminUrl !== null);
    const ids = new Set(pods.map((p) => `${p.namespace}/${p.name}`));
    const texts = await Promise.all(pods.map((p) => fetchAdminText(p.adminUrl!, 'stats/prometheus', Math.min(3000, this.intervalMs)).catch(() => null)));
    pods.forEach((p, i) => {
      const t = texts[i];
      if (t !== null && t !== undefined) this.metrics.ingest(`${p.namespace}/${p.name}`, t, this.view.proxiesStartAfterControlPlane);
    });
    for (const id of this.metrics.proxyIds()) if (!ids.has(id)) this.metrics.forgetProxy(id);
    this.metrics.endRound(this.clock.now());
  }

  private roundsFor(seconds: number): number {
    return Math.max(1, Math.ceil((seconds * 1000) / this.intervalMs));
  }

  graph(windowSeconds = 60): ServiceGraph {
    const n = this.roundsFor(windowSeconds);
    const known = this.view
      .pods()
      .filter((p) => p.adminUrl !== null)
      .map((p) => ({ name: p.workload, namespace: p.namespace, gateway: p.gateway }));
    return buildServiceGraph(this.metrics.totals(n), this.metrics.windowSeconds(n), known);
  }

  services(windowSeconds = 60, points = 60): { windowSeconds: number; intervalSeconds: number; services: ServiceMetrics[] } {
    const n = this.roundsFor(windowSeconds);
    const all = this.metrics.totals(this.metrics.rounds);
    const byService = new Map<string, { labels: EdgeLabels; destination: boolean }>();
    for (const { labels } of all) {
      if (labels.destinationService === 'unknown') continue;
      const s = byService.get(labels.destinationService);
      if (!s) byService.set(labels.destinationService, { labels, destination: labels.reporter === 'destination' });
      else if (labels.reporter === 'destination') s.destination = true;
    }
    const seconds = this.metrics.windowSeconds(n);
    const window = this.metrics.totals(n);
    const services: ServiceMetrics[] = [...byService.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([fqdn, s]) => {
        const reporter = s.destination ? 'destination' : 'source';
        const pick = (l: EdgeLabels) => l.destinationService === fqdn && l.reporter === reporter;
        const rates = ratesOf(sumTotals(window.filter((e) => pick(e.labels)).map((e) => e.totals)), seconds);
        const series = this.metrics.series(pick, points, 3).map((p) => ({ t: p.t, rps: p.rates.rps, errorRate: p.rates.errorRate, p50: p.rates.p50, p99: p.rates.p99 }));
        return { id: fqdn, name: s.labels.destinationServiceName, namespace: s.labels.destinationServiceNamespace, reporter, rates, series };
      });
    return { windowSeconds: seconds, intervalSeconds: this.intervalMs / 1000, services };
  }

  /** Serves the dashboard's paths; false for any other path (the API server goes on). */
  handle(req: IncomingMessage, res: ServerResponse, url: URL): boolean {
    const p = url.pathname;
    const json = (status: number, v: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-cache' });
      res.end(JSON.stringify(v) + '\n');
    };
    if (req.method !== 'GET') return false;
    // DNS rebinding: a page elsewhere must not read the mesh through a name that resolves here.
    if (!loopbackHost(req.headers.host)) {
      json(403, { error: 'the dashboard answers on 127.0.0.1 or localhost only' });
      return true;
    }
    const num = (name: string, dflt: number, max: number) => Math.min(max, Math.max(1, Number(url.searchParams.get(name) ?? dflt) || dflt));
    if (p === '/' || p === '/dashboard' || p === '/dashboard/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' });
      res.end(dashboardPage());
      return true;
    }
    const asset = ASSET.exec(p);
    if (asset) {
      for (const dir of assetDirs()) {
        const file = path.join(dir, asset[1]!);
        if (fs.existsSync(file)) {
          res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-cache' });
          fs.createReadStream(file).pipe(res);
          return true;
        }
      }
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end(`${asset[1]} is not built: run \`npm run build\` (it compiles src/dashboard/client/)\n`);
      return true;
    }
    switch (p) {
      case '/api/graph':
        json(200, this.graph(num('window', 60, 3600)));
        return true;
      case '/api/services':
        json(200, this.services(num('window', 60, 3600), num('points', 60, 1000)));
        return true;
      case '/api/config':
        json(200, this.view.config());
        return true;
      case '/api/tap':
        relayTap(this.view, this.clock, url, req, res);
        return true;
    }
    if (p.startsWith('/api/proxy/')) {
      const page = p.slice('/api/proxy/'.length);
      if (!(RELAYED_PAGES as readonly string[]).includes(page)) {
        json(404, { error: `no relayed admin page "${page}"`, pages: RELAYED_PAGES });
        return true;
      }
      const ref = url.searchParams.get('pod') ?? '';
      const pod = this.view.pods().find((x) => `${x.namespace}/${x.name}` === ref);
      if (!pod) json(404, { error: `no pod "${ref}" (give namespace/name)` });
      else if (!pod.adminUrl) json(400, { error: `pod ${ref} has no proxy` });
      else {
        const rest = new URLSearchParams(url.searchParams);
        rest.delete('pod');
        relayAdminPage(pod.adminUrl, page, rest.size > 0 ? `?${rest}` : '', res);
      }
      return true;
    }
    return false;
  }
}
