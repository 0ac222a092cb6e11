// Whether a request is traced, decided as Envoy's connection manager decides it and remembered
// in the request id so that every later hop agrees:
//
// - a request id already marked traced (by an earlier proxy) stays traced;
// - `x-client-trace-id` forces a trace (client_sampling percent of the time, default 100 %);
// - `x-envoy-force-trace` forces one, from internal callers only (an edge client cannot);
// - otherwise random_sampling percent of requests are traced (Istio: MeshConfig
//   defaultConfig.tracing.sampling, default 1 %, or Telemetry randomSamplingPercentage);
// - overall_sampling caps all of the above.
//
// Envoy's UUID request-id extension packs the reason into the UUID's version nibble (index 14,
// always '4' in a fresh UUID v4): '9' sampled, 'a' forced by the service, 'b' forced by the
// client. A proxy downstream that sees the nibble keeps the decision without drawing again.
//
// The random and overall draws are the request id's own number (its first 8 hex digits, modulo
// 10 000), as Envoy's UUID extension does (use_request_id_for_trace_sampling, on in Istio):
// every hop that sees the same id draws the same number, so a hop never samples a request an
// earlier hop at the same percentage did not, and never rewrites the id's nibble: both sides'
// access logs keep the same x-request-id. Ids that are not UUIDs, and client_sampling, draw
// from the injected random source (tests seed it).

import type { Random } from '../../common/random.js';

export type TraceReason = 'not_traceable' | 'sampling' | 'service_forced' | 'client_forced';

/** Percentages as parts per 10 000, Envoy's precision for a Percent (0.01 %). */
export interface SamplingConfig {
  readonly random: number;
  readonly client: number;
  readonly overall: number;
}

/** A percentage (0..100, as in xDS `Percent` and Istio's fields) in parts per 10 000. */
export function perTenThousand(percent: number): number {
  if (!(percent > 0)) return 0;
  if (percent >= 100) return 10_000;
  return Math.round(percent * 100);
}

function isUuid(rid: string): boolean {
  return rid.length === 36 && rid.charCodeAt(8) === 45 && rid.charCodeAt(13) === 45 && rid.charCodeAt(18) === 45 && rid.charCodeAt(23) === 45;
}

/** The trace reason a request id carries (Envoy's UUIDRequestIDExtension::getTraceReason). */
export function traceReasonOf(rid: string | undefined): TraceReason {
  if (rid === undefined || !isUuid(rid)) return 'not_traceable';
  switch (rid.charCodeAt(14)) {
    case 57 /* 9 */:
      return 'sampling';
    case 97 /* a */:
      return 'service_forced';
    case 98 /* b */:
      return 'client_forced';
    default:
      return 'not_traceable';
  }
}

const NIBBLE: Record<TraceReason, string> = { not_traceable: '4', sampling: '9', service_forced: 'a', client_forced: 'b' };

/** The request id with `reason` packed in; ids that are not UUIDs are returned unchanged. */
export function withTraceReason(rid: string, reason: TraceReason): string {
  if (!isUuid(rid)) return rid;
  const n = NIBBLE[reason];
  return rid.charAt(14) === n ? rid : rid.slice(0, 14) + n + rid.slice(15);
}

export interface SamplingInput {
  readonly requestId: string | undefined;
  readonly clientTraceId: boolean;
  /** x-envoy-force-trace on a request from an internal caller. */
  readonly forceTrace: boolean;
}

const HEX8 = /^[0-9a-fA-F]{8}$/;

/** Envoy's UUIDRequestIDExtension::getInteger: the id's first 8 hex digits as a number. */
export function requestIdInteger(rid: string | undefined): number | undefined {
  if (rid === undefined || !isUuid(rid)) return undefined;
  const head = rid.slice(0, 8);
  return HEX8.test(head) ? Number.parseInt(head, 16) : undefined;
}

/** Envoy's mutateTracingRequestHeader: the final reason for this request. */
export function decideTraceReason(cfg: SamplingConfig, input: SamplingInput, random: Random): TraceReason {
  let reason = traceReasonOf(input.requestId);
  // One value serves the random and overall percentages, as in Envoy: the id's, else one draw.
  const fromId = requestIdInteger(input.requestId);
  let draw = fromId === undefined ? -1 : fromId % 10_000;
  const roll = (): number => (draw < 0 ? (draw = Math.floor(random.next() * 10_000)) : draw);
  // Envoy checks client_sampling against its runtime's random generator, not the id.
  const clientRoll = (): number => Math.floor(random.next() * 10_000);
  if (reason === 'not_traceable') {
    if (input.clientTraceId && (cfg.client >= 10_000 || clientRoll() < cfg.client)) reason = 'client_forced';
    else if (input.forceTrace) reason = 'service_forced';
    else if (cfg.random >= 10_000 || (cfg.random > 0 && roll() < cfg.random)) reason = 'sampling';
  }
  if (reason !== 'not_traceable' && cfg.overall < 10_000 && roll() >= cfg.overall) reason = 'not_traceable';
  return reason;
}
