// Envoy's consecutive-error outlier detection: consecutive 5xx, consecutive gateway failures
// (502/503/504) and, in split mode, consecutive local-origin failures. Detection is inline, on
// the report that reaches the threshold; un-ejection happens on the interval sweep.
//
// Envoy semantics kept here:
// - Without splitExternalLocalOriginErrors a connect failure or reset counts as a 503 and a
//   timeout as a 504, so both feed the 5xx and the gateway counters.
// - A detection is counted (`ejections_detected_*`) even when enforcement (a percentage drawn
//   from Random) or the max-ejection-percent cap then declines to eject (`ejections_overflow`).
// - The cap admits an ejection only if the ejected share *after* it stays within
//   maxEjectionPercent (so with the default 10% a cluster of fewer than 10 hosts ejects nothing).
// - A host stays out for baseEjectionTime × its ejection multiplier, capped at max_ejection_time;
//   the multiplier grows by one per ejection and shrinks by one per sweep the host spends healthy.
// - Un-ejection resets the host's counters so a couple of errors do not eject it again at once.

import type { Clock, Timer } from '../../../common/clock.js';
import type { Random } from '../../../common/random.js';
import type { Counter, Gauge, StatsScope } from '../../../telemetry/stats/stats.js';
import type { Host } from '../host.js';
import type { OutlierConfig } from './outlier-config.js';
import type { Outcome, OutlierDetector } from './outlier-detector.js';

type Detection = 'consecutive_5xx' | 'consecutive_gateway_failure' | 'consecutive_local_origin_failure';

class HostMonitor {
  consecutive5xx = 0;
  consecutiveGateway = 0;
  consecutiveLocal = 0;
  /** Ejection-time multiplier. */
  backoff = 0;
  ejectedAt = 0;
  unejectedAt = -1;

  constructor(public host: Host) {}

  resetCounters(): void {
    this.consecutive5xx = 0;
    this.consecutiveGateway = 0;
    this.consecutiveLocal = 0;
  }
}

interface DetectorStats {
  readonly active: Gauge;
  readonly enforcedTotal: Counter;
  readonly overflow: Counter;
  readonly detected: Readonly<Record<Detection, Counter>>;
  readonly enforced: Readonly<Record<Detection, Counter>>;
}

const DETECTIONS: readonly Detection[] = ['consecutive_5xx', 'consecutive_gateway_failure', 'consecutive_local_origin_failure'];

export class ConsecutiveErrorsDetector implements OutlierDetector {
  private readonly monitors = new Map<string, HostMonitor>();
  private readonly callbacks: (() => void)[] = [];
  private readonly stats: DetectorStats;
  private active = 0;
  private timer: Timer | null = null;
  private stopped = false;

  constructor(
    private readonly cfg: OutlierConfig,
    private readonly clock: Clock,
    private readonly random: Random,
    scope: StatsScope,
  ) {
    const stat = (name: string) => [`outlier_detection_${name}`, {}, `outlier_detection.${name}`] as const;
    const counters = (kind: 'detected' | 'enforced') =>
      Object.fromEntries(DETECTIONS.map((d) => [d, scope.counter(...stat(`ejections_${kind}_${d}`))])) as Record<Detection, Counter>;
    this.stats = {
      active: scope.gauge(...stat('ejections_active')),
      enforcedTotal: scope.counter(...stat('ejections_enforced_total')),
      overflow: scope.counter(...stat('ejections_overflow')),
      detected: counters('detected'),
      enforced: counters('enforced'),
    };
  }

  report(host: Host, outcome: Outcome): void {
    const m = this.monitors.get(host.key);
    if (m === undefined || this.stopped) return;
    if ('status' in outcome) {
      // The connection worked, whatever the status: local-origin failures are no longer consecutive.
      m.consecutiveLocal = 0;
      this.putStatus(m, outcome.status);
    } else if (this.cfg.splitLocalOrigin) {
      if (++m.consecutiveLocal === this.cfg.consecutiveLocalOriginFailure) this.detected(m, 'consecutive_local_origin_failure');
    } else {
      this.putStatus(m, outcome.localOrigin === 'timeout' ? 504 : 503);
    }
  }

  private putStatus(m: HostMonitor, status: number): void {
    if (status < 500 || status > 599) {
      m.consecutive5xx = 0;
      m.consecutiveGateway = 0;
      return;
    }
    if (status >= 502 && status <= 504) {
      if (++m.consecutiveGateway === this.cfg.consecutiveGatewayFailure) this.detected(m, 'consecutive_gateway_failure');
    } else {
      m.consecutiveGateway = 0;
    }
    if (++m.consecutive5xx === this.cfg.consecutive5xx) this.detected(m, 'consecutive_5xx');
  }

  private detected(m: HostMonitor, kind: Detection): void {
    // Already out: the counter keeps climbing past the threshold and cannot fire again until a
    // success or the un-ejection resets it (as Envoy).
    if (m.host.ejected) return;
    this.stats.detected[kind].value++;
    this.tryEject(m, kind);
    if (kind === 'consecutive_5xx') m.consecutive5xx = 0;
    else if (kind === 'consecutive_gateway_failure') m.consecutiveGateway = 0;
    else m.consecutiveLocal = 0;
  }

  private tryEject(m: HostMonitor, kind: Detection): void {
    if ((100 * (this.active + 1)) / this.monitors.size > this.cfg.maxEjectionPercent) {
      this.stats.overflow.value++;
      return;
    }
    const enforcing = kind === 'consecutive_5xx' ? this.cfg.enforcing5xx : kind === 'consecutive_gateway_failure' ? this.cfg.enforcingGatewayFailure : this.cfg.enforcingLocalOriginFailure;
    // Draw only for a real percentage, so 0 and 100 cost no randomness.
    if (enforcing <= 0 || (enforcing < 100 && this.random.next() * 100 >= enforcing)) return;
    m.host.ejected = true;
    m.ejectedAt = this.clock.monotonic();
    if (m.backoff * this.cfg.baseEjectionMs < this.cfg.maxEjectionMs) m.backoff++;
    this.active++;
    this.stats.active.value = this.active;
    this.stats.enforcedTotal.value++;
    this.stats.enforced[kind].value++;
    this.changed();
  }

  /** The interval sweep: un-eject hosts whose time is up, decay the others' multipliers. */
  private sweep(): void {
    this.timer = null;
    if (this.stopped) return;
    const now = this.clock.monotonic();
    const { baseEjectionMs, maxEjectionMs, intervalMs } = this.cfg;
    let changed = false;
    for (const m of this.monitors.values()) {
      if (m.host.ejected) {
        if (Math.min(baseEjectionMs * m.backoff, maxEjectionMs) <= now - m.ejectedAt) {
          m.host.ejected = false;
          m.unejectedAt = now;
          m.resetCounters();
          this.active--;
          changed = true;
        }
      } else if (m.backoff > 0 && m.unejectedAt >= 0 && now - m.unejectedAt >= intervalMs) {
        m.backoff--;
      }
    }
    this.stats.active.value = this.active;
    this.timer = this.clock.setTimer(intervalMs, () => this.sweep());
    if (changed) this.changed();
  }

  setHosts(hosts: readonly Host[]): void {
    const next = new Map<string, HostMonitor>();
    for (const h of hosts) {
      const m = this.monitors.get(h.key) ?? new HostMonitor(h);
      if (m.host !== h) {
        // Same endpoint announced again (weight or health changed): its ejection follows it.
        h.ejected = m.host.ejected;
        m.host = h;
      }
      next.set(h.key, m);
    }
    for (const [key, m] of this.monitors) if (!next.has(key) && m.host.ejected) this.active--;
    this.monitors.clear();
    for (const [k, m] of next) this.monitors.set(k, m);
    this.stats.active.value = this.active;
  }

  onChange(cb: () => void): void {
    this.callbacks.push(cb);
  }

  start(): void {
    if (this.timer || this.stopped) return;
    this.stats.active.value = this.active;
    this.timer = this.clock.setTimer(this.cfg.intervalMs, () => this.sweep());
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = null;
  }

  private changed(): void {
    for (const cb of this.callbacks) cb();
  }
}
