// Workload identity end to end under live traffic: a real mesh CA behind the control plane's gRPC
// port, two real proxies on their own loopback addresses (client sidecar `sleep`, server sidecar
// `httpbin`), each with its identity agent and bootstrap token, and a client sending a steady
// stream of requests through sleep's sidecar → mTLS → httpbin's sidecar → the workload.
//
// The CA and the agents run on a manual clock that starts 14 hours in the past, so that moving it
// past half the 24 h lifetime brings it close to the real time that TLS checks validity against.
// Certificate renewal and a root rotation (with the overlapping bundle, then the old root
// retired) happen while the stream runs: no request may fail, and the server must see the new
// client certificate on the new connections. Also: a proxy with a wrong or missing token gets no
// certificate, never reports ready, and says why.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { BootstrapTokens } from '../../src/ca/bootstrap-tokens.js';
import { CertificateAuthority } from '../../src/ca/certificate-authority.js';
import { ManualClockForTest, systemClock } from '../../src/common/clock.js';
import { seededRandom } from '../../src/common/random.js';
import { ConfigStore } from '../../src/config/config-store.js';
import { loadConfigText } from '../../src/config/load-config.js';
import { ControlPlane } from '../../src/controlplane/control-plane.js';
import { proxyNodeId } from '../../src/controlplane/model/proxy-node.js';
import { certsView } from '../../src/dataplane/admin/certs.js';
import type { IdentityAgent } from '../../src/dataplane/identity/identity-agent.js';
import { startProxyIdentity } from '../../src/dataplane/identity/proxy-identity.js';
import { Proxy } from '../../src/dataplane/proxy.js';
import { AddressBlock } from '../../src/local/address-block.js';
import type { PodAddresses } from '../../src/local/address-block.js';
import { servicesFromConfig } from '../../src/registry/config-services.js';
import { DEFAULT_GATEWAY } from '../../src/registry/config-services.js';
import type { Workload } from '../../src/registry/registry.js';
import { eventually } from '../helpers/http.js';

const HOUR = 3600e3;
const SERVICE_HOST = 'httpbin.default.svc.cluster.local:8000';

interface Pod {
  readonly name: string;
  readonly sa: string;
  readonly addr: PodAddresses;
  proxy?: Proxy;
  agent?: IdentityAgent;
  readonly logs: string[];
}

/** The server workload: answers 200 and records the XFCC hash (the client certificate's SHA-256) of each request. */
interface App {
  readonly port: number;
  readonly seen: { hash: string; uri: string }[];
  close(): Promise<void>;
}

async function startApp(host: string): Promise<App> {
  const seen: App['seen'] = [];
  const server = http.createServer((req, res) => {
    const xfcc = String(req.headers['x-forwarded-client-cert'] ?? '');
    seen.push({ hash: /Hash=([0-9a-f]+)/.exec(xfcc)?.[1] ?? '', uri: /URI=([^;,]+)/.exec(xfcc)?.[1] ?? '' });
    req.resume();
    req.on('end', () => res.end('ok'));
  });
  await new Promise<void>((r) => server.listen(0, host, r));
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/**
 * Requests in a loop through the client sidecar's outbound listener over kept-alive connections,
 * `parallel` at a time, until stopped; every failure (error or non-200) is recorded.
 */
function startStream(pod: Pod, parallel = 2): { ok: () => number; failures: string[]; stop: () => Promise<void> } {
  const agent = new http.Agent({ keepAlive: true, maxSockets: parallel });
  const failures: string[] = [];
  let ok = 0;
  let running = true;
  const one = () =>
    new Promise<void>((resolve) => {
      const req = http.request({ host: pod.addr.ip, port: 15001, path: '/get', headers: { host: SERVICE_HOST }, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          if (res.statusCode === 200) ok++;
          else failures.push(`${res.statusCode} ${String(res.headers['x-strait-flags'] ?? '')} ${Buffer.concat(chunks).toString().slice(0, 200)}`);
          resolve();
        });
      });
      req.on('error', (e) => {
        failures.push(`error ${e.message}`);
        resolve();
      });
      req.end();
    });
  const loops = Array.from({ length: parallel }, async () => {
    while (running) await one();
  });
  return {
    ok: () => ok,
    failures,
    stop: async () => {
      running = false;
      await Promise.all(loops);
      agent.destroy();
    },
  };
}

function fingerprint(pem: string): string {
  return new X509Certificate(pem).fingerprint256.replace(/:/g, '').toLowerCase();
}

function leafPem(agent: IdentityAgent): string {
  const chain = agent.certificateChain();
  assert.ok(chain, 'the agent holds a certificate');
  return /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/.exec(chain)![0];
}

const clock = new ManualClockForTest(systemClock.now() - 14 * HOUR);
const tokens = new BootstrapTokens();
const block = AddressBlock.random();
const client: Pod = { name: 'sleep-0', sa: 'sleep', addr: block.allocate(), logs: [] };
const server: Pod = { name: 'httpbin-0', sa: 'httpbin', addr: block.allocate(), logs: [] };
let ca: CertificateAuthority;
let cp: ControlPlane;
let caAddress: string;
let app: App;
const others: { proxy: Proxy; agent: IdentityAgent }[] = [];

function workload(p: Pod, ports: Workload['ports']): Workload {
  return { name: p.name, namespace: 'default', labels: { app: p.sa }, serviceAccount: p.sa, ip: p.addr.ip, ready: true, ports, hasSidecar: true };
}

function newProxy(p: { name: string; addr: PodAddresses; sa: string }, seed: number, log: (l: string) => void): Proxy {
  return new Proxy({
    bootstrap: {
      node: { id: proxyNodeId('sidecar', p.addr.ip, p.name, 'default', 'cluster.local'), metadata: { NAME: p.name, NAMESPACE: 'default', LABELS: { app: p.sa }, SERVICE_ACCOUNT: p.sa } },
      dynamicResources: { adsServer: caAddress },
    },
    addresses: { wildcard: p.addr.ip, localhost: p.addr.local },
    accessLogTarget: 'off',
    clock: systemClock,
    random: seededRandom(seed),
    log,
  });
}

async function startPod(p: Pod, seed: number): Promise<void> {
  const log = (l: string) => p.logs.push(l);
  p.proxy = newProxy(p, seed, log);
  const token = tokens.issue({ namespace: 'default', serviceAccount: p.sa, holder: `default/${p.name}` });
  p.agent = startProxyIdentity(p.proxy, { caAddress, token, clock, random: seededRandom(seed + 100), log });
  await p.proxy.start();
}

before(async () => {
  ca = await CertificateAuthority.open({ kind: 'memory' }, { trustDomain: 'cluster.local', clock });
  cp = new ControlPlane({ clock: systemClock, log: () => undefined, debounceMs: 10 });
  cp.serveCa(ca, tokens);
  caAddress = `127.0.0.1:${await cp.listen('127.0.0.1', 0)}`;
  app = await startApp(server.addr.local);
  const { resources, diagnostics } = loadConfigText(
    `apiVersion: v1
kind: Service
metadata: { name: httpbin, namespace: default }
spec:
  selector: { app: httpbin }
  ports: [{ name: http, port: 8000, targetPort: ${app.port} }]
`,
    'mesh.yaml',
  );
  assert.deepEqual(diagnostics.filter((d) => d.severity === 'error'), []);
  const store = new ConfigStore(resources);
  cp.update({
    store,
    registry: {
      services: servicesFromConfig(store, 'cluster.local', { ...DEFAULT_GATEWAY, bindPort: () => 0 }),
      workloads: [workload(client, []), workload(server, [{ name: 'http', port: app.port }])],
    },
  });
  await startPod(server, 1);
  await startPod(client, 2);
  await eventually(() => server.proxy!.ready() && client.proxy!.ready(), 'both proxies ready (config and a workload certificate)');
});

after(async () => {
  for (const p of [client, server]) {
    p.agent?.stop();
    await p.proxy?.stop();
  }
  for (const o of others) {
    o.agent.stop();
    await o.proxy.stop();
  }
  await cp.close();
  await app.close();
});

describe('workload certificates under live traffic', () => {
  it('sidecar to sidecar is mTLS 1.3 with the CA-issued identities, over pooled connections', async () => {
    const stream = startStream(client);
    await eventually(() => stream.ok() >= 50, '50 requests through the mesh');
    await stream.stop();
    assert.deepEqual(stream.failures, []);
    const last = app.seen.at(-1)!;
    assert.equal(last.uri, 'spiffe://cluster.local/ns/default/sa/sleep');
    assert.equal(last.hash, fingerprint(leafPem(client.agent!)));
    const stats = client.proxy!.stats.envoyText();
    const stat = (name: string) => Number(new RegExp(`^cluster\\.outbound\\|8000\\|\\|httpbin\\.default\\.svc\\.cluster\\.local\\.${name.replace(/\./g, '\\.')}: (\\d+)$`, 'm').exec(stats)?.[1]);
    assert.ok(stat('ssl.versions.TLSv1.3') >= 1, stats);
    assert.equal(stat('ssl.versions.TLSv1.2'), 0);
    assert.equal(stat('ssl.handshake'), stat('upstream_cx_total'), 'one handshake per connection');
    assert.ok(stat('upstream_cx_total') <= 2, `at most one connection per parallel client, got ${stat('upstream_cx_total')}`);
    assert.ok(stat('upstream_rq_total') >= 50);
  });

  it('renews both certificates past half their lifetime with no failed request; the server sees the new client certificate on new connections', async () => {
    const firstClient = leafPem(client.agent!);
    const firstServer = leafPem(server.agent!);
    const stream = startStream(client);
    await eventually(() => stream.ok() >= 20, 'traffic before the renewal');
    const renewals = [client.agent!.status().renewals, server.agent!.status().renewals];
    const due = Math.max(...[client, server].map((p) => Date.parse(p.agent!.status().nextRenewal!)));
    const fraction = (due - clock.now()) / (24 * HOUR);
    assert.ok(fraction > 0.4 && fraction < 0.56, `renewal due at ${fraction} of the lifetime`);
    clock.advance(due - clock.now());
    await eventually(() => client.agent!.status().renewals > renewals[0]! && server.agent!.status().renewals > renewals[1]!, 'both agents renewed');
    const newHash = fingerprint(leafPem(client.agent!));
    assert.notEqual(newHash, fingerprint(firstClient));
    assert.notEqual(leafPem(server.agent!), firstServer);
    const seenBefore = app.seen.length;
    await eventually(() => app.seen.slice(seenBefore).some((s) => s.hash === newHash), 'the server seeing the renewed client certificate');
    const okAt = stream.ok();
    await eventually(() => stream.ok() >= okAt + 20, 'traffic after the renewal');
    await stream.stop();
    assert.deepEqual(stream.failures, [], 'no request failed during the renewal');
    // The server's admin view shows its renewed certificate.
    const certs = certsView(server.proxy!.current().secrets, systemClock.now()).certificates.find((c) => c.name === 'default');
    assert.equal(certs?.cert_chain[0]?.serial_number, server.agent!.status().serial);
    assert.deepEqual(certs?.cert_chain[0]?.subject_alt_names, [{ uri: 'spiffe://cluster.local/ns/default/sa/httpbin' }]);
  });

  it('follows a root rotation: overlapping bundle, early renewal onto the new root, old root retired, no failed request', async () => {
    const stream = startStream(client);
    await eventually(() => stream.ok() >= 20, 'traffic before the rotation');
    const oldRoot = ca.trustBundle()[0]!;
    await ca.rotateRoot();
    const newRoot = ca.trustBundle()[0]!;
    // Every proxy trusts both roots before anyone presents a certificate from the new one.
    await eventually(() => [client, server].every((p) => p.agent!.status().roots.length === 2), 'both proxies trusting [new, old]');
    for (const p of [client, server]) assert.ok(Date.parse(p.agent!.status().nextRenewal!) - clock.now() <= 5 * 60_000, `${p.name} renews early`);
    clock.advance(5 * 60_000);
    const onNewRoot = (p: Pod) => new X509Certificate(leafPem(p.agent!)).verify(new X509Certificate(newRoot).publicKey);
    await eventually(() => onNewRoot(client) && onNewRoot(server), 'both renewed under the new root');
    const newHash = fingerprint(leafPem(client.agent!));
    const seenBefore = app.seen.length;
    await eventually(() => app.seen.slice(seenBefore).some((s) => s.hash === newHash), 'the server seeing the client certificate from the new root');
    assert.deepEqual(ca.rootStatus().map((r) => [r.signing, r.outstanding > 0]), [[true, true], [false, true]]);
    // Retire the old root: both proxies drop it from ROOTCA and keep talking.
    assert.deepEqual(ca.retireRoots(), [new X509Certificate(oldRoot).fingerprint256]);
    await eventually(() => [client, server].every((p) => p.agent!.status().roots.length === 1), 'both proxies trusting the new root only');
    const okAt = stream.ok();
    await eventually(() => stream.ok() >= okAt + 20, 'traffic after the retirement');
    await stream.stop();
    assert.deepEqual(stream.failures, [], 'no request failed during the root rotation');
  });
});

describe('a proxy must prove who it is', () => {
  for (const [what, token] of [
    ['a wrong token', 'not-a-token'],
    ['no token', null],
  ] as const) {
    it(`with ${what} it gets no certificate, is never ready, and says why`, async () => {
      const logs: string[] = [];
      const pod = { name: `stranger-${token ? 'wrong' : 'none'}`, sa: 'httpbin', addr: block.allocate() };
      const proxy = newProxy(pod, 9, (l) => logs.push(l));
      const agent = startProxyIdentity(proxy, { caAddress, token, clock, random: seededRandom(9), log: (l) => logs.push(l) });
      others.push({ proxy, agent });
      await proxy.start();
      await eventually(() => agent.status().failures >= 1, 'the refused request');
      const st = agent.status();
      assert.equal(st.serial, null);
      assert.equal(st.state, 'retrying');
      assert.match(st.lastError!, token ? /UNAUTHENTICATED: unknown or revoked token/ : /UNAUTHENTICATED: missing authorization: Bearer <token> metadata/);
      assert.match(logs.join('\n'), /identity: cannot get a certificate \(attempt 1\): CA 127\.0\.0\.1:\d+: UNAUTHENTICATED/);
      assert.equal(proxy.ready(), false);
      assert.deepEqual(proxy.pendingReadinessGates(), ['a workload certificate from the mesh CA']);
      assert.equal(proxy.current().secrets.has('default'), false);
    });
  }
});
