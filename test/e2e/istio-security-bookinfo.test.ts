// Istio's "Authorization for HTTP traffic" task (TASK-12, security/authorization/authz-http) end
// to end on one real `strait up` of Bookinfo with mesh mTLS: allow-nothing, then one ALLOW policy
// per service, the later ones naming the caller's workload identity
// (`cluster.local/ns/default/sa/bookinfo-productpage`). Each step's manifest is the task's,
// unchanged (test/fixtures/config/istio-security/task-12-*.yaml), and each is checked as the task's
// reader checks it: what /productpage shows through the ingress gateway.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, request } from '../helpers/http.js';
import { applyAndSync, ManifestDir, readyPods } from '../helpers/istio-tasks.js';
import { startMesh } from '../helpers/strait-up.js';
import type { RunningMesh } from '../helpers/strait-up.js';

const FIX = 'test/fixtures/config/istio-security';
const DETAILS_ERROR = 'Error fetching product details';
const REVIEWS_ERROR = 'Error fetching product reviews';
const RATINGS_ERROR = 'Ratings service is currently unavailable';

let files: ManifestDir;
let mesh: RunningMesh;

before(async () => {
  files = new ManifestDir('istio-authz-http');
  files.apply('examples/bookinfo/bookinfo.yaml', 'examples/bookinfo/networking/bookinfo-gateway.yaml');
  mesh = await startMesh([files.dir]);
  await readyPods(mesh, ['productpage-v1', 'details-v1', 'reviews-v1', 'reviews-v2', 'reviews-v3', 'ratings-v1']);
});

after(async () => {
  await mesh?.stop();
  files?.remove();
});

interface Page {
  status: number;
  body: string;
  /** The reviews version that answered ('none' when reviews failed). */
  version: string;
}

async function productpage(): Promise<Page> {
  const res = await request(`${mesh.gatewayUrl}/productpage`);
  return { status: res.status, body: res.body, version: /data-reviews-version="([^"]+)"/.exec(res.body)?.[1] ?? 'none' };
}

test('TASK-12, before any policy: the whole page works', async () => {
  const p = await productpage();
  assert.equal(p.status, 200);
  assert.doesNotMatch(p.body, new RegExp(`${DETAILS_ERROR}|${REVIEWS_ERROR}`));
});

test('TASK-12, allow-nothing: productpage answers 403 RBAC: access denied', async () => {
  await applyAndSync(mesh, () => files.apply(`${FIX}/task-12-step1-allow-nothing.yaml`), 'allow-nothing');
  const p = await productpage();
  assert.equal(p.status, 403);
  assert.equal(p.body, 'RBAC: access denied');
});

test('TASK-12, productpage-viewer: the page renders, but details and reviews are errors (they still allow nothing)', async () => {
  await applyAndSync(mesh, () => files.apply(`${FIX}/task-12-step2-productpage-viewer.yaml`), 'productpage-viewer');
  const p = await productpage();
  assert.equal(p.status, 200);
  assert.match(p.body, new RegExp(DETAILS_ERROR));
  assert.match(p.body, new RegExp(REVIEWS_ERROR));
  const post = await request(`${mesh.gatewayUrl}/productpage`, { method: 'POST', body: '' });
  assert.equal(post.status, 403, 'only GET is allowed');
});

test('TASK-12, details-viewer and reviews-viewer (principal bookinfo-productpage): details and reviews appear, ratings is unavailable; ratings-viewer: stars', async () => {
  // step 3 holds every policy of the task; without ratings-viewer first, as the task applies them.
  await applyAndSync(mesh, () => {
    const all = files.apply(`${FIX}/task-12-step3-all-viewers.yaml`);
    assert.ok(all.includes('authorizationpolicy.default.ratings-viewer'));
    files.deleteText('apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: ratings-viewer, namespace: default}\n');
  }, 'details-viewer and reviews-viewer');
  const p = await eventually(async () => {
    const page = await productpage();
    return page.version !== 'none' && page.version !== 'v1' ? page : undefined;
  }, 'a page from reviews v2 or v3');
  assert.doesNotMatch(p.body, new RegExp(`${DETAILS_ERROR}|${REVIEWS_ERROR}`));
  assert.match(p.body, new RegExp(RATINGS_ERROR), 'reviews calls ratings, which still allows nothing');

  await applyAndSync(mesh, () => files.apply(`${FIX}/task-12-step3-all-viewers.yaml`), 'ratings-viewer');
  const full = await eventually(async () => {
    const page = await productpage();
    return page.version !== 'none' && page.version !== 'v1' ? page : undefined;
  }, 'a page from reviews v2 or v3');
  assert.doesNotMatch(full.body, new RegExp(`${DETAILS_ERROR}|${REVIEWS_ERROR}|${RATINGS_ERROR}`));
  assert.match(full.body, /data-star-color="(black|red)"/);
});

test('TASK-12, the principal is the caller\'s certificate: a plaintext call to details with no identity is denied', async () => {
  const details = (await mesh.status()).pods.find((p) => p.labels.app === 'details');
  assert.ok(details);
  // Straight to the details pod's sidecar, as a workload without a sidecar would call it.
  const res = await request(`http://${details.ip}:9080/details/0`).catch((e: Error) => e);
  assert.ok(res instanceof Error || res.status === 403, `no identity, no access: ${res instanceof Error ? res.message : res.status}`);
});
