// Network filter factories by type URL (the TCP counterpart of src/filters/http/registry.ts).
// compile.ts compiles the filters a TCP filter chain lists before tcp_proxy through this table
// and rejects (NACKs) a type it does not know.

import type { NetworkFilterFactory } from './api.js';

const factories: NetworkFilterFactory[] = [];

export function registerNetworkFilter(f: NetworkFilterFactory): void {
  if (factories.some((x) => x.typeUrl === f.typeUrl)) throw new Error(`network filter ${f.typeUrl} registered twice`);
  factories.push(f);
}

export function networkFilterByTypeUrl(typeUrl: string): NetworkFilterFactory | undefined {
  return factories.find((f) => f.typeUrl === typeUrl);
}
