// Shape checks for Envoy messages in their proto3-JSON form, shared by the authorization filters
// (RBAC HTTP and network, ext_authz). Config arrives either from a static file or decoded from
// the xDS wire, so every field is checked here, once, and named in the error: a ConfigError makes
// the proxy NACK the update instead of serving something other than what was asked.

import { ConfigError } from '../api.js';

export type JsonObject = Record<string, unknown>;

/** The value as an object (a message), or a ConfigError naming `at`. */
export function object(v: unknown, at: string, message = 'an object'): JsonObject {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ConfigError(`${at}: expected ${message}, got ${JSON.stringify(v)}`);
  return v as JsonObject;
}

/** Rejects fields the message does not have (or Strait does not implement, with `unsupported[field]` saying why). */
export function checkFields(o: JsonObject, at: string, type: string, known: readonly string[], unsupported: Readonly<Record<string, string>> = {}): void {
  for (const k of Object.keys(o)) {
    if (k === '@type') continue;
    const why = unsupported[k];
    if (why !== undefined) throw new ConfigError(`${at}.${k}: ${why}`);
    if (!known.includes(k)) throw new ConfigError(`${at}: unknown field "${k}" in ${type} (fields: ${known.join(', ')})`);
  }
}

/** Rejects an `@type` other than `expected` (an absent one is accepted: static configs omit it). */
export function checkType(o: JsonObject, at: string, expected: string): void {
  const t = o['@type'];
  if (t !== undefined && t !== expected) throw new ConfigError(`${at}: @type is ${JSON.stringify(t)}, expected ${expected}`);
}

export function optString(v: unknown, at: string, fallback = ''): string {
  if (v === undefined) return fallback;
  if (typeof v !== 'string') throw new ConfigError(`${at}: expected a string, got ${JSON.stringify(v)}`);
  return v;
}

export function optBool(v: unknown, at: string, fallback = false): boolean {
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') throw new ConfigError(`${at}: expected true or false, got ${JSON.stringify(v)}`);
  return v;
}

/** An integer field; proto3 JSON writes 64-bit integers as strings, so digit strings are accepted. */
export function optInt(v: unknown, at: string, min: number, max: number, fallback: number): number {
  if (v === undefined) return fallback;
  const n = typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) throw new ConfigError(`${at}: expected an integer in [${min}, ${max}], got ${JSON.stringify(v)}`);
  return n;
}

export function list(v: unknown, at: string, what: string): unknown[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new ConfigError(`${at}: expected a list of ${what}, got ${JSON.stringify(v)}`);
  return v;
}

/** The one field of a proto oneof that is set; ConfigError when none or several are. */
export function oneOf(o: JsonObject, at: string, fields: readonly string[]): string {
  const set = fields.filter((f) => o[f] !== undefined);
  if (set.length !== 1) throw new ConfigError(`${at}: set exactly one of ${fields.join(', ')}${set.length ? ` (got ${set.join(' and ')})` : ''}`);
  return set[0]!;
}
