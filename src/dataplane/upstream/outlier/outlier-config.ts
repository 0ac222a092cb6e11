// Envoy's OutlierDetection resource, validated and with Envoy's defaults filled in. Success-rate
// and failure-percentage detection are not implemented: a resource that enables success-rate
// enforcement explicitly is rejected rather than silently ignored (Istio always sends 0).

import type { OutlierDetection } from '../../../xds/resources.js';
import { ConfigError, optionalDurationMs } from '../../config/durations.js';

export interface OutlierConfig {
  readonly consecutive5xx: number;
  readonly consecutiveGatewayFailure: number;
  readonly consecutiveLocalOriginFailure: number;
  /** Percent chance (0..100) that a detection really ejects. */
  readonly enforcing5xx: number;
  readonly enforcingGatewayFailure: number;
  readonly enforcingLocalOriginFailure: number;
  readonly splitLocalOrigin: boolean;
  readonly intervalMs: number;
  readonly baseEjectionMs: number;
  /** Envoy's max_ejection_time: 300 s, or the base time when that is longer. */
  readonly maxEjectionMs: number;
  readonly maxEjectionPercent: number;
}

const MAX_EJECTION_MS = 300_000;

export function outlierConfig(cluster: string, od: OutlierDetection | undefined): OutlierConfig | null {
  if (!od) return null;
  const where = `cluster ${cluster} outlierDetection`;
  const count = (v: number | undefined, field: string, dflt: number) => {
    if (v === undefined) return dflt;
    if (!Number.isInteger(v) || v < 0 || v > 4294967295) throw new ConfigError(`${where}.${field}: must be an integer between 0 and 4294967295, got ${v}`);
    return v;
  };
  const percent = (v: number | undefined, field: string, dflt: number) => {
    if (v === undefined) return dflt;
    if (!Number.isInteger(v) || v < 0 || v > 100) throw new ConfigError(`${where}.${field}: must be a percentage between 0 and 100, got ${v}`);
    return v;
  };
  const intervalMs = optionalDurationMs(od.interval, `${where}.interval`, 10_000);
  if (intervalMs <= 0) throw new ConfigError(`${where}.interval: must be greater than 0`);
  const baseEjectionMs = optionalDurationMs(od.baseEjectionTime, `${where}.baseEjectionTime`, 30_000);
  if (baseEjectionMs <= 0) throw new ConfigError(`${where}.baseEjectionTime: must be greater than 0`);
  if (percent(od.enforcingSuccessRate, 'enforcingSuccessRate', 0) > 0) {
    throw new ConfigError(`${where}.enforcingSuccessRate: success-rate outlier detection is not supported (set it to 0)`);
  }
  return {
    consecutive5xx: count(od.consecutive5xx, 'consecutive5xx', 5),
    consecutiveGatewayFailure: count(od.consecutiveGatewayFailure, 'consecutiveGatewayFailure', 5),
    consecutiveLocalOriginFailure: count(od.consecutiveLocalOriginFailure, 'consecutiveLocalOriginFailure', 5),
    enforcing5xx: percent(od.enforcingConsecutive5xx, 'enforcingConsecutive5xx', 100),
    enforcingGatewayFailure: percent(od.enforcingConsecutiveGatewayFailure, 'enforcingConsecutiveGatewayFailure', 0),
    enforcingLocalOriginFailure: percent(od.enforcingConsecutiveLocalOriginFailure, 'enforcingConsecutiveLocalOriginFailure', 100),
    splitLocalOrigin: od.splitExternalLocalOriginErrors ?? false,
    intervalMs,
    baseEjectionMs,
    maxEjectionMs: Math.max(MAX_EJECTION_MS, baseEjectionMs),
    maxEjectionPercent: percent(od.maxEjectionPercent, 'maxEjectionPercent', 10),
  };
}
