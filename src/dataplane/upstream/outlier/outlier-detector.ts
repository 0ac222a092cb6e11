// Outlier detection interface (Envoy's outlier_detection.h split between reporting and
// deciding). The router reports each finished attempt; a detector decides ejections and
// announces them so the cluster can rebuild its load balancer over the healthy hosts. A cluster
// without `outlierDetection` gets the inert detector, so the router always has one to call.

import type { Host } from '../host.js';

/** Failures of the proxy's own making: the upstream never answered. */
export type LocalOriginFailure = 'connect_failed' | 'timeout' | 'reset';

/** How one attempt ended: a response status, or a locally originated failure. */
export type Outcome = { readonly status: number } | { readonly localOrigin: LocalOriginFailure };

export interface OutlierDetector {
  /** Data path. A status < 500 is a success and resets the host's consecutive counters. */
  report(host: Host, outcome: Outcome): void;
  /** The cluster's hosts changed; state follows host keys, so a re-announced host keeps it. */
  setHosts(hosts: readonly Host[]): void;
  /** Called after any ejection or un-ejection. */
  onChange(cb: () => void): void;
  /** Starts the interval sweeps (called when the cluster is committed, never before). */
  start(): void;
  stop(): void;
}

export class InertOutlierDetector implements OutlierDetector {
  report(): void {}
  setHosts(): void {}
  onChange(): void {}
  start(): void {}
  stop(): void {}
}
