// Envoy's FractionalPercent (envoy/type/v3/percent.proto): a numerator over a fixed denominator
// of 100, 10,000 or 1,000,000. Fault percentages use it (Istio writes `percentage.value` 12.5 as
// 125000/MILLION), and so do the CORS filter's filterEnabled/shadowEnabled. Compiled once into
// plain numbers; a draw on the request path is one multiplication and one comparison.
//
// Shared by fault/ and cors/; it belongs in a common filter folder once one exists.

import type { Random } from '../../../common/random.js';
import { ConfigError } from '../api.js';

export interface Fraction {
  readonly numerator: number;
  readonly denominator: 100 | 10_000 | 1_000_000;
}

/** 0%: the value of an unset percentage field (proto3 default numerator 0). */
export const NEVER: Fraction = { numerator: 0, denominator: 100 };

const DENOMINATORS: Readonly<Record<string, Fraction['denominator']>> = {
  HUNDRED: 100,
  TEN_THOUSAND: 10_000,
  MILLION: 1_000_000,
  // proto3 JSON parsers also accept an enum's number.
  '0': 100,
  '1': 10_000,
  '2': 1_000_000,
};

const UINT32_MAX = 4_294_967_295;

/** Parses a FractionalPercent in proto3-JSON shape; `field` names it in errors. */
export function parseFractionalPercent(v: unknown, field: string): Fraction {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ConfigError(`${field}: expected a FractionalPercent object {numerator, denominator}`);
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (k !== 'numerator' && k !== 'denominator') throw new ConfigError(`${field}: unknown field "${k}" in FractionalPercent (fields: numerator, denominator)`);
  }
  const n = o.numerator ?? 0;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > UINT32_MAX) {
    throw new ConfigError(`${field}.numerator: expected an integer in [0, ${UINT32_MAX}], got ${JSON.stringify(n)}`);
  }
  const d = o.denominator ?? 'HUNDRED';
  const denominator = typeof d === 'string' || typeof d === 'number' ? DENOMINATORS[String(d)] : undefined;
  if (denominator === undefined) throw new ConfigError(`${field}.denominator: expected HUNDRED, TEN_THOUSAND or MILLION, got ${JSON.stringify(d)}`);
  return { numerator: n, denominator };
}

/**
 * One Bernoulli draw: true with probability numerator/denominator, capped at 1 as Envoy caps it.
 * 0% and 100% decide without drawing, so the common Istio values cost no randomness.
 */
export function drawFraction(f: Fraction, random: Random): boolean {
  if (f.numerator === 0) return false;
  if (f.numerator >= f.denominator) return true;
  return Math.floor(random.next() * f.denominator) < f.numerator;
}

/** "12.5%", for messages and docs. */
export function formatFraction(f: Fraction): string {
  const pct = Math.min(1, f.numerator / f.denominator) * 100;
  return `${Number(pct.toPrecision(6))}%`;
}
