// Which HTTP/1.1 implementation the proxy uses on plaintext downstream connections and for
// upstream requests: node's http module, or the lean codec of this folder (same behaviour,
// a fraction of the per-request work; see docs/benchmarks.md "Hot path work"). The default
// can be set for a whole process (and so for a whole test run) with STRAIT_HTTP1_CODEC.

export type Http1Codec = 'node' | 'lean';

export function defaultHttp1Codec(): Http1Codec {
  const v = process.env.STRAIT_HTTP1_CODEC;
  return v === 'lean' ? 'lean' : 'node';
}
