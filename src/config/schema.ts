// A small typed schema language and the walker that checks a parsed manifest against it. A schema
// says, for every field, whether Strait implements it (`supported`: checked and converted), has no
// use for it on purpose (`ignored`: accepted silently, with the reason written down), or does not
// implement it yet although it is valid Kubernetes/Istio (`unsupported`: checked, kept as written,
// and reported as a warning). Anything else is an unknown field, which is an error with a
// suggestion. The same declarations produce the TypeScript type of the checked value (`Static`),
// so a kind's converter reads typed data instead of re-testing every field, and they feed the
// field-status table that documents what Strait supports (kinds/index.ts).
//
// We do not use a JSON Schema engine here: walking the value ourselves lets every message say
// what was expected and what was found, point at the key or the value, and distinguish the three
// statuses, which is most of what makes `strait validate` useful.

import type { FieldPath, Severity, SourcePosition } from './types.js';
import { didYouMean } from './suggest.js';

export type FieldStatus = 'supported' | 'ignored' | 'unsupported';
/** Which project defines a field; it names the project in unsupported-field warnings. */
export type Origin = 'Kubernetes' | 'Istio';

export const INVALID: unique symbol = Symbol('invalid');
export type Checked<T> = T | typeof INVALID;

/** A problem found by the walker, positioned by a path relative to the resource. */
export interface Finding {
  readonly severity: Severity;
  readonly code: string;
  readonly path: FieldPath;
  /** Point at the field's key (unknown fields, missing children) or at its value (bad values). */
  readonly anchor: 'key' | 'value';
  readonly message: string;
  readonly fix: string;
  /**
   * Overrides the position the path would give: for text embedded in a string value (the mesh
   * config YAML inside a ConfigMap), whose paths are not paths of the resource.
   */
  readonly position?: SourcePosition;
}

/** Collects findings while one resource is walked. */
export class WalkContext {
  readonly findings: Finding[] = [];
  errors = 0;

  constructor(
    /** For messages: "in VirtualService". */
    readonly kind: string,
  ) {}

  report(f: Finding): void {
    this.findings.push(f);
    if (f.severity === 'error') this.errors++;
  }

  error(path: FieldPath, code: string, message: string, fix: string, anchor: 'key' | 'value' = 'value'): void {
    this.report({ severity: 'error', code, path, anchor, message, fix });
  }

  warn(path: FieldPath, code: string, message: string, fix: string, anchor: 'key' | 'value' = 'value'): void {
    this.report({ severity: 'warning', code, path, anchor, message, fix });
  }
}

interface WalkState {
  readonly origin: Origin;
  /** Inside a field already reported as unsupported: check it, but do not warn again below it. */
  readonly inUnsupported: boolean;
}

export interface Schema<T> {
  readonly type: 'string' | 'int' | 'number' | 'bool' | 'map' | 'list' | 'object' | 'oneOf' | 'any';
  /** What the schema expects, for messages: "a string", "a list of integers". */
  readonly expected: string;
  /** Cheap type test (no reports), used by oneOf to pick an alternative. */
  accepts(value: unknown): boolean;
  check(value: unknown, path: FieldPath, ctx: WalkContext, state: WalkState): Checked<T>;
}

export type Static<S> = S extends Schema<infer T> ? T : never;

// ---- messages ----------------------------------------------------------------------------------

/** `spec.http[0].route` */
export function formatPath(path: FieldPath): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

function where(path: FieldPath): string {
  return path.length > 0 ? `${formatPath(path)}: ` : '';
}

function short(s: string): string {
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

/** "a string (\"80\")", "an integer (80)", "a list", ... */
export function describeValue(v: unknown): string {
  if (v === null || v === undefined) return 'nothing (null)';
  if (typeof v === 'string') return `a string (${JSON.stringify(short(v))})`;
  if (typeof v === 'number') return Number.isInteger(v) ? `an integer (${v})` : `a number (${v})`;
  if (typeof v === 'boolean') return `a boolean (${v})`;
  if (Array.isArray(v)) return 'a list';
  if (v instanceof Date) return 'a timestamp';
  if (typeof v === 'object') return 'a map';
  return typeof v;
}

function typeError(expected: string, value: unknown, path: FieldPath, ctx: WalkContext): typeof INVALID {
  let fix = `write ${expected} here`;
  if (expected === 'a string' && (typeof value === 'number' || typeof value === 'boolean')) {
    fix = `quote the value: "${String(value)}"`;
  } else if (expected.startsWith('an integer') && typeof value === 'string' && /^-?\d+$/.test(value.trim())) {
    fix = `remove the quotes: ${value.trim()}`;
  } else if (expected.startsWith('a list') && value !== null && typeof value !== 'object') {
    fix = `write it as a list, one item per line starting with '- '`;
  }
  ctx.error(path, 'wrong-type', `${where(path)}expected ${expected}, found ${describeValue(value)}`, fix);
  return INVALID;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

// ---- scalars -----------------------------------------------------------------------------------

export interface StringOptions {
  /** Allowed values. */
  readonly enum?: readonly string[];
  /** Compare enum values ignoring case (Istio protocols); the value is kept as written. */
  readonly enumIgnoreCase?: boolean;
  readonly nonEmpty?: boolean;
  /** Returns the rule in words when the value breaks it ("a DNS-1123 label: ..."). */
  readonly rule?: (v: string) => string | undefined;
  /** Overrides `expected` in messages ("a duration such as 1.5s"). */
  readonly expected?: string;
}

export function str(opts: StringOptions = {}): Schema<string> {
  const expected = opts.expected ?? 'a string';
  return {
    type: 'string',
    expected,
    accepts: (v) => typeof v === 'string',
    check(v, path, ctx) {
      if (typeof v !== 'string') return typeError('a string', v, path, ctx);
      if (opts.nonEmpty && v === '') {
        ctx.error(path, 'invalid-value', `${where(path)}must not be empty`, 'write a value, or remove the field');
        return INVALID;
      }
      if (opts.enum) {
        const ok = opts.enumIgnoreCase
          ? opts.enum.some((e) => e.toLowerCase() === v.toLowerCase())
          : opts.enum.includes(v);
        if (!ok) {
          const guess = didYouMean(v, opts.enum);
          ctx.error(
            path,
            'invalid-value',
            `${where(path)}${JSON.stringify(v)} is not one of ${opts.enum.join(', ')}`,
            guess ? `write ${guess}` : `write one of ${opts.enum.join(', ')}`,
          );
          return INVALID;
        }
      }
      const broken = opts.rule?.(v);
      if (broken !== undefined) {
        ctx.error(path, 'invalid-value', `${where(path)}${JSON.stringify(short(v))} is not valid: it must be ${broken}`, 'change the value to follow that rule');
        return INVALID;
      }
      return v;
    },
  };
}

/** A string from a fixed set, typed as that set. */
export function enumOf<const E extends readonly string[]>(values: E, opts: Omit<StringOptions, 'enum'> = {}): Schema<E[number]> {
  // Sound: the string check rejects every value outside `values`.
  return str({ ...opts, enum: values }) as Schema<E[number]>;
}

export function int(opts: { readonly min?: number; readonly max?: number } = {}): Schema<number> {
  const expected = 'an integer';
  return {
    type: 'int',
    expected,
    accepts: (v) => typeof v === 'number' && Number.isInteger(v),
    check(v, path, ctx) {
      if (typeof v !== 'number' || !Number.isInteger(v)) return typeError(expected, v, path, ctx);
      if ((opts.min !== undefined && v < opts.min) || (opts.max !== undefined && v > opts.max)) {
        const range =
          opts.max === undefined ? `at least ${opts.min}` : opts.min === undefined ? `at most ${opts.max}` : `between ${opts.min} and ${opts.max}`;
        ctx.error(path, 'invalid-value', `${where(path)}${v} is out of range: it must be ${range}`, `write an integer ${range}`);
        return INVALID;
      }
      return v;
    },
  };
}

export function num(): Schema<number> {
  return {
    type: 'number',
    expected: 'a number',
    accepts: (v) => typeof v === 'number',
    check: (v, path, ctx) => (typeof v === 'number' && Number.isFinite(v) ? v : typeError('a number', v, path, ctx)),
  };
}

export function bool(): Schema<boolean> {
  return {
    type: 'bool',
    expected: 'a boolean',
    accepts: (v) => typeof v === 'boolean',
    check: (v, path, ctx) => (typeof v === 'boolean' ? v : typeError('a boolean (true or false)', v, path, ctx)),
  };
}

/** Anything at all; for subtrees Strait neither checks nor uses (kept as written). */
export function anyValue(expected = 'any value'): Schema<unknown> {
  return { type: 'any', expected, accepts: () => true, check: (v) => v };
}

/** The first alternative whose type fits (e.g. targetPort: an integer or a port name). */
export function oneOf<A, B>(a: Schema<A>, b: Schema<B>): Schema<A | B> {
  const expected = `${a.expected} or ${b.expected}`;
  return {
    type: 'oneOf',
    expected,
    accepts: (v) => a.accepts(v) || b.accepts(v),
    check(v, path, ctx, state) {
      if (a.accepts(v)) return a.check(v, path, ctx, state);
      if (b.accepts(v)) return b.check(v, path, ctx, state);
      return typeError(expected, v, path, ctx);
    },
  };
}

/**
 * The same checks as `schema`, with the checked value converted by `fn`: defaults applied,
 * deprecated spellings folded, list entries given their `path`. The schema's own shape (`fields`,
 * `items`, `values`) is kept, so the field-status table still walks through it.
 */
export function mapped<S extends Schema<unknown>, T>(schema: S, fn: (value: Static<S>, path: FieldPath) => T): Schema<T> & Omit<S, keyof Schema<unknown>> {
  return {
    ...schema,
    check(v, path, ctx, state) {
      const r = schema.check(v, path, ctx, state);
      // Sound: a schema's check returns INVALID or a value of its static type.
      return r === INVALID ? INVALID : fn(r as Static<S>, path);
    },
  };
}

// ---- collections -------------------------------------------------------------------------------

export interface MapOptions {
  /** Returns the rule in words when a key breaks it. */
  readonly keyRule?: (k: string) => string | undefined;
  readonly expected?: string;
}

export interface MapSchema<T> extends Schema<Record<string, T>> {
  readonly type: 'map';
  readonly values: Schema<T>;
}

export function mapOf<T>(values: Schema<T>, opts: MapOptions = {}): MapSchema<T> {
  const expected = opts.expected ?? `a map of ${values.expected.replace(/^an? /, '')}s`;
  return {
    type: 'map',
    expected,
    values,
    accepts: isPlainObject,
    check(v, path, ctx, state) {
      if (!isPlainObject(v)) return typeError(expected, v, path, ctx);
      const before = ctx.errors;
      const out: Record<string, T> = {};
      for (const [k, item] of Object.entries(v)) {
        const p = [...path, k];
        const broken = opts.keyRule?.(k);
        if (broken !== undefined) {
          ctx.error(p, 'invalid-key', `${where(p)}key ${JSON.stringify(short(k))} is not valid: it must be ${broken}`, 'rename the key to follow that rule', 'key');
          continue;
        }
        const r = values.check(item, p, ctx, state);
        if (r !== INVALID) Object.defineProperty(out, k, { value: r, enumerable: true, writable: true, configurable: true });
      }
      return ctx.errors === before ? out : INVALID;
    },
  };
}

export interface ListOptions<T> {
  readonly minItems?: number;
  /** The API server's limit (a CRD's maxItems), when one exists. */
  readonly maxItems?: number;
  /** Runs when every item is valid. */
  readonly refine?: (items: readonly T[], r: Refiner) => void;
}

export interface ListSchema<T> extends Schema<T[]> {
  readonly type: 'list';
  readonly items: Schema<T>;
}

export function listOf<T>(items: Schema<T>, opts: ListOptions<T> = {}): ListSchema<T> {
  const noun = items.expected.replace(/^an? /, '');
  const expected = `a list of ${noun.endsWith('s') || noun.includes(' ') ? `(${noun})` : `${noun}s`}`;
  return {
    type: 'list',
    expected,
    items,
    accepts: Array.isArray,
    check(v, path, ctx, state) {
      if (!Array.isArray(v)) return typeError(expected, v, path, ctx);
      const before = ctx.errors;
      if (opts.minItems !== undefined && v.length < opts.minItems) {
        ctx.error(
          path,
          'invalid-value',
          `${where(path)}needs at least ${opts.minItems} item${opts.minItems === 1 ? '' : 's'}`,
          'add an item to the list',
          'key',
        );
      }
      if (opts.maxItems !== undefined && v.length > opts.maxItems) {
        ctx.error(path, 'invalid-value', `${where(path)}has ${v.length} items; at most ${opts.maxItems} are allowed`, `keep at most ${opts.maxItems} items`, 'key');
      }
      const out: T[] = [];
      v.forEach((item: unknown, i) => {
        const r = items.check(item, [...path, i], ctx, state);
        if (r !== INVALID) out.push(r);
      });
      if (ctx.errors !== before) return INVALID;
      opts.refine?.(out, new Refiner(path, ctx));
      return ctx.errors === before ? out : INVALID;
    },
  };
}

// ---- objects -----------------------------------------------------------------------------------

export interface FieldSpec<T = unknown, S extends FieldStatus = FieldStatus, R extends boolean = boolean> {
  readonly status: S;
  readonly required: R;
  /** Absent for ignored fields: their value is never looked at. */
  readonly schema?: Schema<T>;
  /** Why a field is ignored or not supported yet, or what a supported one defaults to. */
  readonly note?: string;
  /**
   * Unsupported fields only: the kind reports this field itself (in a refine hook) with a more
   * precise warning than the generic `unsupported-field` one, so the walker stays silent.
   */
  readonly ownWarning?: boolean;
}

/** A field Strait implements. */
export function field<T>(schema: Schema<T>, note?: string): FieldSpec<T, 'supported', false> {
  return { status: 'supported', required: false, schema, note };
}

/** A field Strait implements that must be present. */
export function required<T>(schema: Schema<T>, note?: string): FieldSpec<T, 'supported', true> {
  return { status: 'supported', required: true, schema, note };
}

/** A valid field with no meaning in Strait; accepted silently. `why` is documentation. */
export function ignored(why: string): FieldSpec<never, 'ignored', false> {
  return { status: 'ignored', required: false, note: why };
}

/**
 * A valid field Strait does not implement yet: checked, kept as written, and warned about (by the
 * walker, or by the kind itself when `ownWarning` is set).
 */
export function unsupported<T>(schema: Schema<T>, note?: string, opts: { readonly ownWarning?: boolean } = {}): FieldSpec<T, 'unsupported', false> {
  return { status: 'unsupported', required: false, schema, note, ...(opts.ownWarning ? { ownWarning: true } : {}) };
}

export type Fields = Readonly<Record<string, FieldSpec>>;

type Simplify<T> = { [K in keyof T]: T[K] } & {};
type ValueOf<F> = F extends FieldSpec<infer T, FieldStatus, boolean> ? T : never;
type RequiredKeys<F extends Fields> = {
  [K in keyof F]: F[K]['status'] extends 'ignored' ? never : F[K]['required'] extends true ? K : never;
}[keyof F];
type OptionalKeys<F extends Fields> = {
  [K in keyof F]: F[K]['status'] extends 'ignored' ? never : F[K]['required'] extends true ? never : K;
}[keyof F];

/** The checked value of an object schema: ignored fields are gone, unsupported ones kept. */
export type ObjectOf<F extends Fields> = Simplify<
  { readonly [K in RequiredKeys<F>]: ValueOf<F[K]> } & { readonly [K in OptionalKeys<F>]?: ValueOf<F[K]> }
>;

/** Lets a refine hook report problems at paths relative to the object it checks. */
export class Refiner {
  constructor(
    readonly path: FieldPath,
    private readonly ctx: WalkContext,
  ) {}

  /** Absolute path of a field below this object. */
  abs(rel: FieldPath): FieldPath {
    return [...this.path, ...rel];
  }

  error(rel: FieldPath, code: string, message: string, fix: string, anchor: 'key' | 'value' = 'value'): void {
    this.ctx.error(this.abs(rel), code, `${where(this.abs(rel))}${message}`, fix, anchor);
  }

  warn(rel: FieldPath, code: string, message: string, fix: string, anchor: 'key' | 'value' = 'value'): void {
    this.ctx.warn(this.abs(rel), code, `${where(this.abs(rel))}${message}`, fix, anchor);
  }
}

export interface ObjectOptions<F extends Fields> {
  /** Changes the project named in unsupported-field warnings for this subtree. */
  readonly origin?: Origin;
  /** Groups of fields of which exactly one must be set (Istio's proto oneofs that are required). */
  readonly exactlyOne?: readonly (readonly (keyof F & string)[])[];
  /** Groups of fields of which at most one may be set (proto oneofs). */
  readonly atMostOne?: readonly (readonly (keyof F & string)[])[];
  /** Cross-field rules; runs only when everything below the object is valid. */
  readonly refine?: (value: ObjectOf<F>, r: Refiner) => void;
  readonly expected?: string;
  /**
   * Fields an older API version had here (`serviceName` in an Ingress backend of
   * networking.k8s.io/v1beta1), each with the fix that says how this version writes it. They are
   * still unknown fields (errors), but a did-you-mean cannot find a renamed or restructured field.
   */
  readonly formerly?: Readonly<Record<string, string>>;
}

export interface ObjectSchema<F extends Fields> extends Schema<ObjectOf<F>> {
  readonly type: 'object';
  readonly fields: F;
}

function listNames(names: readonly string[]): string {
  return names.length > 12 ? `${names.slice(0, 12).join(', ')}, ...` : names.join(', ');
}

export function obj<F extends Fields>(fields: F, opts: ObjectOptions<F> = {}): ObjectSchema<F> {
  const expected = opts.expected ?? 'a map';
  const has = (v: Record<string, unknown>, k: string): boolean => Object.hasOwn(v, k) && v[k] !== null && v[k] !== undefined;
  return {
    type: 'object',
    expected,
    fields,
    accepts: isPlainObject,
    check(v, path, ctx, parentState) {
      if (!isPlainObject(v)) return typeError(expected, v, path, ctx);
      const state: WalkState = opts.origin ? { ...parentState, origin: opts.origin } : parentState;
      const before = ctx.errors;
      const out: Record<string, unknown> = {};
      for (const [k, value] of Object.entries(v)) {
        const p = [...path, k];
        // hasOwn, not `in`: a manifest key such as `constructor` must not find Object.prototype.
        const spec = Object.hasOwn(fields, k) ? fields[k] : undefined;
        if (!spec) {
          const formerly = opts.formerly && Object.hasOwn(opts.formerly, k) ? opts.formerly[k] : undefined;
          if (formerly !== undefined) {
            ctx.error(p, 'unknown-field', `unknown field '${formatPath(p)}' in ${ctx.kind}: it belongs to an older API version`, formerly, 'key');
            continue;
          }
          const guess = didYouMean(k, Object.keys(fields));
          const allowed = Object.entries(fields).filter(([, f]) => f.status !== 'ignored').map(([n]) => n);
          ctx.error(
            p,
            'unknown-field',
            `unknown field '${formatPath(p)}' in ${ctx.kind}${guess ? `; did you mean '${guess}'?` : ''}`,
            guess ? `rename '${k}' to '${guess}'` : `remove it; the fields allowed here are: ${listNames(allowed)}`,
            'key',
          );
          continue;
        }
        // Kubernetes treats `field: null` as an absent field; so do we.
        if (value === null || value === undefined || spec.status === 'ignored' || !spec.schema) continue;
        let childState = state;
        if (spec.status === 'unsupported') {
          if (!state.inUnsupported && !spec.ownWarning) {
            ctx.warn(
              p,
              'unsupported-field',
              `field '${formatPath(p)}' is valid ${state.origin} but Strait does not implement it yet; it is ignored`,
              `remove it, or keep it knowing that Strait behaves as if it were absent${spec.note ? ` (${spec.note})` : ''}`,
              'key',
            );
          }
          childState = { ...state, inUnsupported: true };
        }
        const r = spec.schema.check(value, p, ctx, childState);
        if (r !== INVALID) out[k] = r;
      }
      for (const [k, spec] of Object.entries(fields)) {
        if (spec.required && !has(v, k)) {
          ctx.error(
            path,
            'missing-field',
            `${where(path)}required field '${k}' is missing`,
            `add '${k}' (${spec.schema?.expected ?? 'a value'}) to ${path.length > 0 ? `'${formatPath(path)}'` : 'the resource'}`,
            'key',
          );
        }
      }
      for (const group of opts.exactlyOne ?? []) {
        const set = group.filter((k) => has(v, k));
        if (set.length !== 1) {
          ctx.error(
            path,
            'one-of',
            `${where(path)}exactly one of ${group.join(', ')} must be set, found ${set.length === 0 ? 'none' : set.join(' and ')}`,
            set.length === 0 ? `add one of ${group.join(', ')}` : `keep only one of ${set.join(', ')}`,
            'key',
          );
        }
      }
      for (const group of opts.atMostOne ?? []) {
        const set = group.filter((k) => has(v, k));
        if (set.length > 1) {
          ctx.error(path, 'one-of', `${where(path)}at most one of ${group.join(', ')} may be set, found ${set.join(' and ')}`, `keep only one of ${set.join(', ')}`, 'key');
        }
      }
      if (ctx.errors !== before) return INVALID;
      // Sound: `out` holds a checked value for every present, non-ignored field, and the
      // required ones were verified above (any failure returned INVALID).
      const result = out as ObjectOf<F>;
      opts.refine?.(result, new Refiner(path, ctx));
      return ctx.errors === before ? result : INVALID;
    },
  };
}

/** Checks `value` against `schema` as the root of a resource of the given kind. */
export function walk<T>(schema: Schema<T>, value: unknown, ctx: WalkContext, origin: Origin): Checked<T> {
  return schema.check(value, [], ctx, { origin, inUnsupported: false });
}
