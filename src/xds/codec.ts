// Converts xDS resources between their proto3-JSON shape (src/xds/resources.ts) and the
// protobuf `Any` messages carried in DiscoveryResponse.resources on the wire. Input is checked
// as a proto3-JSON parser would: unknown fields, unknown enum names and malformed durations are
// errors that name the offending field (the proxy turns them into a NACK).

import protobuf from 'protobufjs';
import { lookupType, parseDurationParts, WRAPPER_TYPES, xdsRoot } from './protos.js';
import type { TypeUrl, XdsResource } from './resources.js';

export interface AnyMessage {
  type_url: string;
  value: Uint8Array;
}

/** Options giving proto3 JSON: enums as names, 64-bit ints as numbers, defaults omitted. */
export const JSON_OPTIONS: protobuf.IConversionOptions = { longs: Number, enums: String, bytes: String, json: true, defaults: false };

const typeCache = new Map<string, protobuf.Type>();

function typeForUrl(typeUrl: string): protobuf.Type {
  let t = typeCache.get(typeUrl);
  if (!t) {
    const name = typeUrl.slice(typeUrl.lastIndexOf('/') + 1);
    try {
      t = lookupType(name);
    } catch {
      throw new TypeError(`unknown type URL "${typeUrl}"`);
    }
    typeCache.set(typeUrl, t);
  }
  return t;
}

const WRAPPERS = new Set(WRAPPER_TYPES.map((n) => `.google.protobuf.${n}`));

/** Converts proto3 JSON into the plain-object form protobufjs's fromObject accepts. */
function toProtoObject(type: protobuf.Type, json: unknown, where: string): Record<string, unknown> {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new TypeError(`${where}: expected an object for ${type.fullName.slice(1)}`);
  }
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(json as Record<string, unknown>)) {
    const field = type.fields[key];
    if (!field) throw new TypeError(`${where}: unknown field "${key}" in ${type.fullName.slice(1)}`);
    if (value === null || value === undefined) continue;
    const at = `${where}.${key}`;
    if (field.map) {
      const m: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) m[k] = convertValue(field, v, `${at}[${k}]`);
      out[key] = m;
    } else if (field.repeated) {
      if (!Array.isArray(value)) throw new TypeError(`${at}: expected a list`);
      out[key] = value.map((v, i) => convertValue(field, v, `${at}[${i}]`));
    } else {
      out[key] = convertValue(field, value, at);
    }
  }
  return out;
}

function convertValue(field: protobuf.Field, value: unknown, at: string): unknown {
  const rt = field.resolvedType;
  if (rt instanceof protobuf.Enum) {
    if (typeof value === 'number' || (typeof value === 'string' && value in rt.values)) return value;
    throw new TypeError(`${at}: "${String(value)}" is not one of ${Object.keys(rt.values).join(', ')}`);
  }
  if (!(rt instanceof protobuf.Type)) return value;
  return wellKnownOrMessage(rt, value, at);
}

function wellKnownOrMessage(type: protobuf.Type, value: unknown, at: string): unknown {
  const name = type.fullName;
  if (name === '.google.protobuf.Duration') {
    if (typeof value !== 'string') throw new TypeError(`${at}: expected a duration string such as "1.5s"`);
    const parts = parseDurationParts(value);
    if (!parts) throw new TypeError(`${at}: invalid duration "${value}" (expected e.g. "1.5s")`);
    return parts;
  }
  if (WRAPPERS.has(name)) return { value };
  if (name === '.google.protobuf.Struct') return structToProto(value, at);
  if (name === '.google.protobuf.Value') return valueToProto(value);
  if (name === '.google.protobuf.ListValue') return { values: (value as unknown[]).map(valueToProto) };
  if (name === '.google.protobuf.Any') return anyToProto(value, at);
  return toProtoObject(type, value, at);
}

function structToProto(value: unknown, at: string): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new TypeError(`${at}: expected an object`);
  const fields: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) fields[k] = valueToProto(v);
  return { fields };
}

function valueToProto(v: unknown): unknown {
  if (v === null || v === undefined) return { nullValue: 0 };
  if (typeof v === 'number') return { numberValue: v };
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  if (Array.isArray(v)) return { listValue: { values: v.map(valueToProto) } };
  return { structValue: structToProto(v, '') };
}

function anyToProto(value: unknown, at: string): AnyMessage {
  const { '@type': typeUrl, ...rest } = value as { '@type'?: string };
  if (typeof typeUrl !== 'string') throw new TypeError(`${at}: an Any needs "@type"`);
  const inner = typeForUrl(typeUrl);
  return { type_url: typeUrl, value: inner.encode(inner.fromObject(toProtoObject(inner, rest, at))).finish() };
}

/** Encodes one resource; throws a TypeError naming the bad field when the shape is wrong. */
export function encodeResource(typeUrl: TypeUrl | string, resource: XdsResource | Record<string, unknown>): AnyMessage {
  const type = typeForUrl(typeUrl);
  const msg = type.fromObject(toProtoObject(type, resource, type.name));
  return { type_url: typeUrl, value: type.encode(msg).finish() };
}

export function decodeResource<T = XdsResource>(any: AnyMessage): T {
  const type = typeForUrl(any.type_url);
  return type.toObject(type.decode(any.value), JSON_OPTIONS) as T;
}

/** Round-trips through protobuf: what a peer would see. */
export function normalizeResource<T extends XdsResource>(typeUrl: TypeUrl, resource: T): T {
  return decodeResource<T>(encodeResource(typeUrl, resource));
}

/** Encodes a whole message given in proto3 JSON (used for DiscoveryRequest/Response). */
export function jsonToMessage(type: protobuf.Type, json: Record<string, unknown>): protobuf.Message {
  return type.fromObject(toProtoObject(type, json, type.name));
}

export function discoveryTypes(): { request: protobuf.Type; response: protobuf.Type } {
  const root = xdsRoot();
  return {
    request: root.lookupType('envoy.service.discovery.v3.DiscoveryRequest'),
    response: root.lookupType('envoy.service.discovery.v3.DiscoveryResponse'),
  };
}
