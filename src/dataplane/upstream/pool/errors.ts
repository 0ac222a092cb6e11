// Errors the upstream pools hand to the router, and how to read any upstream error. Codes are
// stable strings the router maps to response flags: overflow → 503 UO, connect failure or
// timeout → 503 UF (outlier: local-origin connect_failed / timeout), anything after the
// connection was established → a reset (UC before the response, UR after).

export const UPSTREAM_OVERFLOW = 'STRAIT_UPSTREAM_OVERFLOW';
export const CONNECT_TIMEOUT = 'STRAIT_CONNECT_TIMEOUT';
export const TLS_NOT_READY = 'STRAIT_UPSTREAM_TLS_NOT_READY';
export const POOL_CLOSED = 'STRAIT_UPSTREAM_POOL_CLOSED';

export type UpstreamError = Error & { code: string };

export function upstreamError(code: string, message: string): UpstreamError {
  return Object.assign(new Error(message), { code });
}

/** Set on errors raised before the connection was ready (TCP connect, TLS handshake, DNS). */
const BEFORE_READY = Symbol('strait.upstream.beforeReady');

export function markConnectFailure(err: unknown): void {
  if (err !== null && typeof err === 'object') (err as Record<symbol, boolean>)[BEFORE_READY] = true;
}

export type UpstreamFailure = 'overflow' | 'connect_timeout' | 'connect_failure' | 'reset';

/** Classifies an error from a request sent through a pool (or from h2Session). */
export function upstreamFailure(err: unknown): UpstreamFailure {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === UPSTREAM_OVERFLOW) return 'overflow';
  if (code === CONNECT_TIMEOUT) return 'connect_timeout';
  if (code === TLS_NOT_READY || (err !== null && typeof err === 'object' && (err as Record<symbol, unknown>)[BEFORE_READY] === true)) return 'connect_failure';
  return 'reset';
}
