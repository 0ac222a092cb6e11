// HTTP filter factories by type URL. A filter extension registers itself by being listed here;
// the connection manager compiles an HCM's http_filters and routes' typed_per_filter_config
// through this table, and rejects (NACKs) a type it does not know.

import type { HttpFilterFactory } from './api.js';

const factories: HttpFilterFactory[] = [];

export function registerHttpFilter(f: HttpFilterFactory): void {
  if (factories.some((x) => x.typeUrl === f.typeUrl)) throw new Error(`HTTP filter ${f.typeUrl} registered twice`);
  factories.push(f);
}

export function filterByTypeUrl(typeUrl: string): HttpFilterFactory | undefined {
  return factories.find((f) => f.typeUrl === typeUrl || f.perRouteTypeUrl === typeUrl);
}

export function allFilterFactories(): readonly HttpFilterFactory[] {
  return factories;
}
