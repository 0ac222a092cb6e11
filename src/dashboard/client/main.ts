// The dashboard's script: a header summary from /api/status and four views chosen by the URL
// hash (#graph, #services, #config, #tap?pod=ns/name). The graph and services views refresh
// every few seconds; the tap view streams.

import { renderConfig } from './config-view.js';
import { getJson } from './dom.js';
import { renderGraph } from './graph-view.js';
import { renderServices } from './services-view.js';
import { renderTap, stopTap } from './tap-view.js';
import type { ConfigView, MeshStatus, ServiceGraph, ServiceMetrics } from './types.js';

const REFRESH_MS = 3000;
const main = document.getElementById('main')!;
const summary = document.getElementById('summary')!;
let timer: number | undefined;
let selected: string | null = null;
let view = '';

function route(): { view: string; params: URLSearchParams } {
  const [v, q] = (location.hash.slice(1) || 'graph').split('?');
  return { view: v || 'graph', params: new URLSearchParams(q ?? '') };
}

async function refreshSummary(): Promise<MeshStatus | null> {
  try {
    const st = await getJson<MeshStatus>('/api/status');
    const cp = st.controlPlane;
    const ready = st.pods.filter((p) => p.ready).length;
    const synced = st.pods.filter((p) => p.proxy?.synced).length;
    const proxies = st.pods.filter((p) => p.proxy).length;
    summary.textContent = `${ready}/${st.pods.length} pods ready · ${synced}/${proxies} proxies synced · config generation ${cp.configGeneration} · ${cp.errors} errors, ${cp.warnings} warnings`;
    return st;
  } catch {
    summary.textContent = 'control plane unreachable';
    return null;
  }
}

async function refresh(): Promise<void> {
  const r = route();
  try {
    if (r.view === 'graph') renderGraph(main, await getJson<ServiceGraph>('/api/graph?window=60'), selected, (id) => ((selected = id), void refresh()));
    else if (r.view === 'services') renderServices(main, await getJson<{ windowSeconds: number; intervalSeconds: number; services: ServiceMetrics[] }>('/api/services?window=60&points=60'));
  } catch (e) {
    main.textContent = `cannot load ${r.view}: ${(e as Error).message}`;
  }
  main.dataset.updated = String(Date.now());
}

async function show(): Promise<void> {
  const r = route();
  for (const a of document.querySelectorAll<HTMLAnchorElement>('header nav a')) a.classList.toggle('active', a.dataset.view === r.view);
  if (timer !== undefined) clearInterval(timer);
  timer = undefined;
  if (view === 'tap' && r.view !== 'tap') stopTap();
  view = r.view;
  if (r.view === 'graph' || r.view === 'services') {
    await refresh();
    timer = window.setInterval(() => void refresh(), REFRESH_MS);
  } else if (r.view === 'config') {
    renderConfig(main, await getJson<ConfigView>('/api/config'));
  } else if (r.view === 'tap') {
    const st = await refreshSummary();
    const pods = (st?.pods ?? []).filter((p) => p.proxy).map((p) => `${p.namespace}/${p.name}`);
    renderTap(main, pods, r.params.get('pod'));
  }
}

window.addEventListener('hashchange', () => void show());
void refreshSummary();
window.setInterval(() => void refreshSummary(), 5000);
void show();
