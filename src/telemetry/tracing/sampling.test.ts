// Sampling decisions with a seeded random source: the request id's trace reason, forced traces
// (x-client-trace-id, x-envoy-force-trace), random sampling at a percentage, the overall cap.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRandom } from '../../common/random.js';
import type { Random } from '../../common/random.js';
import { decideTraceReason, perTenThousand, requestIdInteger, traceReasonOf, withTraceReason } from './sampling.js';

const RID = 'da543297-0dd6-498b-bd29-fdb184134c8c';
const fixed = (v: number): Random => ({ next: () => v });
const cfg = (random: number, overall = 100, client = 100) => ({ random: perTenThousand(random), client: perTenThousand(client), overall: perTenThousand(overall) });
const none = { requestId: RID, clientTraceId: false, forceTrace: false };
/** A non-UUID id: the draw comes from the random source. */
const plain = { ...none, requestId: 'not-a-uuid' };
/** A UUID whose number modulo 10 000 is `n` (Envoy draws from the id). */
const ridDrawing = (n: number) => ({ ...none, requestId: `${n.toString(16).padStart(8, '0')}-0dd6-498b-bd29-fdb184134c8c` });

test('percentages in parts per 10 000 (Envoy: 0.01 % precision), clamped', () => {
  assert.equal(perTenThousand(1), 100);
  assert.equal(perTenThousand(0.01), 1);
  assert.equal(perTenThousand(100), 10_000);
  assert.equal(perTenThousand(150), 10_000);
  assert.equal(perTenThousand(-1), 0);
  assert.equal(perTenThousand(Number.NaN), 0);
});

test('the trace reason in the request id\'s version nibble: 9 sampled, a service-forced, b client-forced', () => {
  assert.equal(traceReasonOf(RID), 'not_traceable');
  assert.equal(traceReasonOf(withTraceReason(RID, 'sampling')), 'sampling');
  assert.equal(withTraceReason(RID, 'sampling'), 'da543297-0dd6-998b-bd29-fdb184134c8c');
  assert.equal(withTraceReason(RID, 'service_forced').charAt(14), 'a');
  assert.equal(withTraceReason(RID, 'client_forced').charAt(14), 'b');
  assert.equal(withTraceReason(withTraceReason(RID, 'sampling'), 'not_traceable'), RID);
  // Not a UUID: left alone, never traced by reason.
  assert.equal(withTraceReason('seed-e2e-1', 'sampling'), 'seed-e2e-1');
  assert.equal(traceReasonOf('seed-e2e-1'), 'not_traceable');
  assert.equal(traceReasonOf(undefined), 'not_traceable');
});

test('random sampling: the draw decides below the percentage; 0 % never, 100 % always', () => {
  assert.equal(decideTraceReason(cfg(1), plain, fixed(0.0099)), 'sampling');
  assert.equal(decideTraceReason(cfg(1), plain, fixed(0.01)), 'not_traceable');
  assert.equal(decideTraceReason(cfg(0), plain, fixed(0)), 'not_traceable');
  assert.equal(decideTraceReason(cfg(100), plain, fixed(0.9999)), 'sampling');
});

test("a UUID request id is its own draw (Envoy's use_request_id_for_trace_sampling): every hop decides alike", () => {
  const never: Random = { next: () => assert.fail('no random draw expected') };
  assert.equal(requestIdInteger(RID), 0xda543297);
  assert.equal(decideTraceReason(cfg(1), ridDrawing(99), never), 'sampling');
  assert.equal(decideTraceReason(cfg(1), ridDrawing(100), never), 'not_traceable');
  assert.equal(decideTraceReason(cfg(1), ridDrawing(10_099), never), 'sampling');
  // A second hop at the same percentage sees the same number: an unsampled id stays unsampled.
  for (let i = 0; i < 200; i++) {
    const hop = ridDrawing(i * 53);
    const first = decideTraceReason(cfg(10), hop, never);
    const rid = withTraceReason(hop.requestId, first);
    assert.equal(decideTraceReason(cfg(10), { ...hop, requestId: rid }, never), first);
    assert.equal(rid === hop.requestId, first === 'not_traceable');
  }
});

test('random sampling over many seeded requests lands near the percentage', () => {
  const r = seededRandom(42);
  let n = 0;
  for (let i = 0; i < 20_000; i++) if (decideTraceReason(cfg(10), plain, r) === 'sampling') n++;
  assert.ok(n > 1_700 && n < 2_300, `${n} of 20000 at 10 %`);
  // Fresh UUIDs (the ids proxies generate) sample at the percentage too.
  let m = 0;
  for (let i = 0; i < 20_000; i++) if (decideTraceReason(cfg(10), ridDrawing(Math.floor(r.next() * 2 ** 32)), r) === 'sampling') m++;
  assert.ok(m > 1_700 && m < 2_300, `${m} of 20000 UUIDs at 10 %`);
});

test('x-client-trace-id forces a trace (client_sampling of the time); x-envoy-force-trace forces one', () => {
  assert.equal(decideTraceReason(cfg(0), { ...none, clientTraceId: true }, fixed(0.99)), 'client_forced');
  assert.equal(decideTraceReason(cfg(0, 100, 50), { ...none, clientTraceId: true }, fixed(0.6)), 'not_traceable');
  assert.equal(decideTraceReason(cfg(0, 100, 50), { ...none, clientTraceId: true }, fixed(0.4)), 'client_forced');
  assert.equal(decideTraceReason(cfg(0), { ...none, forceTrace: true }, fixed(0.99)), 'service_forced');
});

test('a request id already carrying a reason keeps it without a draw', () => {
  const never: Random = { next: () => assert.fail('no draw expected') };
  assert.equal(decideTraceReason(cfg(0), { ...none, requestId: withTraceReason(RID, 'sampling') }, never), 'sampling');
  assert.equal(decideTraceReason(cfg(0), { ...none, requestId: withTraceReason(RID, 'client_forced') }, never), 'client_forced');
});

test('overall sampling caps every reason, with the same draw', () => {
  assert.equal(decideTraceReason(cfg(100, 50), plain, fixed(0.7)), 'not_traceable');
  assert.equal(decideTraceReason(cfg(100, 50), plain, fixed(0.3)), 'sampling');
  assert.equal(decideTraceReason(cfg(100, 50), ridDrawing(7000), fixed(0)), 'not_traceable');
  assert.equal(decideTraceReason(cfg(100, 50), ridDrawing(3000), fixed(0.99)), 'sampling');
  assert.equal(decideTraceReason(cfg(0, 0), { ...none, forceTrace: true }, fixed(0)), 'not_traceable');
});
