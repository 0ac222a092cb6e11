// The mesh path of the benchmark (issue 7, performance.md §8 step 1e): client sidecar → TLS with
// client certificates → server sidecar → origin, for Strait and for the nginx and HAProxy pairs it
// is compared with. Both proxies of a pair run pinned on the SUT CPU; certificates come from
// certs.ts (one mesh CA, a SPIFFE workload certificate per side).
//
// Strait's pair is two `strait proxy` processes from static bootstraps written as the control
// plane writes a sidecar's mesh mTLS (src/controlplane/generate/mesh-mtls.ts): the server side's
// listener chain has a DownstreamTlsContext with SDS secrets `default` / `ROOTCA` and requires a
// client certificate; the client side's cluster has an UpstreamTlsContext with the same secrets
// and checks the server's SPIFFE id (secure naming). The secrets are static secrets of the
// bootstrap (what the identity agent would install). With `metrics`, each side also runs Istio's
// istio.stats filter (reporter source / destination), as an Istio sidecar does.

import fs from 'node:fs';
import path from 'node:path';
import type { Bootstrap, Cluster, FilterChain, HttpFilter, Listener, Secret } from '../../src/xds/resources.js';
import { DOWNSTREAM_TLS_TYPE, HCM_FILTER_NAME, HCM_TYPE, ROUTER_FILTER_NAME, ROUTER_TYPE, TLS_TRANSPORT_SOCKET, UPSTREAM_TLS_TYPE } from '../../src/xds/resources.js';
import { workloadLabels } from '../../src/telemetry/metrics/labels.js';
import { statsFilter } from '../../src/telemetry/metrics/stats-config.js';
import { makeMeshCa, makeWorkloadCert, type PemFiles } from './certs.js';
import { HAPROXY } from './haproxy.js';
import { HOST, freePort, waitUntilAnswering } from './net.js';
import { common, startNginx, tempPaths } from './nginx.js';
import { spawnManaged, type Managed } from './processes.js';
import { STRAIT_MAIN, straitNodeFlags, withServices } from './strait.js';
import { spawnSync } from 'node:child_process';

export const SERVER_ID = 'spiffe://cluster.local/ns/bench/sa/server';
export const CLIENT_ID = 'spiffe://cluster.local/ns/bench/sa/client';
/** DNS SAN of the server certificate, for the peers that cannot check a URI SAN. */
const SERVER_DNS = 'server.bench.svc.cluster.local';

export interface MeshCerts {
  ca: PemFiles;
  server: PemFiles;
  client: PemFiles;
}

export function makeMeshCerts(dir: string): MeshCerts {
  const d = path.join(dir, 'certs');
  fs.mkdirSync(d, { recursive: true });
  const ca = makeMeshCa(d);
  return { ca, server: makeWorkloadCert(d, ca, 'server', SERVER_ID, SERVER_DNS), client: makeWorkloadCert(d, ca, 'client', CLIENT_ID, 'client.bench.svc.cluster.local') };
}

/** A running pair: requests go to `port` on the client side; `procs` are both proxies. */
export interface MeshPair {
  port: number;
  client: Managed;
  server: Managed;
  /** Strait only: the client sidecar's admin port (for upstream connection reuse). */
  clientAdminPort?: number;
}

const sds = (name: string) => ({ name, sdsConfig: { ads: {}, resourceApiVersion: 'V3' } });

function secrets(cert: PemFiles, ca: PemFiles): Secret[] {
  return [
    { name: 'default', tlsCertificate: { certificateChain: { inlineString: cert.cert }, privateKey: { inlineString: cert.key } } },
    { name: 'ROOTCA', validationContext: { trustedCa: { inlineString: ca.cert } } },
  ];
}

function chain(statPrefix: string, cluster: string, filters: HttpFilter[], extra: Partial<FilterChain> = {}): FilterChain {
  return {
    ...extra,
    filters: [
      {
        name: HCM_FILTER_NAME,
        typedConfig: {
          '@type': HCM_TYPE,
          statPrefix,
          routeConfig: { name: statPrefix, virtualHosts: [{ name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster, timeout: '0s' } }] }] },
          httpFilters: [...filters, { name: ROUTER_FILTER_NAME, typedConfig: { '@type': ROUTER_TYPE } }],
        },
      } as unknown as FilterChain['filters'][number],
    ],
  };
}

function cluster(name: string, port: number, transportSocket?: Cluster['transportSocket']): Cluster {
  return {
    name,
    type: 'STATIC',
    connectTimeout: '1s',
    loadAssignment: { clusterName: name, endpoints: [{ lbEndpoints: [{ endpoint: { address: { socketAddress: { address: HOST, portValue: port } } } }] }] },
    ...(transportSocket ? { transportSocket } : {}),
  };
}

function stats(reporter: 'source' | 'destination', name: string): HttpFilter[] {
  return [statsFilter({ reporter, local: workloadLabels({ name: `${name}-0`, namespace: 'bench', labels: { app: name } }, undefined) }) as unknown as HttpFilter];
}

function bootstrap(id: string, listener: Listener, clusters: Cluster[], secretList: Secret[]): Bootstrap {
  return {
    node: { id },
    admin: { address: { socketAddress: { address: HOST, portValue: 0 } } },
    staticResources: { listeners: [listener], clusters, secrets: secretList },
  };
}

export function straitServerBootstrap(certs: MeshCerts, originPort: number, metrics: boolean): Bootstrap {
  const tls = {
    name: TLS_TRANSPORT_SOCKET,
    typedConfig: {
      '@type': DOWNSTREAM_TLS_TYPE,
      commonTlsContext: { tlsCertificateSdsSecretConfigs: [sds('default')], validationContextSdsSecretConfig: sds('ROOTCA'), tlsParams: { tlsMinimumProtocolVersion: 'TLSv1_2', tlsMaximumProtocolVersion: 'TLSv1_3' } },
      requireClientCertificate: true,
    },
  } as unknown as FilterChain['transportSocket'];
  const listener: Listener = {
    name: 'inbound',
    address: { socketAddress: { address: HOST, portValue: 0 } },
    filterChains: [chain('inbound_mtls', 'inbound|80||', metrics ? stats('destination', 'server') : [], { name: 'mtls', transportSocket: tls })],
  };
  return bootstrap('sidecar~127.0.0.1~server-0.bench~bench.svc.cluster.local', listener, [cluster('inbound|80||', originPort)], secrets(certs.server, certs.ca));
}

export function straitClientBootstrap(certs: MeshCerts, serverPort: number, metrics: boolean): Bootstrap {
  const tls = {
    name: TLS_TRANSPORT_SOCKET,
    typedConfig: {
      '@type': UPSTREAM_TLS_TYPE,
      commonTlsContext: {
        tlsCertificateSdsSecretConfigs: [sds('default')],
        validationContextSdsSecretConfig: sds('ROOTCA'),
        validationContext: { matchSubjectAltNames: [{ exact: SERVER_ID }] },
        tlsParams: { tlsMinimumProtocolVersion: 'TLSv1_2', tlsMaximumProtocolVersion: 'TLSv1_3' },
      },
    },
  } as unknown as Cluster['transportSocket'];
  const name = 'outbound|80||server.bench.svc.cluster.local';
  const listener: Listener = { name: 'outbound', address: { socketAddress: { address: HOST, portValue: 0 } }, filterChains: [chain('outbound_0.0.0.0_80', name, metrics ? stats('source', 'client') : [])] };
  return bootstrap('sidecar~127.0.0.1~client-0.bench~bench.svc.cluster.local', listener, [cluster(name, serverPort, tls)], secrets(certs.client, certs.ca));
}

async function startStraitProxy(dir: string, name: string, b: Bootstrap, cpu: string | undefined): Promise<{ proc: Managed; port: number; adminPort: number }> {
  const file = path.join(dir, `${name}-bootstrap.json`);
  fs.writeFileSync(file, JSON.stringify(b, null, 2));
  const proc = spawnManaged({ name, command: process.execPath, args: [...straitNodeFlags(), STRAIT_MAIN, 'proxy', '--bootstrap', file, '--access-log', 'off'], cpu });
  const admin = await proc.waitForLine(/strait proxy: admin http:\/\/[\d.]+:(\d+)/, 15_000);
  const l = await proc.waitForLine(/strait proxy: listener \S+ on ([\d.]+):(\d+)/, 15_000);
  return { proc, port: Number(l[2]), adminPort: Number(admin[1]) };
}

export async function startStraitPair(dir: string, certs: MeshCerts, originPort: number, cpu: string | undefined, metrics: boolean, services = 0): Promise<MeshPair> {
  // Both sidecars get the mesh's services, as every sidecar of a mesh without Sidecar scoping does.
  const server = await startStraitProxy(dir, 'strait-server', withServices(straitServerBootstrap(certs, originPort, metrics), services, originPort), cpu);
  const client = await startStraitProxy(dir, 'strait-client', withServices(straitClientBootstrap(certs, server.port, metrics), services, originPort), cpu);
  await waitUntilAnswering(`http://${HOST}:${client.port}/`, client.proc);
  return { port: client.port, client: client.proc, server: server.proc, clientAdminPort: client.adminPort };
}

/** Upstream requests and connections of the client sidecar's cluster, from its admin /stats. */
export async function straitUpstreamCounts(adminPort: number): Promise<{ requests: number; connections: number }> {
  const text = await (await fetch(`http://${HOST}:${adminPort}/stats`)).text();
  const read = (stat: string) => Number(new RegExp(`^cluster\\.outbound\\|80\\|\\|server\\.bench\\.svc\\.cluster\\.local\\.${stat}: (\\d+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
  return { requests: read('upstream_rq_total'), connections: read('upstream_cx_total') };
}

export async function startNginxPair(dir: string, certs: MeshCerts, originPort: number, cpu: string | undefined): Promise<MeshPair> {
  const sport = await freePort();
  const serverConf = `${common(dir, 'nginx-server')}http {
  access_log off;
${tempPaths(dir, 'nginx-server')}
  keepalive_requests 100000000;
  keepalive_timeout 300s;
  upstream origin { server ${HOST}:${originPort}; keepalive 64; keepalive_requests 100000000; keepalive_timeout 300s; }
  server {
    listen ${HOST}:${sport} ssl backlog=4096;
    ssl_certificate ${certs.server.certFile};
    ssl_certificate_key ${certs.server.keyFile};
    ssl_client_certificate ${certs.ca.certFile};
    ssl_verify_client on;
    ssl_protocols TLSv1.2 TLSv1.3;
    location / { proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
`;
  const cport = await freePort();
  const clientConf = `${common(dir, 'nginx-client')}http {
  access_log off;
${tempPaths(dir, 'nginx-client')}
  keepalive_requests 100000000;
  keepalive_timeout 300s;
  upstream server_sidecar { server ${HOST}:${sport}; keepalive 64; keepalive_requests 100000000; keepalive_timeout 300s; }
  server {
    listen ${HOST}:${cport} backlog=4096;
    location / {
      proxy_pass https://server_sidecar;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_ssl_certificate ${certs.client.certFile};
      proxy_ssl_certificate_key ${certs.client.keyFile};
      proxy_ssl_trusted_certificate ${certs.ca.certFile};
      proxy_ssl_verify on;
      proxy_ssl_name ${SERVER_DNS};
      proxy_ssl_server_name on;
      proxy_ssl_session_reuse on;
      proxy_ssl_protocols TLSv1.2 TLSv1.3;
    }
  }
}
`;
  // The server side only answers TLS with a client certificate: start it unchecked, then check
  // the whole path through the client side.
  const serverPath = path.join(dir, 'nginx-server.conf');
  fs.writeFileSync(serverPath, serverConf);
  const server = spawnManaged({ name: 'nginx-server', command: '/usr/sbin/nginx', args: ['-p', dir, '-c', serverPath, '-e', path.join(dir, 'nginx-server-error.log'), '-g', 'daemon off; master_process off;'], cpu });
  const client = await startNginx('nginx-client', dir, clientConf, cport, cpu);
  await waitUntilAnswering(`http://${HOST}:${cport}/`, client);
  server.assertAlive();
  return { port: cport, client, server };
}

export async function startHaproxyPair(dir: string, certs: MeshCerts, originPort: number, cpu: string | undefined): Promise<MeshPair> {
  const sport = await freePort();
  const cport = await freePort();
  const defaults = `global
  nbthread 1
  maxconn 4096
  ssl-server-verify required

defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  timeout http-keep-alive 300s
  http-reuse always
`;
  const serverCfg = `# written by strait bench/lib/mesh.ts
${defaults}
frontend mesh_in
  bind ${HOST}:${sport} ssl crt ${certs.server.bundleFile} ca-file ${certs.ca.certFile} verify required ssl-min-ver TLSv1.2
  default_backend origin

backend origin
  server origin ${HOST}:${originPort}
`;
  const clientCfg = `# written by strait bench/lib/mesh.ts
${defaults}
frontend mesh_out
  bind ${HOST}:${cport}
  default_backend server_sidecar

backend server_sidecar
  server s ${HOST}:${sport} ssl crt ${certs.client.bundleFile} ca-file ${certs.ca.certFile} verify required verifyhost ${SERVER_DNS} sni str(${SERVER_DNS}) ssl-min-ver TLSv1.2
`;
  const procs: Managed[] = [];
  for (const [name, cfg] of [['haproxy-server', serverCfg], ['haproxy-client', clientCfg]] as const) {
    const p = path.join(dir, `${name}.cfg`);
    fs.writeFileSync(p, cfg);
    const check = spawnSync(HAPROXY, ['-c', '-q', '-f', p], { encoding: 'utf8' });
    if (check.status !== 0) throw new Error(`haproxy rejects ${name}:\n${check.stdout}${check.stderr}`);
    procs.push(spawnManaged({ name, command: HAPROXY, args: ['-db', '-f', p], cpu }));
  }
  await waitUntilAnswering(`http://${HOST}:${cport}/`, procs[1]!);
  return { port: cport, server: procs[0]!, client: procs[1]! };
}
