// `strait exec`: finding the pod (name, prefix, deploy/NAME, namespace), the environment the
// command gets (the pod's sidecar as its proxy), and the command run against a fake API server:
// stdio passed through, exit status kept, errors explained.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import type { MeshStatus, PodStatus } from '../../local/api-server.js';
import { closeForTest, listenForTest } from '../../echo/test-support.js';
import { execEnv, findPod } from './exec.js';

function pod(name: string, owner: string, extra: Partial<PodStatus> = {}): PodStatus {
  return {
    name, namespace: owner.split('/')[0] || 'default', owner, labels: { app: name.split('-')[0]! }, serviceAccount: name.split('-')[0]!,
    ip: '127.10.0.2', localAddress: '127.10.0.3', phase: 'Running', ready: true, sidecar: true, containers: [], proxy: null, ...extra,
  };
}

const status = {
  pods: [
    pod('istio-ingressgateway-local-0', '', { namespace: 'istio-system', sidecar: false }),
    pod('sleep-1a2b3c4d5e-0', 'default/sleep', { phase: 'Terminating' }),
    pod('sleep-9f8e7d6c5b-0', 'default/sleep', { ip: '127.10.0.8', localAddress: '127.10.0.9', labels: { app: 'sleep' } }),
    pod('reviews-v1-aaaaaaaaaa-0', 'default/reviews-v1'),
    pod('reviews-v2-bbbbbbbbbb-0', 'default/reviews-v2'),
    pod('reviews-v2-bbbbbbbbbb-1', 'default/reviews-v2', { phase: 'Pending' }),
    pod('httpbin-cccccccccc-0', 'foo/httpbin'),
    pod('httpbin-dddddddddd-0', 'bar/httpbin'),
  ],
} as unknown as MeshStatus;

const found = (ref: string, ns?: string): string => {
  const r = findPod(status, ref, ns);
  return 'pod' in r ? `${r.pod.namespace}/${r.pod.name}` : `error: ${r.error}`;
};

test('findPod: exact name, Deployment name or deploy/NAME, unique prefix; running replicas first', () => {
  assert.equal(found('sleep-1a2b3c4d5e-0'), 'default/sleep-1a2b3c4d5e-0', 'an exact name wins even when terminating');
  assert.equal(found('pod/reviews-v1-aaaaaaaaaa-0'), 'default/reviews-v1-aaaaaaaaaa-0');
  assert.equal(found('sleep'), 'default/sleep-9f8e7d6c5b-0', 'the running replica, not the terminating one');
  assert.equal(found('deploy/sleep'), 'default/sleep-9f8e7d6c5b-0');
  assert.equal(found('deployment/reviews-v2'), 'default/reviews-v2-bbbbbbbbbb-0');
  assert.equal(found('reviews-v2'), 'default/reviews-v2-bbbbbbbbbb-0');
  assert.equal(found('reviews-v1-a'), 'default/reviews-v1-aaaaaaaaaa-0', 'a prefix');
  assert.equal(found('istio-ingress'), 'istio-system/istio-ingressgateway-local-0');
  assert.equal(found('httpbin', 'bar'), 'bar/httpbin-dddddddddd-0');
});

test('findPod: ambiguous and unknown names are errors that say what exists', () => {
  assert.match(found('reviews'), /^error: "reviews" matches pods of more than one workload: default\/reviews-v1-aaaaaaaaaa-0, default\/reviews-v2-bbbbbbbbbb-0, default\/reviews-v2-bbbbbbbbbb-1/);
  assert.match(found('httpbin'), /more than one workload/, 'same Deployment name in two namespaces');
  assert.match(found('ratings'), /^error: no pod "ratings" \(pods: istio-system\/istio-ingressgateway-local-0, default\/sleep/);
  assert.match(found('deploy/ratings'), /^error: no Deployment "ratings" has pods/);
  assert.match(found('sleep', 'foo'), /^error: no pod "sleep" in namespace foo \(pods: foo\/httpbin-cccccccccc-0\)/);
  assert.match(found('deploy/istio-ingressgateway'), /^error: no Deployment/, 'the gateway has no Deployment');
});

test('execEnv: the pod\'s sidecar as HTTP_PROXY (both spellings), NO_PROXY, POD_* variables; the shell\'s proxies dropped', () => {
  const p = (findPod(status, 'sleep') as { pod: PodStatus }).pod;
  const env = execEnv(p, { PATH: '/usr/bin', HOME: '/root', HTTPS_PROXY: 'http://corp:3128', ALL_PROXY: 'socks5://x', http_proxy: 'http://corp:3128', NODE_OPTIONS: '--import x' });
  assert.deepEqual(env, {
    PATH: '/usr/bin', HOME: '/root',
    POD_NAME: 'sleep-9f8e7d6c5b-0', POD_NAMESPACE: 'default', POD_IP: '127.10.0.8', SERVICE_ACCOUNT: 'sleep', POD_LABELS: '{"app":"sleep"}',
    HTTP_PROXY: 'http://127.10.0.8:15001', http_proxy: 'http://127.10.0.8:15001',
    NO_PROXY: 'localhost,127.0.0.1,127.10.0.9', no_proxy: 'localhost,127.0.0.1,127.10.0.9',
  });
  const gw = execEnv((findPod(status, 'istio-ingress') as { pod: PodStatus }).pod, { http_proxy: 'http://corp:3128' });
  assert.equal(gw.http_proxy, undefined, 'no sidecar: no proxy at all, not the shell\'s');
  assert.equal(gw.POD_NAMESPACE, 'istio-system');
});

const api = http.createServer((req, res) => {
  if (req.url !== '/api/status') return void res.writeHead(404).end();
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(status));
});
const apiUrl = await listenForTest(api);
after(() => closeForTest(api));

const mainTs = fileURLToPath(new URL('../main.ts', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

function strait(args: string[], stdin = ''): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', mainTs, ...args], { cwd: repoRoot, env: { PATH: process.env.PATH ?? '', http_proxy: 'http://corp:3128' } });
    let out = '';
    let err = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
    proc.on('exit', (code) => resolve({ code, out, err }));
    proc.stdin.end(stdin);
  });
}

const printEnv = 'const e = process.env; console.log(JSON.stringify({ p: e.http_proxy, n: e.POD_NAME, a: e.SERVICE_ACCOUNT }))';

test('strait exec POD -- CMD: runs with the pod\'s environment, passes stdio through, keeps the exit status', { timeout: 30_000 }, async () => {
  const r = await strait(['exec', '--server', apiUrl, 'sleep', '--', process.execPath, '-e', printEnv]);
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(JSON.parse(r.out), { p: 'http://127.10.0.8:15001', n: 'sleep-9f8e7d6c5b-0', a: 'sleep' });

  const io = await strait(['exec', '-it', '--server', apiUrl, 'deploy/sleep', '--', process.execPath, '-e', 'process.stdin.pipe(process.stdout); process.stderr.write("e"); process.stdin.on("end", () => process.exit(7))'], 'hello');
  assert.equal(io.code, 7);
  assert.equal(io.out, 'hello');
  assert.equal(io.err, 'e');
});

test('strait exec errors: unknown pod 1, command not found 127, no API 1, each with a message', { timeout: 30_000 }, async () => {
  const unknown = await strait(['exec', '--server', apiUrl, 'ratings', '--', 'true']);
  assert.equal(unknown.code, 1);
  assert.match(unknown.err, /^strait exec: no pod "ratings"/);
  const missing = await strait(['exec', '--server', apiUrl, 'sleep', '--', 'no-such-command-strait']);
  assert.equal(missing.code, 127);
  assert.match(missing.err, /cannot run "no-such-command-strait": command not found/);
  const down = await strait(['exec', '--server', 'http://127.0.0.1:1', 'sleep', '--', 'true']);
  assert.equal(down.code, 1);
  assert.match(down.err, /cannot reach http:\/\/127\.0\.0\.1:1 .*Is `strait up` running\?/);
});
