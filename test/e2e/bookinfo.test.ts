// Istio's Bookinfo end to end, manifests unchanged: `strait up` on examples/bookinfo/bookinfo.yaml
// and networking/bookinfo-gateway.yaml runs the four services from their Istio images (built-in
// implementations), and /productpage through the gateway shows details and reviews, with stars
// that vary as reviews is balanced over v1, v2 and v3 (no VirtualService yet). Also: login
// through the gateway, the JSON API, and `strait exec` into a pod, through its sidecar.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { request } from '../helpers/http.js';
import { CLI, startMesh } from '../helpers/strait-up.js';
import type { RunningMesh } from '../helpers/strait-up.js';

const run = promisify(execFile);

let mesh: RunningMesh;

before(async () => {
  mesh = await startMesh(['examples/bookinfo/bookinfo.yaml', 'examples/bookinfo/networking/bookinfo-gateway.yaml']);
});

after(async () => {
  await mesh?.stop();
});

/** What a rendered page says about its reviews: the version marker and the star colours. */
function reviewsOf(html: string): { version: string; colors: string[] } {
  const version = /data-reviews-version="([^"]+)"/.exec(html)?.[1] ?? 'none';
  const colors = [...html.matchAll(/<font color="([a-z]+)">/g)].map((m) => m[1]!);
  return { version, colors };
}

test('every Bookinfo pod runs from its Istio image, with a sidecar, and is ready', async () => {
  const status = await mesh.status();
  const names = status.pods.map((p) => p.name.replace(/-[0-9a-f]{10}-0$/, '')).sort();
  assert.deepEqual(names, ['details-v1', 'istio-ingressgateway-local-0', 'productpage-v1', 'ratings-v1', 'reviews-v1', 'reviews-v2', 'reviews-v3']);
  for (const p of status.pods) assert.equal(p.ready, true, `${p.name} not ready`);
  assert.match(mesh.gatewayUrl, /:8080$/, 'bookinfo-gateway port 8080 is bound as 8080');
});

test('/productpage through the gateway renders the book, its details and its reviews', async () => {
  const res = await request(`${mesh.gatewayUrl}/productpage`);
  assert.equal(res.status, 200);
  assert.match(String(res.headers['content-type']), /^text\/html/);
  assert.equal(res.headers.server, 'istio-envoy');
  assert.match(res.body, /The Comedy of Errors/);
  assert.match(res.body, /<h4>Book Details<\/h4>/);
  assert.match(res.body, /<dt>Publisher:<\/dt><dd>PublisherA<\/dd>/);
  assert.match(res.body, /<h4>Book Reviews<\/h4>/);
  assert.match(res.body, /An extremely entertaining play by Shakespeare/);
  assert.match(res.body, /Reviews served by:<\/dt><dd><u>reviews-v[123]-[0-9a-f]{10}-0<\/u>/);
});

test('stars vary over 20 requests: reviews is balanced over v1 (none), v2 (black) and v3 (red)', async () => {
  const seen = new Map<string, number>();
  for (let i = 0; i < 20; i++) {
    const res = await request(`${mesh.gatewayUrl}/productpage`);
    assert.equal(res.status, 200);
    const { version, colors } = reviewsOf(res.body);
    seen.set(version, (seen.get(version) ?? 0) + 1);
    const expected = { v1: [], v2: ['black', 'black'], v3: ['red', 'red'] }[version];
    assert.deepEqual(colors, expected, `reviews ${version}`);
  }
  assert.deepEqual([...seen.keys()].sort(), ['v1', 'v2', 'v3'], JSON.stringify([...seen]));
});

test('login through the gateway: the page welcomes the user; logout signs out', async () => {
  const login = await request(`${mesh.gatewayUrl}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'username=jason&passwd=',
  });
  assert.equal(login.status, 302);
  const cookie = String(login.headers['set-cookie']).split(';')[0]!;
  assert.equal(cookie, 'user=jason');
  const page = await request(`${mesh.gatewayUrl}/productpage`, { headers: { cookie } });
  assert.match(page.body, /Welcome, jason/);
  const logout = await request(`${mesh.gatewayUrl}/logout`, { headers: { cookie } });
  assert.equal(logout.status, 302);
  assert.match(String(logout.headers['set-cookie']), /Max-Age=0/);
});

test('the JSON API through the gateway reaches details and ratings', async () => {
  const details = await request(`${mesh.gatewayUrl}/api/v1/products/0`);
  assert.equal(details.status, 200);
  assert.equal((JSON.parse(details.body) as { publisher: string }).publisher, 'PublisherA');
  const ratings = await request(`${mesh.gatewayUrl}/api/v1/products/0/ratings`);
  assert.deepEqual(JSON.parse(ratings.body), { id: 0, ratings: { Reviewer1: 5, Reviewer2: 4 } });
  assert.equal((await request(`${mesh.gatewayUrl}/health`)).status, 404, 'the gateway exposes only the productpage paths');
});

test('strait exec runs curl with the pod\'s environment, through its sidecar', async () => {
  const { stdout } = await run(process.execPath, [CLI, 'exec', '--server', mesh.apiUrl, 'deploy/productpage-v1', '--', 'curl', '-s', '-i', 'http://details:9080/details/0']);
  assert.match(stdout, /^HTTP\/1\.1 200 OK/);
  assert.match(stdout, /"publisher":"PublisherA"/);
  assert.match(stdout, /\r\nx-envoy-upstream-service-time: \d+/i, 'answered through the sidecar');
  const env = await run(process.execPath, [CLI, 'exec', '--server', mesh.apiUrl, 'ratings', '--', 'sh', '-c', 'echo "$POD_NAME $SERVICE_ACCOUNT $http_proxy"']);
  assert.match(env.stdout, /^ratings-v1-[0-9a-f]{10}-0 bookinfo-ratings http:\/\/127\.\d+\.\d+\.\d+:15001\n$/);
});
