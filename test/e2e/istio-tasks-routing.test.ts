// Istio's Bookinfo traffic-management tasks end to end (reference §3): request routing (TASK-01),
// fault injection (TASK-02), traffic shifting (TASK-03) and request timeouts (TASK-05), on one
// real `strait up` of Bookinfo. The task files under examples/bookinfo/networking are applied
// unchanged, one step after another, the `kubectl apply` way (ManifestDir), and every step is
// checked through the ingress gateway as the task's reader would check it in a browser: stars,
// error messages, page timings, and the proxies' access-log flags (DI, FI, UT).
//
// Timings are asserted as ranges around the task's figures: the machine is small and loaded.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from '../helpers/http.js';
import type { TestResponse } from '../helpers/http.js';
import { accessLog, applyAndSync, ManifestDir, readyPods, tally, timed } from '../helpers/istio-tasks.js';
import { startMesh } from '../helpers/strait-up.js';
import type { RunningMesh } from '../helpers/strait-up.js';

const NET = 'examples/bookinfo/networking';
const SORRY = 'Sorry, product reviews are currently unavailable for this book.';

let files: ManifestDir;
let mesh: RunningMesh;

before(async () => {
  files = new ManifestDir('istio-routing');
  // The tasks' prerequisites: Bookinfo, its gateway, and the default DestinationRules.
  files.apply('examples/bookinfo/bookinfo.yaml', `${NET}/bookinfo-gateway.yaml`, `${NET}/destination-rule-all.yaml`);
  mesh = await startMesh([files.dir]);
  await readyPods(mesh, ['productpage-v1', 'details-v1', 'reviews-v1', 'reviews-v2', 'reviews-v3', 'ratings-v1']);
});

after(async () => {
  await mesh?.stop();
  files?.remove();
});

interface Page {
  status: number;
  version: string;
  color: string;
  body: string;
}

/** What /productpage shows: the reviews version, the star colour and the raw page. */
function pageOf(res: TestResponse): Page {
  return {
    status: res.status,
    version: /data-reviews-version="([^"]+)"/.exec(res.body)?.[1] ?? 'none',
    color: /data-star-color="([^"]+)"/.exec(res.body)?.[1] ?? 'none',
    body: res.body,
  };
}

/** /productpage through the gateway, as `user` when given (Bookinfo's login cookie). */
async function productpage(user?: string): Promise<Page> {
  const res = await request(`${mesh.gatewayUrl}/productpage`, { headers: user ? { cookie: `user=${user}` } : {} });
  return pageOf(res);
}

async function pages(n: number, user?: string): Promise<Page[]> {
  const out: Page[] = [];
  for (let i = 0; i < n; i++) out.push(await productpage(user));
  return out;
}

async function pod(prefix: string) {
  return (await readyPods(mesh, [prefix]))[0]!;
}

test('TASK-01 step 1, virtual-service-all-v1: no stars, however often the page is loaded', async () => {
  await applyAndSync(mesh, () => files.apply(`${NET}/virtual-service-all-v1.yaml`), 'virtual-service-all-v1');
  const login = await request(`${mesh.gatewayUrl}/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'username=jason&passwd=' });
  assert.equal(login.status, 302);
  assert.equal(String(login.headers['set-cookie']).split(';')[0], 'user=jason', 'Bookinfo\'s login sets the user cookie');
  const seen = [...(await pages(20)), ...(await pages(10, 'jason'))];
  for (const p of seen) {
    assert.equal(p.status, 200);
    assert.match(p.body, /<h4>Book Details<\/h4>/);
    assert.equal(p.version, 'v1');
    assert.equal(p.color, 'none');
    assert.doesNotMatch(p.body, /<font color=/);
  }
});

test('TASK-01 step 2, virtual-service-reviews-test-v2: jason gets black stars every time, everyone else none', async () => {
  await applyAndSync(mesh, () => files.apply(`${NET}/virtual-service-reviews-test-v2.yaml`), 'virtual-service-reviews-test-v2');
  for (const p of await pages(15, 'jason')) {
    assert.equal(p.status, 200);
    assert.match(p.body, /Welcome, jason/);
    assert.equal(p.version, 'v2', 'jason is routed to reviews v2');
    assert.equal(p.color, 'black');
    assert.match(p.body, /<font color="black">/);
  }
  for (const user of [undefined, 'alice']) {
    for (const p of await pages(10, user)) {
      assert.equal(p.version, 'v1', `${user ?? 'anonymous'} stays on v1`);
      assert.equal(p.color, 'none');
    }
  }
});

test('TASK-02 delay, virtual-service-ratings-test-delay: jason waits about 6 s for "Error fetching product reviews"; others are not delayed', async (t) => {
  await applyAndSync(mesh, () => files.apply(`${NET}/virtual-service-ratings-test-delay.yaml`), 'virtual-service-ratings-test-delay');
  const anon = await timed(() => productpage());
  assert.equal(anon.value.version, 'v1');
  assert.ok(anon.ms < 3000, `others see no delay (took ${Math.round(anon.ms)} ms)`);

  const jason = await timed(() => productpage('jason'));
  // productpage's 3 s timeout plus one retry expires before the 7 s delay: about 6 s.
  assert.ok(jason.ms >= 5000 && jason.ms <= 9500, `jason's page took ${Math.round(jason.ms)} ms, expected about 6 s`);
  assert.equal(jason.value.status, 200);
  assert.match(jason.value.body, /Error fetching product reviews!/);
  assert.match(jason.value.body, new RegExp(SORRY.replace(/\./g, '\\.')));
  assert.match(jason.value.body, /<h4>Book Details<\/h4>/, 'details are unaffected');
  t.diagnostic(`TASK-02 delay: jason ${Math.round(jason.ms)} ms, anonymous ${Math.round(anon.ms)} ms`);

  // reviews v2's sidecar delays its call to ratings: flag DI (with DC when reviews gives up
  // first, as the built-in reviews does when productpage has gone away).
  const v2 = await pod('reviews-v2');
  await accessLog(mesh, v2, [/"GET \/ratings\/0 HTTP\/1\.1" \d+ (\S+,)?DI[ ,]/]);
});

test('TASK-02 abort, virtual-service-ratings-test-abort: jason sees "Ratings service is currently unavailable" at once; others do not', async (t) => {
  await applyAndSync(mesh, () => files.apply(`${NET}/virtual-service-ratings-test-abort.yaml`), 'virtual-service-ratings-test-abort');
  const jason = await timed(() => productpage('jason'));
  assert.equal(jason.value.status, 200);
  assert.equal(jason.value.version, 'v2');
  assert.match(jason.value.body, /Ratings service is currently unavailable/);
  assert.doesNotMatch(jason.value.body, /<font color=/, 'no stars without ratings');
  assert.ok(jason.ms < 3000, `the abort is immediate (took ${Math.round(jason.ms)} ms)`);
  for (const p of await pages(5)) {
    assert.equal(p.version, 'v1');
    assert.doesNotMatch(p.body, /currently unavailable/);
  }
  t.diagnostic(`TASK-02 abort: jason ${Math.round(jason.ms)} ms`);
  const v2 = await pod('reviews-v2');
  await accessLog(mesh, v2, [/"GET \/ratings\/0 HTTP\/1\.1" 500 FI /]);
});

test('TASK-03, virtual-service-reviews-50-v3 then -v3: red stars about half the time, then every time', async (t) => {
  // The task starts from all-v1 (which also resets ratings, removing the abort).
  await applyAndSync(mesh, () => files.apply(`${NET}/virtual-service-all-v1.yaml`), 'virtual-service-all-v1');
  for (const p of await pages(5)) assert.equal(p.color, 'none');

  await applyAndSync(mesh, () => files.apply(`${NET}/virtual-service-reviews-50-v3.yaml`), 'virtual-service-reviews-50-v3');
  const n = 40;
  const split = tally((await pages(n)).map((p) => `${p.version}/${p.color}`));
  const red = split['v3/red'] ?? 0;
  assert.equal((split['v1/none'] ?? 0) + red, n, `only v1 (no stars) and v3 (red): ${JSON.stringify(split)}`);
  // 50/50 over 40 requests: 20-80% holds with overwhelming probability for a fair split.
  assert.ok(red >= n * 0.2 && red <= n * 0.8, `red stars on ${red}/${n}, expected about half`);
  t.diagnostic(`TASK-03 50/50: ${JSON.stringify(split)}`);

  await applyAndSync(mesh, () => files.apply(`${NET}/virtual-service-reviews-v3.yaml`), 'virtual-service-reviews-v3');
  for (const p of await pages(15)) {
    assert.equal(p.version, 'v3');
    assert.equal(p.color, 'red');
  }
});

test('TASK-05: reviews v2 + 2 s ratings delay takes about 2 s with stars; a 0.5 s timeout on reviews answers in about 1 s without reviews (504 UT)', async (t) => {
  await applyAndSync(mesh, () => files.apply(`${NET}/virtual-service-reviews-v2.yaml`, `${NET}/virtual-service-ratings-delay-2s.yaml`), 'reviews v2 and the 2 s ratings delay');
  const slow = await timed(() => productpage());
  assert.equal(slow.value.version, 'v2');
  assert.equal(slow.value.color, 'black', 'the page works: stars are shown');
  assert.ok(slow.ms >= 1800 && slow.ms <= 4500, `the page took ${Math.round(slow.ms)} ms, expected about 2 s`);

  await applyAndSync(mesh, () => files.apply(`${NET}/virtual-service-reviews-v2-timeout.yaml`), 'the 0.5 s timeout on reviews');
  const cut = await timed(() => productpage());
  assert.equal(cut.value.status, 200);
  assert.match(cut.value.body, /Error fetching product reviews!/);
  assert.match(cut.value.body, new RegExp(SORRY.replace(/\./g, '\\.')));
  // 0.5 s, and again on productpage's one retry: about 1 s (never the 2 s of the delay, nor 3 s).
  assert.ok(cut.ms >= 900 && cut.ms <= 2500, `the page took ${Math.round(cut.ms)} ms, expected about 1 s`);
  t.diagnostic(`TASK-05: with the delay ${Math.round(slow.ms)} ms; with the 0.5 s timeout ${Math.round(cut.ms)} ms`);

  const pp = await pod('productpage-v1');
  const lines = await accessLog(mesh, pp, [/"GET \/reviews\/0 HTTP\/1\.1" 504 UT /, /outbound\|9080\|v2\|reviews\./]);
  assert.ok(lines.length >= 1);
});
