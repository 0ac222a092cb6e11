// V8 tuning for proxy processes. A proxy allocates many short-lived objects per request. Under
// load V8's allocation-site pretenuring decided that those objects live long (a warm-up burst
// is enough) and allocated them straight in the old generation, so every request's garbage
// needed a full mark-compact instead of a cheap scavenge: garbage collection became the
// largest single cost per request. Turning pretenuring off for the proxy made a request about
// 35 % cheaper and the gateway about 1.5× faster (docs/benchmarks.md "Hot path work"). The
// flag is read by the collector as it runs, so setting it when the proxy starts is enough.

import v8 from 'node:v8';

/** V8 flags a proxy sets on itself at start (safe to change at run time). */
export const PROXY_V8_RUNTIME_FLAGS: readonly string[] = ['--no-allocation-site-pretenuring'];

export function tuneV8ForProxy(): void {
  for (const f of PROXY_V8_RUNTIME_FLAGS) v8.setFlagsFromString(f);
}
