// The dashboard in a real browser (Debian's headless Chromium driven by playwright-core) against
// a real `strait up examples/seed`: after traffic through the gateway, the service graph shows
// the seed flow's nodes (gateway, frontend, backend) and mTLS edges, the services view their
// golden metrics, the config view the applied resources, and the live tap a request made during
// the test. Screenshots go to a temporary directory; with STRAIT_UPDATE_SCREENSHOTS=1 they
// replace docs/images/dashboard-graph.png and dashboard-tap.png (docs/observability.md), so a
// plain `npm test` leaves the tree clean.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { request } from '../helpers/http.js';
import { ROOT, startMesh } from '../helpers/strait-up.js';
import type { RunningMesh } from '../helpers/strait-up.js';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/lib/chromium/chromium', '/usr/bin/google-chrome'];

/** Debian's Chromium (never a downloaded browser); $CHROMIUM_PATH overrides. */
function chromiumPath(): string {
  const found = [process.env.CHROMIUM_PATH, ...CANDIDATES].find((p): p is string => !!p && fs.existsSync(p));
  if (!found) throw new Error(`no Chromium executable (looked for ${CANDIDATES.join(', ')}): install Debian's chromium with scripts/install-system-deps.sh`);
  return found;
}

const IMAGES = process.env.STRAIT_UPDATE_SCREENSHOTS === '1' ? path.join(ROOT, 'docs/images') : fs.mkdtempSync(path.join(os.tmpdir(), 'strait-dashboard-shots-'));
let mesh: RunningMesh;
let browser: Browser;
let page: Page;

before(async () => {
  const executablePath = chromiumPath();
  mesh = await startMesh(['examples/seed']);
  browser = await chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  page = await browser.newPage({ viewport: { width: 1400, height: 720 } });
});

after(async () => {
  await browser?.close();
  await mesh?.stop();
  if (!IMAGES.startsWith(ROOT)) fs.rmSync(IMAGES, { recursive: true, force: true });
});

const GATEWAY_TO_FRONTEND = 'workload:istio-system/istio-ingressgateway->service:frontend.default.svc.cluster.local';
const FRONTEND_TO_BACKEND = 'workload:default/frontend->service:backend.default.svc.cluster.local';

test('after traffic, the graph shows gateway → frontend → backend with rates and mTLS', async () => {
  for (let i = 0; i < 20; i++) assert.equal((await request(`${mesh.gatewayUrl}/graph`)).status, 200);
  await page.goto(`${mesh.apiUrl}/dashboard#graph`);
  // Rates need two scrapes after the traffic (every 5 s); the page refreshes every 3 s.
  await page.locator(`[data-edge-id="${FRONTEND_TO_BACKEND}"]`).waitFor({ timeout: 30_000 });
  await page.locator(`[data-edge-id="${GATEWAY_TO_FRONTEND}"]`).waitFor({ timeout: 15_000 });
  for (const id of ['workload:istio-system/istio-ingressgateway', 'service:frontend.default.svc.cluster.local', 'workload:default/frontend', 'service:backend.default.svc.cluster.local', 'workload:default/backend-v1', 'workload:default/backend-v2']) {
    assert.equal(await page.locator(`[data-node-id="${id}"]`).count(), 1, `node ${id}`);
  }
  const edge = page.locator(`[data-edge-id="${FRONTEND_TO_BACKEND}"]`);
  assert.equal(await edge.getAttribute('data-security'), 'mtls');
  assert.match((await edge.textContent()) ?? '', /rps · 0% err.*p50 .*ms · p99 .*ms · mTLS/);
  assert.equal(await page.locator('[data-node-id="workload:istio-system/istio-ingressgateway"]').getAttribute('class'), 'node gateway');
  fs.mkdirSync(IMAGES, { recursive: true });
  await page.screenshot({ path: path.join(IMAGES, 'dashboard-graph.png') });
  // A click on a node lists its edges.
  await page.locator('[data-node-id="service:backend.default.svc.cluster.local"]').click();
  await page.locator('#node-details').waitFor();
  assert.match((await page.locator('#node-details').textContent()) ?? '', /backend.*workload:default\/backend-v1/s);
});

test('services: golden metrics with time-series charts for frontend and backend', async () => {
  await page.goto(`${mesh.apiUrl}/dashboard#services`);
  for (const svc of ['frontend', 'backend']) {
    const card = page.locator(`[data-service="${svc}.default.svc.cluster.local"]`);
    await card.waitFor({ timeout: 15_000 });
    assert.match((await card.textContent()) ?? '', /requests\/s.*errors.*0%.*p50.*ms.*p99.*ms/s);
    assert.equal(await card.locator('svg polyline').count(), 4);
  }
});

test('config: the applied resources and the validation result', async () => {
  await page.goto(`${mesh.apiUrl}/dashboard#config`);
  await page.locator('[data-resource="AuthorizationPolicy/default/backend-from-frontend"]').waitFor();
  assert.match((await page.locator('#diagnostics').textContent()) ?? '', /No warnings or errors/);
  assert.equal(await page.locator('[data-resource^="Deployment/"]').count(), 3);
});

test('tap: a request made during the test appears with method, path, status, latency, flags and identities', async () => {
  const frontend = (await mesh.status()).pods.find((p) => p.name.startsWith('frontend'))!;
  await page.goto(`${mesh.apiUrl}/dashboard#tap?pod=default/${frontend.name}`);
  await page.locator('#tap-state', { hasText: 'tapping' }).waitFor({ timeout: 20_000 });
  const ids = ['e2e-dashboard-tap-1', 'e2e-dashboard-tap-2'];
  for (const id of ids) assert.equal((await request(`${mesh.gatewayUrl}/tapped/${id}`, { headers: { 'x-request-id': id } })).status, 200);
  // Inbound from the gateway, and the frontend's own call to the backend, share the request id.
  const inbound = page.locator(`#tap-rows tr[data-request-id="${ids[1]}"][data-path="/tapped/${ids[1]}"]`);
  await inbound.waitFor({ timeout: 20_000 });
  const text = (await inbound.textContent()) ?? '';
  assert.match(text, /→ in/);
  assert.match(text, /GET/);
  assert.match(text, /200/);
  assert.match(text, /cluster\.local\/ns\/istio-system\/sa\/istio-ingressgateway-service-account ✓/);
  assert.match(text, /cluster\.local\/ns\/default\/sa\/frontend ✓/);
  await page.locator(`#tap-rows tr[data-request-id="${ids[1]}"][data-path="/"]`).waitFor();
  assert.match((await page.locator(`#tap-rows tr[data-request-id="${ids[1]}"][data-path="/"]`).textContent()) ?? '', /out →.*backend:8080/);
  await page.screenshot({ path: path.join(IMAGES, 'dashboard-tap.png') });
  await page.locator('#tap-toggle').click();
  await page.locator('#tap-state', { hasText: 'stopped' }).waitFor();
});
