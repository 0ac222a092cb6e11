// Trace header parsing and formatting: W3C traceparent/tracestate (the spec's valid and invalid
// examples), B3 multi-header and the single b3 header (B3 spec examples), which form wins, and
// what a hop writes back.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRandom } from '../../common/random.js';
import type { HeaderMap } from '../../dataplane/http/headers.js';
import { extractContext, formatTraceparent, injectContext, newSpanId, newTraceId, parseB3Multi, parseB3Single, parseTraceparent } from './trace-context.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

test('traceparent: the W3C example parses; sampled is flag bit 0; tracestate rides along', () => {
  assert.deepEqual(parseTraceparent(`00-${TRACE}-${SPAN}-01`, 'congo=t61rcWkgMzE'), { traceId: TRACE, spanId: SPAN, sampled: true, debug: false, traceState: 'congo=t61rcWkgMzE' });
  assert.equal(parseTraceparent(`00-${TRACE}-${SPAN}-00`)?.sampled, false);
  // Other flag bits do not change sampling.
  assert.equal(parseTraceparent(`00-${TRACE}-${SPAN}-03`)?.sampled, true);
  assert.equal(parseTraceparent(`00-${TRACE}-${SPAN}-02`)?.sampled, false);
});

test('traceparent: invalid values are ignored (as absent)', () => {
  const bad = [
    '', 'garbage',
    `00-${TRACE}-${SPAN}`,
    `00-${TRACE.toUpperCase()}-${SPAN}-01`, // upper-case hex
    `00-${'0'.repeat(32)}-${SPAN}-01`, // all-zero trace id
    `00-${TRACE}-${'0'.repeat(16)}-01`, // all-zero parent id
    `ff-${TRACE}-${SPAN}-01`, // version ff is forbidden
    `00-${TRACE}-${SPAN}-01-extra`, // version 00 has exactly four fields
    `00-${TRACE.slice(1)}-${SPAN}-01`,
    `00_${TRACE}_${SPAN}_01`,
    `00-${TRACE}-${SPAN}-0g`,
  ];
  for (const v of bad) assert.equal(parseTraceparent(v), null, v);
});

test('traceparent: a later version may append fields, which are ignored', () => {
  assert.equal(parseTraceparent(`01-${TRACE}-${SPAN}-01-what-the-future-holds`)?.spanId, SPAN);
  assert.equal(parseTraceparent(`01-${TRACE}-${SPAN}-01`)?.traceId, TRACE);
  assert.equal(parseTraceparent(`01-${TRACE}-${SPAN}-01x`), null);
});

test('formatTraceparent: version 00, padded 64-bit ids, flags 01/00', () => {
  assert.equal(formatTraceparent(TRACE, SPAN, true), `00-${TRACE}-${SPAN}-01`);
  assert.equal(formatTraceparent('a3ce929d0e0e4736', SPAN, false), `00-0000000000000000a3ce929d0e0e4736-${SPAN}-00`);
});

test('B3 multi: 128- and 64-bit trace ids, sampled 1/0/true/false, absent = deferred, x-b3-flags: 1 = debug', () => {
  const ctx = (h: HeaderMap) => {
    const r = parseB3Multi(h);
    return r?.kind === 'context' ? r.context : r;
  };
  assert.deepEqual(ctx({ 'x-b3-traceid': TRACE, 'x-b3-spanid': SPAN, 'x-b3-sampled': '1' }), { traceId: TRACE, spanId: SPAN, sampled: true, debug: false, traceState: undefined });
  assert.equal((ctx({ 'x-b3-traceid': 'a3ce929d0e0e4736', 'x-b3-spanid': SPAN }) as { traceId: string }).traceId, 'a3ce929d0e0e4736');
  assert.equal((ctx({ 'x-b3-traceid': TRACE, 'x-b3-spanid': SPAN }) as { sampled: unknown }).sampled, undefined);
  assert.equal((ctx({ 'x-b3-traceid': TRACE, 'x-b3-spanid': SPAN, 'x-b3-sampled': '0' }) as { sampled: unknown }).sampled, false);
  assert.equal((ctx({ 'x-b3-traceid': TRACE, 'x-b3-spanid': SPAN, 'x-b3-sampled': 'true' }) as { sampled: unknown }).sampled, true);
  assert.equal((ctx({ 'x-b3-traceid': TRACE, 'x-b3-spanid': SPAN, 'x-b3-sampled': 'false' }) as { sampled: unknown }).sampled, false);
  assert.deepEqual(ctx({ 'x-b3-traceid': TRACE, 'x-b3-spanid': SPAN, 'x-b3-flags': '1' }), { traceId: TRACE, spanId: SPAN, sampled: true, debug: true, traceState: undefined });
  // B3 ids are lower-hex, but upper-case ones are understood.
  assert.equal((ctx({ 'x-b3-traceid': TRACE.toUpperCase(), 'x-b3-spanid': SPAN.toUpperCase() }) as { spanId: string }).spanId, SPAN);
  // A sampling decision without ids.
  assert.deepEqual(parseB3Multi({ 'x-b3-sampled': '0' }), { kind: 'decision', sampled: false });
  assert.deepEqual(parseB3Multi({ 'x-b3-flags': '1' }), { kind: 'decision', sampled: true });
  assert.equal(parseB3Multi({}), null);
  // Broken ids: ignored.
  assert.equal(parseB3Multi({ 'x-b3-traceid': TRACE, 'x-b3-spanid': 'xyz' }), null);
  assert.equal(parseB3Multi({ 'x-b3-traceid': TRACE }), null);
  assert.equal(parseB3Multi({ 'x-b3-traceid': '0'.repeat(32), 'x-b3-spanid': SPAN }), null);
  assert.equal(parseB3Multi({ 'x-b3-traceid': TRACE.slice(2), 'x-b3-spanid': SPAN }), null);
});

test('b3 single header: all four shapes, and the bare sampling states', () => {
  const P = 'e457b5a2e4d86bd1';
  assert.deepEqual(parseB3Single(`${TRACE}-${SPAN}-1-${P}`), { kind: 'context', context: { traceId: TRACE, spanId: SPAN, sampled: true, debug: false, traceState: undefined } });
  assert.deepEqual(parseB3Single(`${TRACE}-${SPAN}-d`), { kind: 'context', context: { traceId: TRACE, spanId: SPAN, sampled: true, debug: true, traceState: undefined } });
  assert.deepEqual(parseB3Single(`a3ce929d0e0e4736-${SPAN}-0`), { kind: 'context', context: { traceId: 'a3ce929d0e0e4736', spanId: SPAN, sampled: false, debug: false, traceState: undefined } });
  assert.deepEqual(parseB3Single(`${TRACE}-${SPAN}`), { kind: 'context', context: { traceId: TRACE, spanId: SPAN, sampled: undefined, debug: false, traceState: undefined } });
  assert.deepEqual(parseB3Single('0'), { kind: 'decision', sampled: false });
  assert.deepEqual(parseB3Single('1'), { kind: 'decision', sampled: true });
  assert.deepEqual(parseB3Single('d'), { kind: 'decision', sampled: true });
  for (const v of ['', '2', `${TRACE}-${SPAN}-x`, `${TRACE}-${SPAN}-1-zz`, `${TRACE}`, `${TRACE}-${SPAN}-1-${P}-more`]) assert.equal(parseB3Single(v), null, v);
});

test('extract: the tracer\'s own format first, the other as a fallback; b3 wins over x-b3-*', () => {
  const both: HeaderMap = { traceparent: `00-${TRACE}-${SPAN}-01`, 'x-b3-traceid': 'a3ce929d0e0e4736', 'x-b3-spanid': 'e457b5a2e4d86bd1', 'x-b3-sampled': '0' };
  const c = (r: ReturnType<typeof extractContext>) => (r?.kind === 'context' ? r.context : null);
  assert.equal(c(extractContext(both, 'w3c'))?.spanId, SPAN);
  assert.equal(c(extractContext(both, 'b3'))?.spanId, 'e457b5a2e4d86bd1');
  assert.equal(c(extractContext({ traceparent: `00-${TRACE}-${SPAN}-01` }, 'b3'))?.traceId, TRACE);
  assert.equal(c(extractContext({ 'x-b3-traceid': TRACE, 'x-b3-spanid': SPAN }, 'w3c'))?.spanId, SPAN);
  assert.equal(c(extractContext({ b3: `${TRACE}-e457b5a2e4d86bd1-1`, 'x-b3-traceid': TRACE, 'x-b3-spanid': SPAN }, 'b3'))?.spanId, 'e457b5a2e4d86bd1');
  // Split tracestate headers are one list; two traceparents are invalid.
  assert.equal(c(extractContext({ traceparent: `00-${TRACE}-${SPAN}-01`, tracestate: ['a=1', 'b=2'] }, 'w3c'))?.traceState, 'a=1,b=2');
  assert.equal(extractContext({ traceparent: [`00-${TRACE}-${SPAN}-01`, `00-${TRACE}-${SPAN}-01`] }, 'w3c'), null);
  // A broken traceparent falls back to valid B3.
  assert.equal(c(extractContext({ traceparent: 'junk', 'x-b3-traceid': TRACE, 'x-b3-spanid': SPAN }, 'w3c'))?.spanId, SPAN);
  assert.equal(extractContext({}, 'w3c'), null);
});

test('inject: the tracer\'s format always, the other formats only where the request carried them', () => {
  const ctx = { traceId: TRACE, spanId: 'b7ad6b7169203331', parentSpanId: SPAN, sampled: true, debug: false };
  const w: HeaderMap = {};
  injectContext(w, ctx, 'w3c');
  assert.deepEqual(w, { traceparent: `00-${TRACE}-b7ad6b7169203331-01` });

  const z: HeaderMap = {};
  injectContext(z, { ...ctx, sampled: false }, 'b3');
  assert.deepEqual(z, { 'x-b3-traceid': TRACE, 'x-b3-spanid': 'b7ad6b7169203331', 'x-b3-parentspanid': SPAN, 'x-b3-sampled': '0' });

  // Stale context in the other forms is replaced; tracestate is forwarded untouched.
  const mixed: HeaderMap = { traceparent: 'old', tracestate: 'v=1', 'x-b3-traceid': 'old', 'x-b3-spanid': 'old', 'x-b3-parentspanid': 'old', 'x-b3-flags': '1', b3: 'old' };
  injectContext(mixed, { ...ctx, parentSpanId: undefined }, 'b3');
  assert.deepEqual(mixed, {
    traceparent: `00-${TRACE}-b7ad6b7169203331-01`,
    tracestate: 'v=1',
    'x-b3-traceid': TRACE,
    'x-b3-spanid': 'b7ad6b7169203331',
    'x-b3-sampled': '1',
    b3: `${TRACE}-b7ad6b7169203331-1`,
  });
  const dbg: HeaderMap = { b3: 'x' };
  injectContext(dbg, { ...ctx, debug: true }, 'b3');
  assert.equal(dbg['x-b3-flags'], '1');
  assert.equal(dbg.b3, `${TRACE}-b7ad6b7169203331-d-${SPAN}`);
});

test('new ids: right length, lower hex, from the injected random source (seeded: reproducible)', () => {
  const a = seededRandom(7);
  const b = seededRandom(7);
  const t = newTraceId(a);
  assert.match(t, /^[0-9a-f]{32}$/);
  assert.equal(newTraceId(b), t);
  assert.match(newSpanId(a), /^[0-9a-f]{16}$/);
  // A source stuck at 0 never yields the reserved all-zero id... until it moves.
  let n = 0;
  const stuck = { next: () => (n++ < 4 ? 0 : 0.5) };
  assert.equal(newSpanId(stuck), '8000000080000000');
});
