// Istio's retry policy for routes (VS-17): its default when a VirtualService sets none (2
// retries on connect-failure, refused-stream, unavailable, cancelled and 503, on other hosts;
// MeshConfig.defaultHttpRetryPolicy replaces it), and the conversion of `retries`: attempts 0
// disables retries, status codes in retryOn become retriable_status_codes, perTryTimeout,
// retryIgnorePreviousHosts, backoff. With a consistent-hash destination, retries stay on the
// same host (no previous-hosts predicate), as Istio does.

import type { HTTPRetry, MeshConfig } from '../../config/types.js';
import type { RetryPolicy } from '../../xds/resources.js';

const PREVIOUS_HOSTS = { name: 'envoy.retry_host_predicates.previous_hosts' };

function defaults(hashPolicy: boolean): RetryPolicy {
  const p: RetryPolicy = {
    numRetries: 2,
    retryOn: 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes',
    retriableStatusCodes: [503],
    hostSelectionRetryMaxAttempts: 5,
  };
  if (!hashPolicy) p.retryHostPredicate = [PREVIOUS_HOSTS];
  return p;
}

export function msText(ms: number): string {
  return `${ms / 1000}s`;
}

/** Envoy's RetryPolicy for a rule, or undefined when retries are off (attempts: 0). */
export function convertRetries(retries: HTTPRetry | undefined, mesh: MeshConfig, hashPolicy: boolean): RetryPolicy | undefined {
  const spec = retries ?? mesh.defaultHttpRetryPolicy;
  const out = defaults(hashPolicy);
  if (!spec) return out;
  if (spec.attempts <= 0) return undefined;
  out.numRetries = spec.attempts;
  if (spec.retryOn) {
    const words: string[] = [];
    const codes: number[] = [];
    for (const raw of spec.retryOn.split(',')) {
      const w = raw.trim();
      if (!w) continue;
      if (/^\d{3}$/.test(w)) codes.push(Number(w));
      else words.push(w);
    }
    if (codes.length && !words.includes('retriable-status-codes')) words.push('retriable-status-codes');
    out.retryOn = words.join(',');
    out.retriableStatusCodes = codes;
  }
  if (spec.perTryTimeout) out.perTryTimeout = msText(spec.perTryTimeout.ms);
  if (spec.retryIgnorePreviousHosts === false) delete out.retryHostPredicate;
  else if (!hashPolicy) out.retryHostPredicate = [PREVIOUS_HOSTS];
  if (spec.backoff) out.retryBackOff = { baseInterval: msText(spec.backoff.ms) };
  return out;
}
