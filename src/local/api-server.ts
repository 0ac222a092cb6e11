// The HTTP API of a running `strait up` (127.0.0.1 only, default port 15014): what `strait
// status` and the dashboard read, and what `strait apply` / `strait delete` write. The dashboard
// (its page at / and /dashboard, /api/graph, /api/services, /api/config, /api/tap and the proxy
// admin relay /api/proxy/<page>?pod=) is served by src/dashboard/dashboard.ts.
// GET /api/status, GET /api/logs?pod=&container=&tail=, GET /api/diagnostics,
// POST /api/apply and /api/delete with {"file", "text"}; GET /api/ca, POST /api/ca/rotate-root
// and /api/ca/retire-roots (`strait ca`).

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { IngressState, LocalRunner } from './runner.js';
import { PROXY_CONTAINER } from './local-pod.js';
import type { SupervisedProcess } from './process-supervisor.js';
import type { IssuedSummary } from '../controlplane/control-plane.js';
import { systemClock } from '../common/clock.js';
import { sameMachine } from '../common/same-machine.js';
import { Dashboard } from '../dashboard/dashboard.js';
import { localMeshView } from '../dashboard/mesh-view.js';

export interface ContainerStatus {
  name: string;
  pid: number | null;
  running: boolean;
  ready: boolean;
  restarts: number;
  lastExit: { code: number | null; signal: string | null; at: number } | null;
}

export interface PodStatus {
  name: string;
  namespace: string;
  owner: string;
  labels: Record<string, string>;
  /** The workload's SERVICE_ACCOUNT (what `strait exec` gives a command). */
  serviceAccount: string;
  ip: string;
  localAddress: string;
  phase: 'Pending' | 'Running' | 'Terminating';
  ready: boolean;
  sidecar: boolean;
  containers: ContainerStatus[];
  proxy: {
    type: 'sidecar' | 'router';
    adminUrl: string;
    connected: boolean;
    synced: boolean;
    /** Snapshot version the proxy has acknowledged in full (-1 before the first). */
    syncedSnapshot: number;
    versions: Record<string, { sent: string; acked: string; nack: string | null }>;
    /** The workload certificate the CA last issued to this pod's proxy (null: none yet). */
    certificate: IssuedSummary | null;
  } | null;
}

export interface MeshStatus {
  controlPlane: {
    xds: string;
    api: string;
    snapshot: number;
    configGeneration: number;
    files: string[];
    errors: number;
    warnings: number;
    lastReload: { at: number; ok: boolean; message: string } | null;
    /** The mesh CA: where its material comes from, and the roots proxies trust. */
    ca: {
      source: string;
      trustDomain: string;
      dir: string | null;
      roots: { fingerprint: string; notAfter: string; signing: boolean; outstanding: number }[];
    } | null;
  };
  gateways: { url: string; gateway: string; port: number; hosts: readonly string[] }[];
  ingresses: IngressState[];
  pods: PodStatus[];
}

/** GET /api/ca: the CA's roots and the certificate each proxy was issued last. */
export interface CaStatus {
  readonly ca: MeshStatus['controlPlane']['ca'];
  readonly certificates: { holder: string; spiffeId: string; serial: string; notBefore: string; notAfter: string; root: string }[];
}

function caSummary(runner: LocalRunner): MeshStatus['controlPlane']['ca'] {
  const ca = runner.cp.certificateAuthority;
  if (!ca) return null;
  return {
    source: ca.source,
    trustDomain: ca.trustDomain,
    dir: ca.signerStatus().dir,
    roots: ca.rootStatus().map((r) => ({ fingerprint: r.fingerprint, notAfter: r.notAfter, signing: r.signing, outstanding: r.outstanding })),
  };
}

export function caStatus(runner: LocalRunner): CaStatus {
  const certificates = [...runner.cp.issuedCertificates()].map(([holder, c]) => ({ holder, ...c })).sort((a, b) => (a.holder < b.holder ? -1 : 1));
  return { ca: caSummary(runner), certificates };
}

export function meshStatus(runner: LocalRunner, apiUrl: string): MeshStatus {
  const proxies = new Map(runner.cp.status().map((p) => [`${p.namespace}/${p.pod}`, p]));
  const diags = runner.diagnostics();
  const issued = runner.cp.issuedCertificates();
  return {
    controlPlane: {
      xds: runner.xdsAddress,
      api: apiUrl,
      snapshot: runner.cp.snapshot().version,
      configGeneration: runner.configGeneration,
      files: runner.configFiles(),
      errors: diags.filter((d) => d.severity === 'error').length,
      warnings: diags.filter((d) => d.severity === 'warning').length,
      lastReload: runner.lastReload,
      ca: caSummary(runner),
    },
    gateways: runner.gatewayUrls(),
    ingresses: runner.ingresses(),
    pods: runner.listPods().map((p) => {
      const containers: ContainerStatus[] = [];
      if (p.app) containers.push(proc(p.containerName ?? 'app', p.app, p.appReady));
      if (p.proxy) containers.push(proc(PROXY_CONTAINER, p.proxy, p.proxyReady));
      const x = proxies.get(`${p.spec.namespace}/${p.spec.name}`);
      return {
        name: p.spec.name,
        namespace: p.spec.namespace,
        owner: p.spec.owner,
        labels: { ...p.spec.labels },
        serviceAccount: p.spec.serviceAccount,
        ip: p.addresses.ip,
        localAddress: p.addresses.local,
        phase: p.terminating ? 'Terminating' : p.ready() ? 'Running' : 'Pending',
        ready: p.ready(),
        sidecar: p.spec.sidecar,
        containers,
        proxy: p.adminUrl
          ? {
              type: p.spec.kind === 'gateway' ? 'router' : 'sidecar',
              adminUrl: p.adminUrl,
              connected: x !== undefined,
              synced: x?.synced ?? false,
              syncedSnapshot: x?.syncedSnapshot ?? -1,
              versions: x?.types ?? {},
              certificate: issued.get(`${p.spec.namespace}/${p.spec.name}`) ?? null,
            }
          : null,
      };
    }),
  };
}

/** Reads a JSON request body (at most 16 MiB: manifests, not data). */
function readJson(req: http.IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > 16 * 1024 * 1024) {
        reject(new Error('request body over 16 MiB'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch (e) {
        reject(new Error(`the body is not JSON: ${(e as Error).message}`));
      }
    });
    req.on('error', reject);
  });
}

function proc(name: string, sp: SupervisedProcess, ready: boolean): ContainerStatus {
  return { name, pid: sp.pid ?? null, running: sp.running, ready, restarts: sp.restarts, lastExit: sp.lastExit };
}

export async function startApiServer(runner: LocalRunner, port: number): Promise<{ server: http.Server; url: string; dashboardUrl: string }> {
  let url = '';
  const dashboard = new Dashboard(localMeshView(runner), systemClock);
  const server = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://api');
    if (dashboard.handle(req, res, u)) return;
    const json = (status: number, v: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(v, null, 2) + '\n');
    };
    // The API changes the running mesh. A web page must not reach it: not through a name that
    // resolves to this machine (DNS rebinding: the Host is not loopback), nor by posting here
    // from another site (browsers send its Origin).
    if (!sameMachine(req)) return json(403, { error: 'the API answers only requests made on this machine (loopback Host, no foreign Origin)' });
    if (req.method === 'POST' && (u.pathname === '/api/apply' || u.pathname === '/api/delete')) {
      const del = u.pathname === '/api/delete';
      readJson(req).then(
        async (body) => {
          const b = body as { file?: unknown; text?: unknown };
          if (typeof b.file !== 'string' || typeof b.text !== 'string') return json(400, { error: 'expected {"file": "<name>", "text": "<manifests>"}' });
          const r = del ? await runner.delete(b.file, b.text) : await runner.apply(b.file, b.text);
          json(r.ok ? 200 : 422, r);
        },
        (e: Error) => json(400, { error: e.message }),
      );
      return;
    }
    if (req.method === 'POST' && (u.pathname === '/api/ca/rotate-root' || u.pathname === '/api/ca/retire-roots')) {
      const rotate = u.pathname === '/api/ca/rotate-root';
      (rotate ? runner.rotateRoot() : runner.retireRoots(u.searchParams.get('force') === 'true')).then(
        (message) => json(200, { message, ...caStatus(runner) }),
        (e: Error) => json(409, { error: e.message }),
      );
      return;
    }
    if (req.method !== 'GET') return json(405, { error: 'use GET, or POST /api/apply, /api/delete, /api/ca/rotate-root and /api/ca/retire-roots' });
    switch (u.pathname) {
      case '/api/status':
        return json(200, meshStatus(runner, url));
      case '/api/diagnostics':
        return json(200, runner.diagnostics());
      case '/api/ca':
        return json(200, caStatus(runner));
      case '/api/logs': {
        const podName = u.searchParams.get('pod') ?? '';
        const pod = runner.listPods().find((p) => p.spec.name === podName || `${p.spec.namespace}/${p.spec.name}` === podName);
        if (!pod) return json(404, { error: `no pod "${podName}"`, pods: runner.listPods().map((p) => `${p.spec.namespace}/${p.spec.name}`) });
        const container = u.searchParams.get('container') ?? pod.containerName ?? PROXY_CONTAINER;
        const buf = pod.logs.get(container);
        if (!buf) return json(404, { error: `pod ${podName} has no container "${container}"`, containers: [...pod.logs.keys()] });
        const tail = Number(u.searchParams.get('tail') ?? '2000');
        const after = Number(u.searchParams.get('after') ?? '0');
        res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(buf.read(after, tail).map((l) => l.line + '\n').join(''));
        return;
      }
      default:
        return json(404, { error: `unknown path ${u.pathname}`, paths: ['/api/status', '/api/logs?pod=&container=&tail=', '/api/diagnostics', '/api/ca', 'POST /api/apply', 'POST /api/delete', 'POST /api/ca/rotate-root', 'POST /api/ca/retire-roots', '/dashboard', '/api/graph', '/api/services', '/api/config', '/api/tap?pod=', '/api/proxy/<page>?pod='] });
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  dashboard.start();
  server.once('close', () => void dashboard.stop());
  return { server, url, dashboardUrl: `${url}/dashboard` };
}

