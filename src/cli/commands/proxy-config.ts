// `strait proxy-config listeners|routes|clusters|endpoints|secrets|all POD` and `strait
// proxy-status [POD]`: what one proxy runs and whether every proxy has what the control plane
// sent, in istioctl's tables (or `-o json|yaml`). The proxy's admin data comes through the
// control plane's API (/api/proxy/<path>?pod=), so the CLI needs only the API's address.

import { createRequire } from 'node:module';
import { stringify } from 'yaml';
import type { MeshStatus, PodStatus } from '../../local/api-server.js';
import { findPod } from './exec.js';
import {
  allRouteConfigs, clusterRows, clustersFiltered, CLUSTER_HEADER, dumpClusters, dumpListeners, endpointRows, ENDPOINT_HEADER, LISTENER_HEADER, listenerRows,
  listenersFiltered, parseClustersText, proxyStatusRows, PROXY_STATUS_HEADER, renderTable, routeRows, ROUTE_HEADER, secretRows, SECRET_HEADER, STATUS_TYPES, syncState,
} from '../proxy-config-format.js';
import type { CertsView, ConfigDump } from '../proxy-config-format.js';

export const PROXY_CONFIG_TYPES = ['listeners', 'routes', 'clusters', 'endpoints', 'secrets', 'all'] as const;
const ALIASES: Record<string, (typeof PROXY_CONFIG_TYPES)[number]> = { listener: 'listeners', l: 'listeners', route: 'routes', r: 'routes', cluster: 'clusters', c: 'clusters', endpoint: 'endpoints', ep: 'endpoints', secret: 'secrets', s: 'secrets' };

export interface ProxyConfigOptions {
  output?: string;
  server: string;
  namespace?: string;
  port?: string;
  address?: string;
  fqdn?: string;
  subset?: string;
  direction?: string;
  name?: string;
  cluster?: string;
  status?: string;
}

class CliError extends Error {}

/** The version in package.json (the local control plane runs this same build). */
function straitVersion(): string {
  try {
    return (createRequire(import.meta.url)('../../../package.json') as { version: string }).version;
  } catch {
    return '-';
  }
}

async function api(server: string, path: string): Promise<Response> {
  const url = `${server.replace(/\/$/, '')}${path}`;
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new CliError(`cannot reach ${server} (${(e as Error).message}). Is \`strait up\` running? Use --server URL.`);
  }
  if (!res.ok) {
    const body = await res.text();
    let msg = body.trim();
    try {
      msg = (JSON.parse(body) as { error?: string }).error ?? msg;
    } catch {
      // a plain-text error
    }
    throw new CliError(`${path.split('?')[0]}: HTTP ${res.status}: ${msg}`);
  }
  return res;
}

/** Finds the pod: names as `strait exec` takes them, plus istioctl's `<pod>.<namespace>`. */
export function resolveProxyPod(status: MeshStatus, ref: string, namespace?: string): PodStatus {
  let r = findPod(status, ref, namespace);
  const dot = ref.lastIndexOf('.');
  if ('error' in r && namespace === undefined && dot > 0 && status.pods.some((p) => p.namespace === ref.slice(dot + 1))) {
    r = findPod(status, ref.slice(0, dot), ref.slice(dot + 1));
  }
  if ('error' in r) throw new CliError(r.error);
  if (!r.pod.proxy) throw new CliError(`pod ${r.pod.namespace}/${r.pod.name} has no proxy (no sidecar)`);
  return r.pod;
}

function intOpt(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new CliError(`--${name} must be a port number (got "${v}")`);
  return n;
}

function print(output: string | undefined, data: unknown, table: () => string): void {
  if (output === 'json') process.stdout.write(JSON.stringify(data, null, 2) + '\n');
  else if (output === 'yaml') process.stdout.write(stringify(data));
  else process.stdout.write(table());
}

export async function runProxyConfig(typeArg: string, ref: string, opts: ProxyConfigOptions): Promise<number> {
  try {
    const type = (PROXY_CONFIG_TYPES as readonly string[]).includes(typeArg) ? (typeArg as (typeof PROXY_CONFIG_TYPES)[number]) : ALIASES[typeArg];
    if (!type) throw new CliError(`unknown config type "${typeArg}": use one of ${PROXY_CONFIG_TYPES.join(', ')}`);
    if (opts.output && !['table', 'short', 'json', 'yaml'].includes(opts.output)) throw new CliError(`-o must be table, json or yaml (got "${opts.output}")`);
    const status = (await (await api(opts.server, '/api/status')).json()) as MeshStatus;
    const pod = resolveProxyPod(status, ref, opts.namespace);
    const q = `?pod=${encodeURIComponent(`${pod.namespace}/${pod.name}`)}`;
    const dump = async () => (await (await api(opts.server, `/api/proxy/config_dump${q}`)).json()) as ConfigDump;
    const port = intOpt('port', opts.port);

    const show: Record<Exclude<typeof type, 'all'>, () => Promise<void>> = {
      listeners: async () => {
        const f = { port, address: opts.address };
        const ls = dumpListeners(await dump());
        print(opts.output, listenersFiltered(ls, f), () => renderTable(LISTENER_HEADER, listenerRows(ls, f)));
      },
      routes: async () => {
        const rcs = allRouteConfigs(await dump());
        print(opts.output, rcs.filter((r) => opts.name === undefined || r.name === opts.name), () => renderTable(ROUTE_HEADER, routeRows(rcs, { name: opts.name })));
      },
      clusters: async () => {
        const f = { fqdn: opts.fqdn, port, subset: opts.subset, direction: opts.direction };
        const cs = dumpClusters(await dump());
        print(opts.output, clustersFiltered(cs, f), () => renderTable(CLUSTER_HEADER, clusterRows(cs, f)));
      },
      endpoints: async () => {
        const hosts = parseClustersText(await (await api(opts.server, `/api/proxy/clusters${q}`)).text());
        const f = { cluster: opts.cluster, address: opts.address, port, status: opts.status };
        const rows = endpointRows(hosts, f);
        print(opts.output, rows.map(([endpoint, st, outlier, cluster]) => ({ endpoint, status: st, outlierCheck: outlier, cluster })), () => renderTable(ENDPOINT_HEADER, rows));
      },
      secrets: async () => {
        const certs = (await (await api(opts.server, `/api/proxy/certs${q}`)).json()) as CertsView;
        print(opts.output, certs, () => renderTable(SECRET_HEADER, secretRows(certs, Date.now())));
      },
    };
    if (type === 'all') {
      if (opts.output === 'json' || opts.output === 'yaml') {
        print(opts.output, await dump(), () => '');
      } else {
        for (const t of ['clusters', 'listeners', 'routes', 'endpoints', 'secrets'] as const) {
          process.stdout.write(`${t.toUpperCase()}\n`);
          await show[t]();
          process.stdout.write('\n');
        }
      }
    } else {
      await show[type]();
    }
    return 0;
  } catch (e) {
    if (e instanceof CliError) {
      process.stderr.write(`strait proxy-config: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

export async function runProxyStatus(ref: string | undefined, opts: { output?: string; server: string; namespace?: string }): Promise<number> {
  try {
    const status = (await (await api(opts.server, '/api/status')).json()) as MeshStatus;
    const version = straitVersion();
    if (ref === undefined) {
      const pods = status.pods.filter((p) => p.proxy && (opts.namespace === undefined || p.namespace === opts.namespace));
      const inputs = pods.map((p) => ({ name: p.name, namespace: p.namespace, connected: p.proxy!.connected, versions: p.proxy!.versions }));
      if (opts.output === 'json') {
        const json = inputs.map((p) => ({ ...p, state: Object.fromEntries(STATUS_TYPES.map((t) => [t, p.connected ? syncState(p.versions[t]) : 'DISCONNECTED'])) }));
        process.stdout.write(JSON.stringify({ controlPlane: status.controlPlane.xds, snapshot: status.controlPlane.snapshot, proxies: json }, null, 2) + '\n');
      } else {
        process.stdout.write(renderTable(PROXY_STATUS_HEADER, proxyStatusRows(inputs, `strait@${status.controlPlane.xds}`, version)));
      }
      return 0;
    }
    // One proxy: the control plane's sent/acknowledged versions next to what the proxy itself says it runs.
    const pod = resolveProxyPod(status, ref, opts.namespace);
    const info = (await (await api(opts.server, `/api/proxy/server_info?pod=${encodeURIComponent(`${pod.namespace}/${pod.name}`)}`)).json()) as {
      versions: Record<string, { version: string; rejected: { version: string; error: string } | null }>;
    };
    const rows = STATUS_TYPES.map((t) => {
      const cp = pod.proxy!.versions[t];
      const own = info.versions[t];
      const state = syncState(cp);
      const agree = !cp?.acked || !own ? '' : own.version === cp.acked ? '' : ' (proxy reports another version)';
      return { type: t, state: state + agree, sent: cp?.sent || '-', acked: cp?.acked || '-', proxy: own?.version || '-', error: cp?.nack ?? own?.rejected?.error ?? '' };
    });
    if (opts.output === 'json') {
      process.stdout.write(JSON.stringify({ pod: `${pod.namespace}/${pod.name}`, connected: pod.proxy!.connected, syncedSnapshot: pod.proxy!.syncedSnapshot, snapshot: status.controlPlane.snapshot, types: rows }, null, 2) + '\n');
      return 0;
    }
    const head = `${pod.name}.${pod.namespace}: ${pod.proxy!.connected ? 'connected' : 'DISCONNECTED'} to ${status.controlPlane.xds}; config of snapshot ${pod.proxy!.syncedSnapshot} of ${status.controlPlane.snapshot} acknowledged in full\n\n`;
    process.stdout.write(head + renderTable(['TYPE', 'STATE', 'CONTROL PLANE SENT', 'PROXY ACKED', 'PROXY RUNS', 'ERROR'], rows.map((r) => [r.type, r.state, r.sent, r.acked, r.proxy, r.error])));
    return 0;
  } catch (e) {
    if (e instanceof CliError) {
      process.stderr.write(`strait proxy-status: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}
