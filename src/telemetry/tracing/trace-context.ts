// Trace context on the wire: W3C Trace Context (`traceparent`, `tracestate`) as Envoy's
// OpenTelemetry tracer reads and writes it, and B3 (`x-b3-traceid`, `x-b3-spanid`,
// `x-b3-parentspanid`, `x-b3-sampled`, `x-b3-flags`, and the single `b3` header) as its Zipkin
// tracer does. A proxy hop extracts the caller's span context from the request, makes its own
// span a child of it, and writes its own span context back into the headers it forwards, so the
// next hop (through the application, which must copy these headers) becomes its child.
//
// Parsing is strict where a wrong id would join unrelated traces (lengths, hex, all-zero ids) and
// lenient where the specs allow it (a B3 64-bit trace id, upper-case hex in B3, tracestate kept
// as received). Ids are lower-case hex strings; a 64-bit B3 trace id stays 16 characters for B3
// and is left-padded to 32 for W3C and OTLP.

import type { Random } from '../../common/random.js';
import type { HeaderMap } from '../../dataplane/http/headers.js';

/** The caller's span context, as read from the request. */
export interface SpanContext {
  /** 32 hex characters, or 16 for a 64-bit B3 trace id. */
  readonly traceId: string;
  /** 16 hex characters. */
  readonly spanId: string;
  /** The caller's sampling decision; undefined when it left the decision to us (B3 without a flag). */
  readonly sampled: boolean | undefined;
  /** B3 debug (`x-b3-flags: 1`, `b3: ...-d`): sampled, and the collector should keep it. */
  readonly debug: boolean;
  /** W3C tracestate as received (vendor data carried along untouched). */
  readonly traceState: string | undefined;
}

/** What a request carried: a span context, a bare sampling decision (`b3: 0`), or nothing. */
export type Incoming = { readonly kind: 'context'; readonly context: SpanContext } | { readonly kind: 'decision'; readonly sampled: boolean } | null;

/** Which header form the tracer reads first and always writes. */
export type PropagationFormat = 'w3c' | 'b3';

const HEX = /^[0-9a-f]+$/;
const ZERO = /^0+$/;

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function isId(v: string, len: number): boolean {
  return v.length === len && HEX.test(v) && !ZERO.test(v);
}

/**
 * W3C traceparent: `00-<32 hex trace-id>-<16 hex parent-id>-<2 hex flags>`. Version ff is invalid;
 * a later version may append fields after another dash, which are ignored (spec §3.2.4).
 */
export function parseTraceparent(value: string, traceState?: string): SpanContext | null {
  const v = value.trim();
  if (v.length < 55 || v.charCodeAt(2) !== 45 || v.charCodeAt(35) !== 45 || v.charCodeAt(52) !== 45) return null;
  const version = v.slice(0, 2);
  if (!HEX.test(version) || version === 'ff') return null;
  if (version === '00' ? v.length !== 55 : v.length > 55 && v.charCodeAt(55) !== 45) return null;
  const traceId = v.slice(3, 35);
  const spanId = v.slice(36, 52);
  const flags = v.slice(53, 55);
  if (!isId(traceId, 32) || !isId(spanId, 16) || !HEX.test(flags)) return null;
  return { traceId, spanId, sampled: (parseInt(flags, 16) & 1) === 1, debug: false, traceState: traceState || undefined };
}

export function formatTraceparent(traceId: string, spanId: string, sampled: boolean): string {
  return `00-${traceId.length === 16 ? `0000000000000000${traceId}` : traceId}-${spanId}-${sampled ? '01' : '00'}`;
}

/** B3 sampling state: `1`/`0`, and the legacy `true`/`false`; `d` only in the single header. */
function b3Sampled(v: string | undefined): boolean | undefined {
  if (v === '1' || v === 'true') return true;
  if (v === '0' || v === 'false') return false;
  return undefined;
}

/** B3 multi-header. A lone `x-b3-sampled` (no ids) is a sampling decision without a parent. */
export function parseB3Multi(h: HeaderMap): Incoming {
  const rawTrace = first(h['x-b3-traceid']);
  const rawSpan = first(h['x-b3-spanid']);
  const debug = first(h['x-b3-flags']) === '1';
  const sampledFlag = b3Sampled(first(h['x-b3-sampled'])?.toLowerCase());
  const sampled = debug ? true : sampledFlag;
  if (rawTrace === undefined && rawSpan === undefined) {
    return sampled === undefined ? null : { kind: 'decision', sampled };
  }
  const traceId = rawTrace?.toLowerCase() ?? '';
  const spanId = rawSpan?.toLowerCase() ?? '';
  if (!(isId(traceId, 16) || isId(traceId, 32)) || !isId(spanId, 16)) return null;
  return { kind: 'context', context: { traceId, spanId, sampled, debug, traceState: undefined } };
}

/** B3 single header: `{traceid}-{spanid}[-{sampling}[-{parentspanid}]]`, or only `{sampling}`. */
export function parseB3Single(value: string): Incoming {
  const v = value.trim().toLowerCase();
  if (v === '0' || v === '1' || v === 'd') return { kind: 'decision', sampled: v !== '0' };
  const parts = v.split('-');
  if (parts.length < 2 || parts.length > 4) return null;
  const [traceId, spanId, sampling, parent] = parts as [string, string, string | undefined, string | undefined];
  if (!(isId(traceId, 16) || isId(traceId, 32)) || !isId(spanId, 16)) return null;
  if (sampling !== undefined && sampling !== '0' && sampling !== '1' && sampling !== 'd') return null;
  if (parent !== undefined && !isId(parent, 16)) return null;
  const debug = sampling === 'd';
  return { kind: 'context', context: { traceId, spanId, sampled: sampling === undefined ? undefined : sampling !== '0', debug, traceState: undefined } };
}

/**
 * The caller's context from the forwarded headers: the tracer's own format first, then the
 * other ones (so a W3C-only application still joins a Zipkin-configured mesh and the reverse).
 * Malformed headers are ignored, as if absent: the hop then starts a new trace.
 */
export function extractContext(h: HeaderMap, format: PropagationFormat): Incoming {
  const tp = h.traceparent;
  const w3c = (): Incoming => {
    if (tp === undefined) return null;
    // Two traceparent headers are invalid (spec §3.2.1); tracestate may arrive split over several.
    if (Array.isArray(tp)) return null;
    const ts = h.tracestate;
    const c = parseTraceparent(tp, Array.isArray(ts) ? ts.join(',') : ts);
    return c ? { kind: 'context', context: c } : null;
  };
  const b3 = (): Incoming => {
    const single = first(h.b3);
    const s = single !== undefined ? parseB3Single(single) : null;
    // The single header wins over the multi ones (the B3 spec's precedence).
    return s ?? parseB3Multi(h);
  };
  if (format === 'w3c') return w3c() ?? b3();
  return b3() ?? w3c();
}

/** The span context a hop writes into the request it forwards. */
export interface OutgoingContext {
  readonly traceId: string;
  readonly spanId: string;
  /** The span this one is a child of (B3 carries it as x-b3-parentspanid). */
  readonly parentSpanId: string | undefined;
  readonly sampled: boolean;
  readonly debug: boolean;
}

/**
 * Writes `ctx` into the forwarded headers: always in the tracer's format, and in every other
 * format the request already carried (so no stale context travels beside the fresh one).
 * tracestate, when present, is forwarded unchanged (this hop adds no vendor entry).
 */
export function injectContext(h: HeaderMap, ctx: OutgoingContext, format: PropagationFormat): void {
  if (format === 'w3c' || h.traceparent !== undefined) {
    h.traceparent = formatTraceparent(ctx.traceId, ctx.spanId, ctx.sampled);
  }
  if (format === 'b3' || h['x-b3-traceid'] !== undefined || h['x-b3-spanid'] !== undefined || h['x-b3-sampled'] !== undefined) {
    h['x-b3-traceid'] = ctx.traceId;
    h['x-b3-spanid'] = ctx.spanId;
    if (ctx.parentSpanId) h['x-b3-parentspanid'] = ctx.parentSpanId;
    else delete h['x-b3-parentspanid'];
    h['x-b3-sampled'] = ctx.sampled ? '1' : '0';
    if (ctx.debug) h['x-b3-flags'] = '1';
    else delete h['x-b3-flags'];
  }
  if (h.b3 !== undefined) {
    const sampling = ctx.debug ? 'd' : ctx.sampled ? '1' : '0';
    h.b3 = `${ctx.traceId}-${ctx.spanId}-${sampling}${ctx.parentSpanId ? `-${ctx.parentSpanId}` : ''}`;
  }
}

/** 8 hex characters from one draw of the injected random source. */
function hex8(random: Random): string {
  return ((random.next() * 0x100000000) >>> 0).toString(16).padStart(8, '0');
}

/** A new 64-bit span id (never all zeros, which both specs reserve for "none"). */
export function newSpanId(random: Random): string {
  for (;;) {
    const id = hex8(random) + hex8(random);
    if (id !== '0000000000000000') return id;
  }
}

/** A new 128-bit trace id (Istio turns on 128-bit ids for Zipkin too). */
export function newTraceId(random: Random): string {
  for (;;) {
    const id = hex8(random) + hex8(random) + hex8(random) + hex8(random);
    if (!ZERO.test(id)) return id;
  }
}
