// The live service graph: workloads (circles; the gateway a diamond), services (rounded
// boxes) and the traffic between them as arrows labelled with rate, error share and p50/p99;
// colour says health, a dashed line says the hop is not (known to be) mutual TLS, a lock that it
// is. Clicking a node lists its edges. Redrawn from /api/graph on every refresh.

import { bytes, h, health, ms, pct, rps, s } from './dom.js';
import { layoutGraph } from './graph-layout.js';
import type { GraphEdge, GraphNode, ServiceGraph } from './types.js';

const COLORS: Record<string, string> = { ok: '#2e9e5b', warn: '#d99a1e', bad: '#d64545', '': '#9aa3b2' };

function rankOf(n: GraphNode): number {
  return n.gateway ? 0 : n.kind === 'unknown' ? 1 : n.kind === 'workload' ? 2 : 3;
}

function nodeShape(n: GraphNode): SVGElement {
  if (n.gateway) return s('polygon', { points: '0,-26 26,0 0,26 -26,0' });
  if (n.kind === 'service') return s('rect', { class: 'shape', x: -26, y: -18, width: 52, height: 36, rx: 8 });
  return s('circle', { r: 22 });
}

function nodeClass(n: GraphNode): string {
  return ['node', n.gateway ? 'gateway' : n.kind, n.idle ? 'idle' : ''].join(' ').trim();
}

/** Two lines: rate and errors, then latency and the mTLS state. */
function edgeLabel(e: GraphEdge): [string, string] {
  const tls = e.security === 'mtls' ? 'mTLS' : e.security === 'mixed' ? 'partly mTLS' : e.security === 'plaintext' ? 'plaintext' : '';
  if (e.rates.requests === 0 && (e.rates.connections > 0 || e.rates.bytesPerSecond > 0)) return [`TCP ${rps(e.rates.cps)} conn/s`, `${bytes(e.rates.bytesPerSecond)}/s${tls ? ` · ${tls}` : ''}`];
  if (e.rates.requests === 0) return ['idle', tls];
  return [`${rps(e.rates.rps)} rps · ${pct(e.rates.errorRate)} err`, `p50 ${ms(e.rates.p50)} · p99 ${ms(e.rates.p99)}${tls ? ` · ${tls}` : ''}`];
}

export function renderGraph(root: HTMLElement, g: ServiceGraph, selected: string | null, onSelect: (id: string | null) => void): void {
  const layout = layoutGraph(
    g.nodes.map((n) => ({ id: n.id, rank: rankOf(n) })),
    g.edges,
    300,
    120,
    120,
  );
  const svg = s('svg', { viewBox: `0 0 ${Math.max(layout.width, 600)} ${Math.max(layout.height, 260)}`, role: 'img', 'aria-label': 'service graph' });
  const defs = s('defs');
  for (const [k, c] of Object.entries(COLORS)) {
    defs.append(s('marker', { id: `arrow-${k || 'none'}`, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' }, s('path', { d: 'M0,0 L10,5 L0,10 z', fill: c })));
  }
  svg.append(defs);
  const pos = layout.positions;
  for (const e of g.edges) {
    const a = pos.get(e.source);
    const b = pos.get(e.target);
    if (!a || !b) continue;
    const tcp = e.rates.connections > 0 || e.rates.bytesPerSecond > 0;
    const cls = e.rates.requests > 0 ? health(e.rates.errorRate) : tcp ? 'ok' : '';
    const color = COLORS[cls]!;
    const x1 = a.x + 28;
    const x2 = b.x - 30;
    let d: string;
    let lx: number;
    let ly: number;
    if (b.layer > a.layer) {
      const mx = (x1 + x2) / 2;
      d = `M${x1},${a.y} C${mx},${a.y} ${mx},${b.y} ${x2},${b.y}`;
      lx = mx;
      ly = (a.y + b.y) / 2 - 6;
    } else {
      // A call back to an earlier column arcs below the nodes.
      const dip = Math.max(a.y, b.y) + 70;
      d = `M${a.x},${a.y + 28} C${a.x},${dip} ${b.x},${dip} ${b.x},${b.y + 30}`;
      lx = (a.x + b.x) / 2;
      ly = dip - 8;
    }
    const [line1, line2] = edgeLabel(e);
    const title = `${e.source} → ${e.target}\n${line1}\n${line2}\nmTLS: ${e.security} (reported by ${e.reporter})\n${e.rates.requests} requests in ${g.windowSeconds.toFixed(0)} s`;
    svg.append(
      s(
        'g',
        { class: `edge ${e.security} ${e.rates.requests === 0 && !tcp ? 'idle' : ''}`, 'data-edge-id': e.id, 'data-source': e.source, 'data-target': e.target, 'data-security': e.security },
        s('title', {}, title),
        s('path', { d, stroke: color, 'stroke-width': Math.min(6, 1.5 + Math.log10(1 + e.rates.rps) * 2), 'marker-end': `url(#arrow-${cls || 'none'})` }),
        s('text', { x: lx, y: ly - 13, 'text-anchor': 'middle' }, line1),
        s('text', { x: lx, y: ly, 'text-anchor': 'middle', class: e.security === 'mtls' ? 'tls' : '' }, line2),
      ),
    );
  }
  for (const n of g.nodes) {
    const p = pos.get(n.id);
    if (!p) continue;
    const sub = n.kind === 'unknown' ? 'no proxy' : `${n.kind === 'service' ? 'svc' : n.gateway ? 'gateway' : 'workload'} · ${n.namespace}`;
    const node = s(
      'g',
      { class: nodeClass(n) + (selected === n.id ? ' selected' : ''), transform: `translate(${p.x},${p.y})`, 'data-node-id': n.id, 'data-kind': n.kind, style: 'cursor:pointer', onclick: () => onSelect(selected === n.id ? null : n.id) },
      s('title', {}, `${n.id}\n${n.rates.requests} requests, ${rps(n.rates.rps)} rps, ${pct(n.rates.errorRate)} errors`),
      // The whole node, its labels included, takes the click.
      s('rect', { class: 'hit', x: -60, y: -30, width: 120, height: 90 }),
      nodeShape(n),
      s('text', { class: 'name', y: 42, 'text-anchor': 'middle' }, n.name),
      s('text', { class: 'sub', y: 55, 'text-anchor': 'middle' }, sub),
    );
    if (selected === n.id) node.prepend(s('circle', { r: 34, fill: 'none', stroke: '#7fb0ff', 'stroke-width': 3 }));
    svg.append(node);
  }
  const legend = h(
    'div',
    { class: 'legend muted' },
    h('span', {}, `last ${g.windowSeconds.toFixed(0)} s`),
    h('span', {}, '● workload'),
    h('span', {}, '▢ service'),
    h('span', {}, '◆ gateway'),
    h('span', {}, 'mTLS: mutual TLS, read from the server side'),
    h('span', {}, '- - - plaintext or unknown'),
    h('span', { class: 'ok' }, '< 1% errors'),
    h('span', { class: 'warn' }, '< 5%'),
    h('span', { class: 'bad' }, '≥ 5%'),
  );
  const side = selected ? details(g, selected) : null;
  const empty = g.edges.length === 0 ? h('p', { class: 'muted' }, 'No traffic yet: send some requests through the gateway; the graph refreshes every few seconds.') : null;
  root.replaceChildren(h('div', { class: 'row' }, h('div', { class: 'grow', id: 'graph' }, legend, empty, svg), side));
}

function details(g: ServiceGraph, id: string): HTMLElement | null {
  const n = g.nodes.find((x) => x.id === id);
  if (!n) return null;
  const row = (e: GraphEdge, other: string) =>
    h('tr', {}, h('td', {}, other), h('td', { class: 'num' }, rps(e.rates.rps)), h('td', { class: `num ${health(e.rates.errorRate)}` }, pct(e.rates.errorRate)), h('td', { class: 'num' }, ms(e.rates.p50)), h('td', { class: 'num' }, ms(e.rates.p99)), h('td', {}, e.security));
  const head = h('tr', {}, ...['peer', 'rps', 'errors', 'p50', 'p99', 'mTLS'].map((t) => h('th', {}, t)));
  const inbound = g.edges.filter((e) => e.target === id);
  const outbound = g.edges.filter((e) => e.source === id);
  return h(
    'div',
    { class: 'panel', style: 'width:420px', id: 'node-details' },
    h('h3', {}, n.name, ' ', h('span', { class: 'badge' }, n.kind)),
    h('p', { class: 'muted' }, `${n.namespace || 'outside the mesh'} · ${rps(n.rates.rps)} rps · ${pct(n.rates.errorRate)} errors · p50 ${ms(n.rates.p50)} · p99 ${ms(n.rates.p99)}`),
    inbound.length ? h('div', {}, h('b', {}, 'from'), h('table', {}, head.cloneNode(true), ...inbound.map((e) => row(e, e.source)))) : null,
    outbound.length ? h('div', {}, h('b', {}, 'to'), h('table', {}, head, ...outbound.map((e) => row(e, e.target)))) : null,
  );
}
