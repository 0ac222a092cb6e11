// When the identity agent renews its certificate, and how it waits after a failure. Pure: times
// come in as numbers, randomness from the injected Random, so the schedule is testable without
// sleeping.
//
// Renewal starts at half the certificate's lifetime (Istio's SECRET_GRACE_PERIOD_RATIO 0.5),
// moved by up to ±10 % of that delay so proxies started together do not all renew in the same
// instant (Istio jitters the ratio for the same reason). A failed renewal is retried with
// exponential backoff, never waiting past a point a few retries before expiry, so a CA that
// comes back in time is always asked again before the certificate runs out.

import type { Random } from '../../common/random.js';

export interface RenewalPolicy {
  /** Fraction of the lifetime after which renewal starts. */
  readonly graceRatio: number;
  /** Relative spread of the renewal time: ±jitter × (the delay). */
  readonly jitter: number;
  /** First retry delay after a failure, ms. */
  readonly initialBackoffMs: number;
  /** Longest retry delay, ms. */
  readonly maxBackoffMs: number;
}

export const DEFAULT_RENEWAL: RenewalPolicy = { graceRatio: 0.5, jitter: 0.1, initialBackoffMs: 1000, maxBackoffMs: 60_000 };

/** Clock time (ms) at which a certificate valid over [notBefore, notAfter] is renewed. */
export function renewalTime(notBefore: number, notAfter: number, random: Random, policy: RenewalPolicy = DEFAULT_RENEWAL): number {
  const lifetime = Math.max(0, notAfter - notBefore);
  const delay = lifetime * policy.graceRatio * (1 + policy.jitter * (2 * random.next() - 1));
  return notBefore + Math.min(delay, lifetime);
}

/**
 * Delay before retry number `attempt` (1 for the first retry): doubling from the initial backoff
 * up to the maximum, each drawn between half and all of that (spreading retries from many proxies
 * after a control plane restart), and never more than a quarter of the time the certificate has
 * left, so several attempts still fit before it expires.
 */
export function retryDelay(attempt: number, remainingMs: number, random: Random, policy: RenewalPolicy = DEFAULT_RENEWAL): number {
  const ceiling = Math.min(policy.maxBackoffMs, policy.initialBackoffMs * 2 ** Math.min(30, Math.max(0, attempt - 1)));
  const drawn = ceiling * (0.5 + 0.5 * random.next());
  const bound = remainingMs > 0 ? Math.max(policy.initialBackoffMs / 2, remainingMs / 4) : policy.maxBackoffMs;
  return Math.max(1, Math.min(drawn, bound));
}
