// V8 tuning for proxy processes. A proxy allocates many short-lived objects per request. Under
// load V8's allocation-site pretenuring decided that those objects live long (a warm-up burst
// is enough) and allocated them straight in the old generation, so every request's garbage
// needed a full mark-compact instead of a cheap scavenge: garbage collection became the
// largest single cost per request. Turning pretenuring off for the proxy made a request about
// 35 % cheaper and the gateway about 1.5× faster (docs/benchmarks.md "Hot path work"). The
// flag is read by the collector as it runs, so setting it when the proxy starts is enough.

import v8 from 'node:v8';

/**
 * V8 flags a proxy sets on itself at start (safe to change at run time). The old generation may
 * grow 20 % past what survived the last full collection before the next one, instead of V8's
 * dynamic factor (up to 4× for a process that rarely collects): a proxy promotes little that
 * lives, so its old generation filled with dead objects and resident memory grew by ~7 MB at
 * 1000 rps; the extra full collections cost no measurable CPU (docs/benchmarks.md).
 */
export const PROXY_V8_RUNTIME_FLAGS: readonly string[] = ['--no-allocation-site-pretenuring', '--heap-growing-percent=20'];

/**
 * Node flags a proxy process is started with (V8 sizes its heap when the process starts, so
 * these cannot be set from inside). The young generation is capped at 4 MB semi-spaces instead
 * of 16: a request's garbage dies young either way, so scavenges stay cheap, and the proxy's
 * resident memory is about 20 MB smaller at the same throughput (docs/benchmarks.md).
 * The local runner, `--workers` and the benchmark start proxies with them; run a proxy by hand
 * with `NODE_OPTIONS=--max-semi-space-size=4`.
 */
export const PROXY_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4'];

/** `execArgv` plus each proxy node flag it does not set already. */
export function withProxyNodeFlags(execArgv: readonly string[]): string[] {
  const out = [...execArgv];
  for (const f of PROXY_NODE_FLAGS) {
    const name = f.split('=')[0]!;
    if (!out.some((a) => a === name || a.startsWith(`${name}=`))) out.push(f);
  }
  return out;
}

export function tuneV8ForProxy(): void {
  for (const f of PROXY_V8_RUNTIME_FLAGS) v8.setFlagsFromString(f);
}
