// proto3-JSON durations ("1.5s") to milliseconds, with errors that name the field.

import { parseDurationParts } from '../../xds/protos.js';

export class ConfigError extends Error {}

export function parseDurationMs(text: string, field: string): number {
  const parts = parseDurationParts(text);
  if (!parts || parts.seconds < 0 || parts.nanos < 0) throw new ConfigError(`${field}: invalid duration "${text}"`);
  return parts.seconds * 1000 + parts.nanos / 1e6;
}

export function optionalDurationMs(text: string | undefined, field: string, fallback: number): number {
  return text === undefined ? fallback : parseDurationMs(text, field);
}
