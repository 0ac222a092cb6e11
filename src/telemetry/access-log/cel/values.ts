// CEL values as the access-log filter evaluates them, and CEL's equality and ordering on them
// (cel-spec langdef.md): numbers of every numeric type compare by value (heterogeneous
// equality), values of different types are unequal, ordering across types is an error.
// Errors are one sentinel value that every operator passes on (except && and ||, compile.ts).

/** The result of anything CEL would report as an error (absent attribute, no such overload). */
export const ERROR: unique symbol = Symbol('cel-error');

/** google.protobuf.Duration, in milliseconds (the precision Strait measures requests with). */
export class Duration {
  constructor(readonly ms: number) {}
}

/** request.headers / response.headers: map<string, string> read on demand from the stream. */
export class HeaderMap {
  constructor(
    /** Lower-cased name → value, or ERROR when absent. */
    readonly get: (name: string) => CelValue,
    private readonly names: () => string[],
  ) {}

  size(): number {
    return this.names().length;
  }
}

export type CelValue = boolean | number | string | null | Duration | HeaderMap | { readonly bytes: string } | readonly CelValue[] | typeof ERROR;

const isBytes = (v: CelValue): v is { readonly bytes: string } => typeof v === 'object' && v !== null && !(v instanceof Duration) && !(v instanceof HeaderMap) && !Array.isArray(v) && 'bytes' in v;

/** CEL ==: true, false, or ERROR when either side is an error (or a map, which Strait does not compare). */
export function celEquals(a: CelValue, b: CelValue): boolean | typeof ERROR {
  if (a === ERROR || b === ERROR) return ERROR;
  if (typeof a === 'number' || typeof a === 'string' || typeof a === 'boolean' || a === null) return a === b;
  if (a instanceof Duration) return b instanceof Duration && a.ms === b.ms;
  if (a instanceof HeaderMap || b instanceof HeaderMap) return ERROR;
  if (isBytes(a)) return isBytes(b) && a.bytes === b.bytes;
  if (Array.isArray(a)) {
    if (!Array.isArray(b)) return false;
    if (a.length !== b.length) return false;
    let result: boolean | typeof ERROR = true;
    for (let i = 0; i < a.length; i++) {
      const eq = celEquals(a[i] as CelValue, b[i] as CelValue);
      if (eq === false) return false;
      if (eq === ERROR) result = ERROR;
    }
    return result;
  }
  return false;
}

const order = <T extends number | string | boolean>(a: T, b: T): number => (a < b ? -1 : a > b ? 1 : 0);

/** CEL ordering: negative, zero or positive; ERROR across types or with NaN. */
export function celCompare(a: CelValue, b: CelValue): number | typeof ERROR {
  if (typeof a === 'number' && typeof b === 'number') return Number.isNaN(a) || Number.isNaN(b) ? ERROR : order(a, b);
  if (typeof a === 'string' && typeof b === 'string') return order(a, b);
  if (typeof a === 'boolean' && typeof b === 'boolean') return order(a, b);
  if (a instanceof Duration && b instanceof Duration) return order(a.ms, b.ms);
  if (a !== ERROR && b !== ERROR && isBytes(a) && isBytes(b)) return order(a.bytes, b.bytes);
  return ERROR;
}

/** size(): code points of a string, items of a list or map, bytes of bytes. */
export function celSize(v: CelValue): CelValue {
  if (typeof v === 'string') {
    let n = 0;
    for (const _ of v) n++;
    return n;
  }
  if (Array.isArray(v)) return v.length;
  if (v instanceof HeaderMap) return v.size();
  if (v !== ERROR && v !== null && typeof v === 'object' && isBytes(v)) return Buffer.byteLength(v.bytes);
  return ERROR;
}

const UNIT_MS: Readonly<Record<string, number>> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** CEL's duration() text (Go's time.ParseDuration): [-+]? then (number unit)+, or "0". */
export function parseCelDuration(text: string): Duration | undefined {
  let i = 0;
  let sign = 1;
  if (text[0] === '-' || text[0] === '+') {
    sign = text[0] === '-' ? -1 : 1;
    i = 1;
  }
  if (text.slice(i) === '0') return new Duration(0);
  if (i >= text.length) return undefined;
  let total = 0;
  while (i < text.length) {
    const start = i;
    while (i < text.length && ((text[i]! >= '0' && text[i]! <= '9') || text[i] === '.')) i++;
    const num = text.slice(start, i);
    if (num === '' || num === '.' || num.split('.').length > 2) return undefined;
    const unitStart = i;
    while (i < text.length && !((text[i]! >= '0' && text[i]! <= '9') || text[i] === '.')) i++;
    const factor = UNIT_MS[text.slice(unitStart, i)];
    if (factor === undefined) return undefined;
    total += Number(num) * factor;
  }
  return new Duration(sign * total);
}

/**
 * Envoy's response flags in the order of its CoreResponseFlag enum: response.flags is the bit
 * vector with bit i set for the flag at index i (StreamInfo::legacyResponseFlags).
 */
const FLAG_ORDER = ['LH', 'UH', 'UT', 'LR', 'UR', 'UF', 'UC', 'UO', 'NR', 'DI', 'FI', 'RL', 'UAEX', 'RLSE', 'DC', 'URX', 'SI', 'IH', 'DPE', 'UMSDR', 'RFCF', 'NFCF', 'DT', 'UPE', 'NC', 'OM', 'DF', 'DO', 'DR', 'UDO'];
// Bit 29 is the highest: the vector fits a 32-bit integer, so | is safe.
const FLAG_BIT: ReadonlyMap<string, number> = new Map(FLAG_ORDER.map((f, i) => [f, 1 << i]));

/** The response.flags bit vector of a request's flags (0 when none). */
export function responseFlagBits(flags: readonly string[]): number {
  let bits = 0;
  for (const f of flags) bits |= FLAG_BIT.get(f) ?? 0;
  return bits;
}

/** The bit of one flag (tests and docs: `response.flags == 32` is UF). */
export function responseFlagBit(flag: string): number | undefined {
  return FLAG_BIT.get(flag);
}
