// The scenarios of kubernetes-sigs/ingress-controller-conformance (reference §1.3, ICC-01..29)
// against real `strait up` runs with the echo workload, whose JSON says which service answered.
// Two meshes, as the suite runs features apart: the rules features (host, path, class) share
// one; the default backend and load balancing features (an Ingress with only a default
// backend) need their own, since a default backend would take the requests that must get 404.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { haveOpenssl, makeCert } from '../helpers/certs.js';
import type { TestCert } from '../helpers/certs.js';
import { request } from '../helpers/http.js';
import { ROOT, startMesh } from '../helpers/strait-up.js';
import type { RunningMesh } from '../helpers/strait-up.js';

const run = promisify(execFile);
const FIXTURES = path.join(ROOT, 'test/fixtures/ingress-conformance');

interface Echo {
  service: string;
  podIP: string;
  host: string;
  method: string;
  path: string;
  proto: string;
  headers: Record<string, string>;
}

function indent(pem: string): string {
  return pem.split('\n').filter(Boolean).map((l) => `    ${l}\n`).join('');
}

function copyFixture(name: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `strait-icc-${name}-`));
  for (const f of fs.readdirSync(path.join(FIXTURES, name))) fs.copyFileSync(path.join(FIXTURES, name, f), path.join(dir, f));
  return dir;
}

/** GET `path` on the gateway's port 80 with a Host header; returns status and the echo body. */
async function get(mesh: RunningMesh, host: string, p: string, method = 'GET'): Promise<{ status: number; echo?: Echo; headers: Record<string, unknown> }> {
  const port = new URL(mesh.gatewayUrlFor(80)).port;
  const res = await request(`http://${mesh.gatewayAddress}:${port}${p}`, { method, headers: host ? { host, 'user-agent': 'Go-http-client/1.1' } : { 'user-agent': 'Go-http-client/1.1' } });
  return { status: res.status, echo: res.status === 200 ? (JSON.parse(res.body) as Echo) : undefined, headers: res.headers };
}

describe('rules features: host_rules, path_rules, ingress_class', { skip: haveOpenssl() ? false : 'openssl is not installed' }, () => {
  let mesh: RunningMesh;
  let dir: string;
  let cert: TestCert;

  before(async () => {
    dir = copyFixture('rules');
    cert = makeCert('foo.bar.com');
    fs.writeFileSync(
      path.join(dir, 'secret.yaml'),
      `apiVersion: v1\nkind: Secret\nmetadata: { name: conformance-tls, namespace: default }\ntype: kubernetes.io/tls\ndata:\n  tls.crt: ${Buffer.from(cert.cert).toString('base64')}\n  tls.key: ${Buffer.from(cert.key).toString('base64')}\n`,
    );
    // A second TLS host whose Secret is broken (its key belongs to another certificate): an
    // error at its file:line:col, and every other host keeps working.
    const other = makeCert('bad.example.com');
    fs.writeFileSync(
      path.join(dir, 'z-bad-secret.yaml'),
      `apiVersion: v1\nkind: Secret\nmetadata: { name: bad-tls, namespace: default }\ntype: kubernetes.io/tls\nstringData:\n  tls.crt: |\n${indent(other.cert)}  tls.key: |\n${indent(cert.key)}---\n` +
        `apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: { name: bad-tls, namespace: default }\nspec:\n  tls: [{ hosts: [bad.example.com], secretName: bad-tls }]\n  rules:\n  - host: bad.example.com\n    http: { paths: [{ path: /, pathType: Prefix, backend: { service: { name: foo-exact, port: { number: 8080 } } } }] }\n`,
    );
    mesh = await startMesh([dir]);
  });

  after(async () => {
    await mesh?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('a broken TLS Secret is an error at its position, and only its host loses HTTPS', async () => {
    assert.ok(mesh.output.some((l) => /z-bad-secret\.yaml:\d+:\d+: error: .*(does not match|private key)/.test(l)), 'no positioned error for the broken Secret');
    const https = new URL(mesh.gatewayUrlFor(443)).port;
    const bad = await run('sh', ['-c', `echo | openssl s_client -connect ${mesh.gatewayAddress}:${https} -servername bad.example.com 2>&1; true`]);
    assert.doesNotMatch(bad.stdout, /BEGIN CERTIFICATE/);
    assert.equal((await get(mesh, 'bad.example.com', '/')).echo?.service, 'foo-exact');
    const { stdout } = await run('curl', ['-s', '--cacert', cert.certFile, '--resolve', `foo.bar.com:${https}:${mesh.gatewayAddress}`, `https://foo.bar.com:${https}/`]);
    assert.equal((JSON.parse(stdout) as Echo).service, 'foo-bar-com');
  });

  test('ICC-07 TLS to foo.bar.com presents its certificate and reaches foo-bar-com', async () => {
    const https = new URL(mesh.gatewayUrlFor(443)).port;
    const { stdout } = await run('curl', ['-s', '--cacert', cert.certFile, '--resolve', `foo.bar.com:${https}:${mesh.gatewayAddress}`, `https://foo.bar.com:${https}/`]);
    const echo = JSON.parse(stdout) as Echo;
    assert.equal(echo.service, 'foo-bar-com');
    assert.equal(echo.host, `foo.bar.com:${https}`);
    const s = await run('sh', ['-c', `echo | openssl s_client -connect ${mesh.gatewayAddress}:${https} -servername foo.bar.com 2>/dev/null | openssl x509 -noout -subject -ext subjectAltName`]);
    assert.match(s.stdout, /DNS:foo\.bar\.com/);
  });

  const cases: [string, string, string, number, string?][] = [
    ['ICC-08 host rule over plain HTTP', 'foo.bar.com', '/', 200, 'foo-bar-com'],
    ['ICC-09 a host no rule names gets 404', 'subdomain.bar.com', '/', 404],
    ['ICC-10 the wildcard matches one label', 'bar.foo.com', '/', 200, 'wildcard-foo-com'],
    ['ICC-11 the wildcard does not match two labels', 'baz.bar.foo.com', '/', 404],
    ['ICC-12 the wildcard does not match zero labels', 'foo.com', '/', 404],
    ['ICC-15 exact path', 'exact-path-rules', '/foo', 200, 'foo-exact'],
    ['ICC-16 exact path, no trailing-slash match', 'exact-path-rules', '/foo/', 404],
    ['ICC-17 exact path is case-sensitive', 'exact-path-rules', '/FOO', 404],
    ['ICC-18 exact path, other path', 'exact-path-rules', '/bar', 404],
    ['ICC-19 prefix path', 'prefix-path-rules', '/foo', 200, 'foo-prefix'],
    ['ICC-20 prefix path ignores the trailing slash', 'prefix-path-rules', '/foo/', 200, 'foo-prefix'],
    ['ICC-21 prefix path is case-sensitive', 'prefix-path-rules', '/FOO', 404],
    ['ICC-22 the longest prefix wins', 'prefix-path-rules', '/aaa/bbb', 200, 'aaa-slash-bbb-prefix'],
    ['ICC-23 the longest prefix wins for a subpath', 'prefix-path-rules', '/aaa/bbb/ccc', 200, 'aaa-slash-bbb-prefix'],
    ['ICC-24 a shorter prefix takes the rest', 'prefix-path-rules', '/aaa/ccc', 200, 'aaa-prefix'],
    ['ICC-25 prefixes match whole elements', 'prefix-path-rules', '/aaaccc', 404],
    ['ICC-26 Exact is preferred over Prefix', 'mixed-path-rules', '/foo', 200, 'foo-exact'],
    ['ICC-27 a Prefix rule with a trailing slash matches without it', 'trailing-slash-path-rules', '/aaa/bbb', 200, 'aaa-slash-bbb-slash-prefix'],
    ['ICC-28 ... and with it', 'trailing-slash-path-rules', '/aaa/bbb/', 200, 'aaa-slash-bbb-slash-prefix'],
    ['ICC-29 an Exact rule with a trailing slash does not match without it', 'trailing-slash-path-rules', '/foo', 404],
    ['ICC-13 an Ingress of another class is not served', 'ingress-class', '/', 404],
  ];
  for (const [name, host, p, status, service] of cases) {
    test(name, async () => {
      const r = await get(mesh, host, p);
      assert.equal(r.status, status);
      if (service) {
        assert.equal(r.echo!.service, service);
        assert.equal(r.echo!.host, host, 'the backend sees the Host unchanged');
        assert.equal(r.echo!.path, p, 'the backend sees the path unchanged');
      }
    });
  }

  test('ING-18 strait status shows the address of served Ingresses, and why the other is ignored', async () => {
    const status = await mesh.status();
    const byName = new Map(status.ingresses.map((i) => [i.name, i]));
    const hostRules = byName.get('host-rules')!;
    assert.equal(hostRules.served, true);
    assert.equal(hostRules.loadBalancer.ingress[0]?.ip, mesh.gatewayAddress);
    assert.deepEqual(hostRules.loadBalancer.ingress[0]?.ports.map((p) => p.port), [8080, 8443]);
    const ignored = byName.get('ingress-class')!;
    assert.equal(ignored.served, false);
    assert.deepEqual(ignored.loadBalancer.ingress, []);
    assert.match(ignored.reason, /some-invalid-class-name/);
  });
});

describe('default_backend and load_balancing features', () => {
  let mesh: RunningMesh;
  let dir: string;

  before(async () => {
    dir = copyFixture('default');
    mesh = await startMesh([dir], { readyTimeoutMs: 120_000 });
  });

  after(async () => {
    await mesh?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  for (const [id, method, host, p] of [
    ['ICC-01', 'GET', 'my-host', '/'],
    ['ICC-02', 'GET', 'my-host', '/sub-path'],
    ['ICC-03', 'POST', 'some-host', '/'],
    ['ICC-04', 'PUT', '', '/resource'],
    ['ICC-05', 'DELETE', 'some-host', '/resource'],
    ['ICC-06', 'PATCH', 'my-host', '/resource'],
  ] as const) {
    test(`${id} ${method} ${host || '(no host)'}${p} goes to the default backend`, async () => {
      const r = await get(mesh, host, p, method);
      assert.equal(r.status, 200);
      assert.equal(r.echo!.service, 'echo-service');
      assert.equal(r.echo!.method, method);
      assert.equal(r.echo!.path, p);
      assert.equal(r.echo!.proto, 'HTTP/1.1');
      assert.equal(r.echo!.headers['user-agent'], 'Go-http-client/1.1');
      for (const h of ['content-length', 'content-type', 'date', 'server']) assert.ok(r.headers[h], `response header ${h} is missing`);
    });
  }

  test('ICC-14 100 requests reach all 10 replicas', async () => {
    const ips = new Set<string>();
    for (let i = 0; i < 100; i++) {
      const r = await get(mesh, 'load-balancing', '/');
      assert.equal(r.status, 200);
      ips.add(r.echo!.podIP);
    }
    assert.equal(ips.size, 10);
  });
});
