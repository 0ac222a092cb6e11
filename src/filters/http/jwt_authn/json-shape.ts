// proto3-JSON shape checks for the jwt_authn config: each returns the value in the type the
// field has, or throws a ConfigError naming the field (`JwtAuthentication.providers.a.issuer:
// expected a string, got 3`), so a bad config is NACKed with a reason a person can act on.

import { ConfigError } from '../api.js';
import { parseDurationParts } from '../../../xds/protos.js';

export type Obj = Record<string, unknown>;

export function object(v: unknown, at: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ConfigError(`${at}: expected an object, got ${JSON.stringify(v)}`);
  return v as Obj;
}

export function array(v: unknown, at: string): unknown[] {
  if (!Array.isArray(v)) throw new ConfigError(`${at}: expected a list, got ${JSON.stringify(v)}`);
  return v;
}

export function string(v: unknown, at: string): string {
  if (typeof v !== 'string') throw new ConfigError(`${at}: expected a string, got ${JSON.stringify(v)}`);
  return v;
}

export function strings(v: unknown, at: string): string[] {
  return v === undefined ? [] : array(v, at).map((x, i) => string(x, `${at}[${i}]`));
}

export function bool(v: unknown, at: string): boolean {
  if (v === undefined) return false;
  if (typeof v !== 'boolean') throw new ConfigError(`${at}: expected true or false, got ${JSON.stringify(v)}`);
  return v;
}

export function uint32(v: unknown, at: string): number {
  if (v === undefined) return 0;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 4_294_967_295) {
    throw new ConfigError(`${at}: expected an integer in [0, 4294967295], got ${JSON.stringify(v)}`);
  }
  return v;
}

/** A google.protobuf.Duration ("5s", "0.250s") in milliseconds; negative durations are refused. */
export function durationMs(v: unknown, at: string): number {
  const parts = typeof v === 'string' ? parseDurationParts(v) : undefined;
  if (!parts || parts.seconds < 0 || parts.nanos < 0) throw new ConfigError(`${at}: expected a duration such as "5s" or "0.250s", got ${JSON.stringify(v)}`);
  return parts.seconds * 1000 + parts.nanos / 1e6;
}

/** Refuses fields outside `known`, naming them. */
export function onlyFields(o: Obj, known: readonly string[], at: string, message: string): void {
  for (const k of Object.keys(o)) {
    if (!known.includes(k)) throw new ConfigError(`${at}: unknown field "${k}" in ${message} (fields: ${known.filter((f) => f !== '@type').join(', ')})`);
  }
}

/** proto3 JSON leaves defaults out, but a writer may spell them: "", [], {}, null, false, 0. */
export function isEmptyValue(v: unknown): boolean {
  if (v === undefined || v === null || v === '' || v === false || v === 0) return true;
  if (Array.isArray(v)) return v.length === 0;
  return typeof v === 'object' && Object.keys(v).length === 0;
}

/** An HTTP header name (RFC 9110 token), lower-cased as Strait keeps header names. */
export function headerName(v: unknown, at: string): string {
  const s = string(v, at);
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(s)) throw new ConfigError(`${at}: "${s}" is not an HTTP header name`);
  return s.toLowerCase();
}
