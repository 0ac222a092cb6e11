// Golden metrics per service (Linkerd's: request rate, error share, p50 and p99 latency), each
// with a small time-series chart of the last minutes drawn as inline SVG.

import { h, health, ms, pct, rps, s } from './dom.js';
import type { ServiceMetrics, ServicePoint } from './types.js';

/** A sparkline of `values` (nulls are gaps drawn as 0) scaled to its own maximum. */
export function sparkline(values: readonly (number | null)[], label: string): SVGSVGElement {
  const w = 200;
  const hgt = 40;
  const max = Math.max(1e-9, ...values.map((v) => v ?? 0));
  const step = values.length > 1 ? w / (values.length - 1) : w;
  const pts = values.map((v, i) => `${(i * step).toFixed(1)},${(hgt - 2 - ((v ?? 0) / max) * (hgt - 4)).toFixed(1)}`);
  const svg = s('svg', { viewBox: `0 0 ${w} ${hgt}`, preserveAspectRatio: 'none', role: 'img', 'aria-label': label });
  if (pts.length > 0) {
    svg.append(s('path', { d: `M0,${hgt} L${pts.join(' L')} L${((values.length - 1) * step).toFixed(1)},${hgt} Z` }));
    svg.append(s('polyline', { points: pts.join(' ') }));
  }
  return svg;
}

function metric(title: string, value: string, cls: string, series: ServicePoint[], pick: (p: ServicePoint) => number | null): HTMLElement {
  return h('div', {}, title, h('b', { class: cls }, value), sparkline(series.map(pick), title));
}

export function renderServices(root: HTMLElement, data: { windowSeconds: number; intervalSeconds: number; services: ServiceMetrics[] }): void {
  if (data.services.length === 0) {
    root.replaceChildren(h('p', { class: 'muted' }, 'No service has had traffic yet.'));
    return;
  }
  const minutes = ((data.services[0]!.series.length * data.intervalSeconds) / 60).toFixed(1);
  const cards = data.services.map((svc) =>
    h(
      'div',
      { class: 'panel card', 'data-service': svc.id },
      h('h3', {}, svc.name, ' ', h('span', { class: 'muted' }, svc.namespace), ' ', h('span', { class: 'badge', title: 'whose proxy reported these numbers' }, `reported by ${svc.reporter}`)),
      h(
        'div',
        { class: 'spark' },
        metric('requests/s', rps(svc.rates.rps), '', svc.series, (p) => p.rps),
        metric('errors', pct(svc.rates.errorRate), health(svc.rates.errorRate), svc.series, (p) => p.errorRate),
        metric('p50', ms(svc.rates.p50), '', svc.series, (p) => p.p50),
        metric('p99', ms(svc.rates.p99), '', svc.series, (p) => p.p99),
      ),
    ),
  );
  root.replaceChildren(h('p', { class: 'muted' }, `Values over the last ${data.windowSeconds.toFixed(0)} s; charts cover the last ${minutes} min.`), h('div', { class: 'cards' }, ...cards));
}
