// Which HTTP/1.1 implementation the proxy uses on plaintext downstream connections and for
// upstream requests: the lean codec of this folder (the default: same bytes and behaviour as
// node's, a fraction of the per-request work; see docs/benchmarks.md "Hot path work"), or
// node's http module. `strait proxy --http1 node` or STRAIT_HTTP1_CODEC=node (for a whole
// process, and so a whole test run) selects node's.

export type Http1Codec = 'node' | 'lean';

export function defaultHttp1Codec(): Http1Codec {
  return process.env.STRAIT_HTTP1_CODEC === 'node' ? 'node' : 'lean';
}

export function parseHttp1Codec(v: string): Http1Codec {
  if (v !== 'node' && v !== 'lean') throw new Error(`--http1 must be lean or node, not "${v}"`);
  return v;
}
