// The pod's merged metrics endpoint, after Istio's agent on :15020 (`prometheusMerge`):
// GET /stats/prometheus answers the proxy's own exposition (Envoy-style stats and Istio's
// standard metrics) followed by the application's, scraped from the port and path the pod's
// `prometheus.io/*` annotations name (ISTIO_PROMETHEUS_ANNOTATIONS, as Istio's injector passes
// them). An application that does not answer in time costs only its part: the proxy's metrics
// are served anyway. GET /healthz/ready mirrors the proxy's readiness, as the agent's does.

import http from 'node:http';

export const MERGED_METRICS_PORT = 15020;

/** Istio's ISTIO_PROMETHEUS_ANNOTATIONS: the pod's prometheus.io/{scrape,port,path} annotations. */
export interface AppScrape {
  readonly port: number;
  readonly path: string;
}

/** Reads ISTIO_PROMETHEUS_ANNOTATIONS (`{"scrape":"true","port":"9090","path":"/metrics"}`); undefined when there is nothing to scrape. */
export function appScrapeFromEnv(value: string | undefined): AppScrape | undefined {
  if (!value) return undefined;
  try {
    const a = JSON.parse(value) as { scrape?: string; port?: string; path?: string };
    const port = Number(a.port);
    if (a.scrape === 'false' || !Number.isInteger(port) || port < 1 || port > 65535) return undefined;
    return { port, path: a.path && a.path.startsWith('/') ? a.path : '/metrics' };
  } catch {
    return undefined;
  }
}

export interface MergedMetricsSource {
  /** The proxy's exposition (a promise when it is gathered from worker processes). */
  proxyText(): string | Promise<string>;
  ready(): boolean | Promise<boolean>;
}

/** The application's exposition, or '' (with a comment saying why) when it cannot be had within 2 s. */
async function scrapeApp(host: string, app: AppScrape): Promise<string> {
  try {
    const res = await fetch(`http://${host.includes(':') ? `[${host}]` : host}:${app.port}${app.path}`, { signal: AbortSignal.timeout(2000) });
    if (!res.ok) return `# application metrics: HTTP ${res.status}\n`;
    const text = await res.text();
    return text.endsWith('\n') || text === '' ? text : `${text}\n`;
  } catch (e) {
    return `# application metrics unavailable: ${(e as Error).message.replace(/\n/g, ' ')}\n`;
  }
}

export function startMergedMetricsServer(source: MergedMetricsSource, host: string, port: number, app: AppScrape | undefined): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz/ready') {
      void Promise.resolve(source.ready()).then((ok) => {
        res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' });
        res.end(ok ? 'ready\n' : 'not ready\n');
      });
      return;
    }
    if (path !== '/stats/prometheus') {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('merged metrics: GET /stats/prometheus, /healthz/ready\n');
      return;
    }
    const own = source.proxyText();
    void Promise.all([own, app ? scrapeApp(host, app) : '']).then(([ownText, appText]) => {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
      res.end(ownText + appText);
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
