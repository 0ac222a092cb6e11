// Compiles a CEL access-log filter (Envoy's envoy.access_loggers.extension_filters.cel, which
// Istio writes for Telemetry `accessLogging[].filter.expression`) into a predicate over the
// finished request's StreamInfo. Compiled once per config; per request only the closures run.
//
// The subset Strait evaluates (docs/observability.md, "Access logs"):
// - attributes (Envoy's names and types): request.{path, url_path, host, scheme, method,
//   headers, referer, useragent, id, protocol, query, duration, size}, response.{code,
//   code_details, flags, grpc_status, size, headers}, connection.{mtls, requested_server_name,
//   uri_san_peer_certificate, dns_san_peer_certificate, subject_peer_certificate,
//   sha256_peer_certificate_digest, termination_details}, upstream.{address, port,
//   local_address, transport_failure_reason}, source.{address, port}, destination.{address,
//   port}, xds.{cluster_name, route_name};
// - int, uint, double, string, bool and null literals, lists, `duration('1.5s')`;
// - `== != < <= > >= && || ! in`, `a ? b : c`, parentheses;
// - string methods startsWith, endsWith, contains, matches (RE2, a literal pattern), size().
//
// Semantics follow CEL as Envoy runs it: an absent attribute (response.code on a request that
// got no response, a missing header, anything request.* on a TCP connection) or a type mismatch
// is an error; && and || absorb errors when the other side decides (false && error = false); the
// filter logs only when the whole expression is `true` (Envoy: "expression errors are considered
// false"). Valid CEL outside the subset compiles to a filter that never logs, with a reason per
// unsupported part, since Strait cannot evaluate it and Envoy would count an error as false.

import type { StreamInfo } from '../../../dataplane/http/stream-info.js';
import { compileRe2 } from '../../../common/re2.js';
import { parseCel } from './parse.js';
import type { Expr, Literal } from './parse.js';
import { ERROR, Duration, HeaderMap, celEquals, celCompare, celSize, parseCelDuration, responseFlagBits } from './values.js';
import type { CelValue } from './values.js';

/** A part of the expression Strait does not evaluate, or one that can never be true. */
export interface CelFinding {
  /** 0-based offset in the expression. */
  readonly offset: number;
  readonly message: string;
}

export interface CompiledCelFilter {
  /** True when the request is to be logged. */
  readonly test: (s: StreamInfo) => boolean;
  /** Parts Strait cannot evaluate; when any, `test` always answers false. */
  readonly unsupported: readonly CelFinding[];
  /** Evaluable parts that are always an error or never true (e.g. an int compared with a string). */
  readonly warnings: readonly CelFinding[];
}

/** Where the filter runs: an HTTP connection manager, or a TCP proxy (no request.*, no response code). */
export interface CelContext {
  readonly http: boolean;
}

/** Static type of a compiled node; 'dyn' when only known at run time. */
type CelType = 'bool' | 'int' | 'uint' | 'double' | 'string' | 'bytes' | 'null' | 'duration' | 'list' | 'map' | 'dyn' | 'error';

interface Node {
  readonly ev: (s: StreamInfo) => CelValue;
  readonly type: CelType;
  /** Present for values known at config time (literals, lists of literals, duration('...')). */
  readonly constant?: CelValue;
  /** request.headers / response.headers: one header read directly, without building the map. */
  readonly header?: (s: StreamInfo, name: string) => CelValue;
}

const NUMERIC = new Set<CelType>(['int', 'uint', 'double']);
const errorNode: Node = { ev: () => ERROR, type: 'error', constant: ERROR };

function pathOnly(p: string): string {
  const q = p.indexOf('?');
  return q < 0 ? p : p.slice(0, q);
}

function queryOf(p: string): string {
  const q = p.indexOf('?');
  return q < 0 ? '' : p.slice(q + 1);
}

/** host:port → port number; an address without a port is an error. */
function portOf(address: string): CelValue {
  const i = address.lastIndexOf(':');
  const n = i < 0 ? Number.NaN : Number(address.slice(i + 1));
  return Number.isInteger(n) ? n : ERROR;
}

const present = (v: string): CelValue => (v === '' ? ERROR : v);

function requestHeader(s: StreamInfo, name: string): CelValue {
  switch (name) {
    case ':authority':
    case 'host':
      return present(s.authority);
    case ':path':
      return present(s.path);
    case ':method':
      return present(s.method);
    case ':scheme':
      return present(s.scheme);
    default: {
      const v = s.requestHeaders[name];
      if (v === undefined) return ERROR;
      // Envoy joins repeated headers with commas.
      return Array.isArray(v) ? v.join(',') : v;
    }
  }
}

function responseHeader(s: StreamInfo, name: string): CelValue {
  const v = s.responseHeaders?.[name];
  if (v === undefined || v === null) return ERROR;
  return Array.isArray(v) ? v.join(',') : String(v);
}

type Getter = { readonly type: CelType; readonly get: (s: StreamInfo) => CelValue; readonly http?: boolean; readonly header?: (s: StreamInfo, name: string) => CelValue };

/** Envoy's attributes Strait knows, by dotted name; `http` ones are absent on TCP connections. */
const ATTRIBUTES: Readonly<Record<string, Getter>> = {
  'request.path': { type: 'string', http: true, get: (s) => present(s.path) },
  'request.url_path': { type: 'string', http: true, get: (s) => present(pathOnly(s.path)) },
  'request.host': { type: 'string', http: true, get: (s) => present(s.authority) },
  'request.scheme': { type: 'string', http: true, get: (s) => present(s.scheme) },
  'request.method': { type: 'string', http: true, get: (s) => present(s.method) },
  'request.referer': { type: 'string', http: true, get: (s) => requestHeader(s, 'referer') },
  'request.useragent': { type: 'string', http: true, get: (s) => requestHeader(s, 'user-agent') },
  'request.id': { type: 'string', http: true, get: (s) => requestHeader(s, 'x-request-id') },
  'request.query': { type: 'string', http: true, get: (s) => queryOf(s.path) },
  'request.protocol': { type: 'string', http: true, get: (s) => present(s.protocol) },
  'request.headers': { type: 'map', http: true, header: requestHeader, get: (s) => new HeaderMap((k) => requestHeader(s, k), () => Object.keys(s.requestHeaders)) },
  'request.duration': { type: 'duration', get: (s) => new Duration(s.endMono - s.startMono) },
  'request.size': { type: 'int', http: true, get: (s) => s.bytesReceived },
  'response.code': { type: 'int', http: true, get: (s) => (s.responseCode > 0 ? s.responseCode : ERROR) },
  'response.code_details': { type: 'string', http: true, get: (s) => present(s.responseCodeDetails) },
  'response.flags': { type: 'int', get: (s) => responseFlagBits(s.responseFlags) },
  'response.grpc_status': { type: 'int', http: true, get: (s) => (s.grpcStatus === '' ? ERROR : Number(s.grpcStatus)) },
  'response.size': { type: 'int', http: true, get: (s) => s.bytesSent },
  'response.headers': { type: 'map', http: true, header: responseHeader, get: (s) => new HeaderMap((k) => responseHeader(s, k), () => Object.keys(s.responseHeaders ?? {})) },
  'connection.mtls': { type: 'bool', get: (s) => s.peerCertificate !== null },
  'connection.requested_server_name': { type: 'string', get: (s) => s.requestedServerName },
  'connection.uri_san_peer_certificate': { type: 'string', get: (s) => s.peerCertificate?.uriSans[0] ?? ERROR },
  'connection.dns_san_peer_certificate': { type: 'string', get: (s) => s.peerCertificate?.dnsSans[0] ?? ERROR },
  'connection.subject_peer_certificate': { type: 'string', get: (s) => s.peerCertificate?.subject ?? ERROR },
  'connection.sha256_peer_certificate_digest': { type: 'string', get: (s) => s.peerCertificate?.sha256 ?? ERROR },
  'connection.termination_details': { type: 'string', get: (s) => present(s.connectionTerminationDetails) },
  'upstream.address': { type: 'string', get: (s) => present(s.upstreamHost) },
  'upstream.port': { type: 'int', get: (s) => (s.upstreamHost ? portOf(s.upstreamHost) : ERROR) },
  'upstream.local_address': { type: 'string', get: (s) => present(s.upstreamLocalAddress) },
  'upstream.transport_failure_reason': { type: 'string', get: (s) => present(s.upstreamTransportFailureReason) },
  'source.address': { type: 'string', get: (s) => present(s.downstreamRemoteAddress) },
  'source.port': { type: 'int', get: (s) => (s.downstreamRemoteAddress ? portOf(s.downstreamRemoteAddress) : ERROR) },
  'destination.address': { type: 'string', get: (s) => present(s.downstreamLocalAddress) },
  'destination.port': { type: 'int', get: (s) => (s.downstreamLocalAddress ? portOf(s.downstreamLocalAddress) : ERROR) },
  'xds.cluster_name': { type: 'string', get: (s) => present(s.upstreamCluster) },
  'xds.route_name': { type: 'string', get: (s) => present(s.routeName) },
};

const ROOTS = new Set(['request', 'response', 'connection', 'upstream', 'source', 'destination', 'xds', 'metadata', 'filter_state', 'upstream_filter_state']);

const literalNode = (v: CelValue, type: CelType): Node => ({ ev: () => v, type, constant: v });

function fromLiteral(l: Literal): Node {
  switch (l.type) {
    case 'null':
      return literalNode(null, 'null');
    case 'bytes':
      // Bytes are kept as their text; Strait's attributes never produce bytes, so they only
      // compare with each other.
      return literalNode({ bytes: l.value }, 'bytes');
    default:
      return literalNode(l.value, l.type);
  }
}

class Compiler {
  readonly unsupported: CelFinding[] = [];
  readonly warnings: CelFinding[] = [];

  constructor(private readonly ctx: CelContext) {}

  private refuse(e: Expr, message: string): Node {
    this.unsupported.push({ offset: e.pos, message });
    return errorNode;
  }

  /** The dotted name of an attribute reference (request.headers), or undefined. */
  private dotted(e: Expr): string | undefined {
    if (e.kind === 'ident') return e.name;
    if (e.kind === 'select') {
      const base = this.dotted(e.operand);
      return base === undefined ? undefined : `${base}.${e.field}`;
    }
    return undefined;
  }

  compile(e: Expr): Node {
    switch (e.kind) {
      case 'literal':
        return fromLiteral(e.literal);
      case 'ident':
      case 'select': {
        const name = this.dotted(e);
        if (name !== undefined) return this.attribute(e, name);
        // A field of a computed value: only map lookups (headers.foo) are meaningful here.
        if (e.kind === 'select') return this.lookup(e, this.compile(e.operand), literalNode(e.field, 'string'));
        return this.refuse(e, 'unsupported expression');
      }
      case 'index':
        return this.lookup(e, this.compile(e.operand), this.compile(e.index));
      case 'list': {
        const items = e.items.map((i) => this.compile(i));
        if (items.every((i) => i.constant !== undefined)) return literalNode(items.map((i) => i.constant!), 'list');
        return { ev: (s) => items.map((i) => i.ev(s)), type: 'list' };
      }
      case 'map':
        return this.refuse(e, 'map literals are not evaluated by Strait');
      case 'struct':
        return this.refuse(e, `message construction (${e.type}{...}) is not evaluated by Strait`);
      case 'unary':
        return this.unary(e, e.op, this.compile(e.operand));
      case 'conditional':
        return this.conditional(e);
      case 'binary':
        return this.binary(e);
      case 'call':
        return this.call(e);
    }
  }

  private attribute(e: Expr, name: string): Node {
    const a = ATTRIBUTES[name];
    if (a) {
      // request.* and response.* exist only in HTTP filters (Envoy); on TCP they are absent.
      if (a.http && !this.ctx.http) {
        this.warnings.push({ offset: e.pos, message: `${name} does not exist on TCP connections: this part is always an error there` });
        return errorNode;
      }
      return { ev: a.get, type: a.type, ...(a.header ? { header: a.header } : {}) };
    }
    // A field of a map attribute: request.headers.foo is request.headers['foo'].
    const dot = name.lastIndexOf('.');
    const base = ATTRIBUTES[name.slice(0, dot)];
    if (base?.type === 'map' && e.kind === 'select') return this.lookup(e, this.attribute(e.operand, name.slice(0, dot)), literalNode(name.slice(dot + 1), 'string'));
    const root = name.split('.')[0]!;
    if (!ROOTS.has(root)) return this.refuse(e, `unknown attribute ${name} (Envoy's attributes start with request., response., connection., upstream., source., destination. or xds.)`);
    return this.refuse(e, `attribute ${name} is not evaluated by Strait`);
  }

  private lookup(e: Expr, container: Node, key: Node): Node {
    if (container.type === 'error') return errorNode;
    if (container.type !== 'map' && container.type !== 'list' && container.type !== 'dyn') return this.refuse(e, `cannot index a ${container.type}`);
    // request.headers['X-Name']: one header read per request, lower-cased now (Envoy's lookup is case-insensitive).
    if (container.type === 'map' && typeof key.constant === 'string') {
      const k = key.constant.toLowerCase();
      const read = container.header;
      if (read) return { ev: (s) => read(s, k), type: 'string' };
      return { ev: (s) => (container.ev(s) as HeaderMap).get(k), type: 'string' };
    }
    return {
      type: container.type === 'map' ? 'string' : 'dyn',
      ev: (s) => {
        const c = container.ev(s);
        const k = key.ev(s);
        if (c instanceof HeaderMap) return typeof k === 'string' ? c.get(k.toLowerCase()) : ERROR;
        if (Array.isArray(c) && typeof k === 'number' && Number.isInteger(k) && k >= 0 && k < c.length) return c[k]!;
        return ERROR;
      },
    };
  }

  private unary(e: Expr, op: '!' | '-', operand: Node): Node {
    if (op === '-') return this.refuse(e, 'arithmetic (unary minus) is not evaluated by Strait');
    if (operand.type !== 'bool' && operand.type !== 'dyn' && operand.type !== 'error') this.never(e, `! needs a bool, not a ${operand.type}`);
    return { ev: (s) => { const v = operand.ev(s); return typeof v === 'boolean' ? !v : ERROR; }, type: 'bool' };
  }

  private conditional(e: Expr & { kind: 'conditional' }): Node {
    const test = this.compile(e.test);
    const then = this.compile(e.then);
    const otherwise = this.compile(e.otherwise);
    return { ev: (s) => { const t = test.ev(s); return t === true ? then.ev(s) : t === false ? otherwise.ev(s) : ERROR; }, type: then.type === otherwise.type ? then.type : 'dyn' };
  }

  private never(e: Expr, why: string): void {
    this.warnings.push({ offset: e.pos, message: `${why}: always an error, which Envoy counts as false` });
  }

  private binary(e: Expr & { kind: 'binary' }): Node {
    const l = this.compile(e.left);
    const r = this.compile(e.right);
    switch (e.op) {
      case '&&':
        // CEL's commutative logic: a false side decides even when the other is an error.
        return {
          type: 'bool',
          ev: (s) => {
            const a = l.ev(s);
            if (a === false) return false;
            const b = r.ev(s);
            if (b === false) return false;
            return a === true && b === true ? true : ERROR;
          },
        };
      case '||':
        return {
          type: 'bool',
          ev: (s) => {
            const a = l.ev(s);
            if (a === true) return true;
            const b = r.ev(s);
            if (b === true) return true;
            return a === false && b === false ? false : ERROR;
          },
        };
      case '==':
      case '!=': {
        const neg = e.op === '!=';
        return { type: 'bool', ev: (s) => { const eq = celEquals(l.ev(s), r.ev(s)); return eq === ERROR ? ERROR : eq !== neg; } };
      }
      case '<':
      case '<=':
      case '>':
      case '>=': {
        if (!comparable(l.type, r.type)) this.never(e, `${e.op} cannot order a ${l.type} and a ${r.type}`);
        const op = e.op;
        return {
          type: 'bool',
          ev: (s) => {
            const c = celCompare(l.ev(s), r.ev(s));
            if (c === ERROR) return ERROR;
            return op === '<' ? c < 0 : op === '<=' ? c <= 0 : op === '>' ? c > 0 : c >= 0;
          },
        };
      }
      case 'in':
        return this.membership(e, l, r);
      default:
        return this.refuse(e, `arithmetic (${e.op}) is not evaluated by Strait`);
    }
  }

  private membership(e: Expr, l: Node, r: Node): Node {
    if (r.type !== 'list' && r.type !== 'map' && r.type !== 'dyn' && r.type !== 'error') this.never(e, `in needs a list or a map on its right, not a ${r.type}`);
    // 'name' in request.headers: one header read.
    if (r.header && typeof l.constant === 'string') {
      const read = r.header;
      const k = l.constant.toLowerCase();
      return { type: 'bool', ev: (s) => read(s, k) !== ERROR };
    }
    // `x in [constants]`: a set of primitive constants is looked up, not scanned.
    if (Array.isArray(r.constant) && r.constant.every((v) => typeof v === 'string')) {
      const set = new Set(r.constant as string[]);
      return { type: 'bool', ev: (s) => { const v = l.ev(s); return v === ERROR ? ERROR : typeof v === 'string' && set.has(v); } };
    }
    return {
      type: 'bool',
      ev: (s) => {
        const v = l.ev(s);
        const c = r.ev(s);
        if (v === ERROR || c === ERROR) return ERROR;
        if (c instanceof HeaderMap) return typeof v === 'string' ? c.get(v.toLowerCase()) !== ERROR : ERROR;
        if (!Array.isArray(c)) return ERROR;
        let sawError = false;
        for (const item of c) {
          const eq = celEquals(v, item);
          if (eq === true) return true;
          if (eq === ERROR) sawError = true;
        }
        return sawError ? ERROR : false;
      },
    };
  }

  private call(e: Expr & { kind: 'call' }): Node {
    if (e.target === undefined) {
      if (e.fn === 'duration' && e.args.length === 1) {
        const a = this.compile(e.args[0]!);
        if (typeof a.constant !== 'string') return this.refuse(e, "duration() is evaluated only with a quoted literal, e.g. duration('1.5s')");
        const d = parseCelDuration(a.constant);
        if (d === undefined) {
          this.never(e, `${JSON.stringify(a.constant)} is not a duration (write e.g. '250ms', '1.5s', '1m')`);
          return errorNode;
        }
        return literalNode(d, 'duration');
      }
      if (e.fn === 'size' && e.args.length === 1) return this.size(this.compile(e.args[0]!));
      return this.refuse(e, `function ${e.fn}() is not evaluated by Strait`);
    }
    const target = this.compile(e.target);
    if (e.fn === 'size' && e.args.length === 0) return this.size(target);
    if (['startsWith', 'endsWith', 'contains', 'matches'].includes(e.fn) && e.args.length === 1) {
      const arg = this.compile(e.args[0]!);
      if (target.type !== 'string' && target.type !== 'dyn' && target.type !== 'error') this.never(e, `${e.fn}() needs a string, not a ${target.type}`);
      if (e.fn === 'matches') {
        if (typeof arg.constant !== 'string') return this.refuse(e, 'matches() is evaluated only with a quoted pattern');
        let re: { test(s: string): boolean };
        try {
          re = compileRe2(arg.constant);
        } catch (err) {
          this.never(e, (err as Error).message);
          return errorNode;
        }
        return { type: 'bool', ev: (s) => { const v = target.ev(s); return typeof v === 'string' ? re.test(v) : ERROR; } };
      }
      const fn = e.fn;
      return {
        type: 'bool',
        ev: (s) => {
          const v = target.ev(s);
          const a = arg.ev(s);
          if (typeof v !== 'string' || typeof a !== 'string') return ERROR;
          return fn === 'startsWith' ? v.startsWith(a) : fn === 'endsWith' ? v.endsWith(a) : v.includes(a);
        },
      };
    }
    return this.refuse(e, `method ${e.fn}() is not evaluated by Strait`);
  }

  private size(n: Node): Node {
    return { type: 'int', ev: (s) => celSize(n.ev(s)) };
  }
}

function comparable(a: CelType, b: CelType): boolean {
  if (a === 'dyn' || b === 'dyn' || a === 'error' || b === 'error') return true;
  if (NUMERIC.has(a) && NUMERIC.has(b)) return true;
  return a === b && (a === 'string' || a === 'bool' || a === 'duration' || a === 'bytes');
}

/**
 * Compiles a filter expression. Throws CelSyntaxError when it is not CEL (Istio rejects such a
 * Telemetry; Envoy such a filter).
 */
export function compileCelFilter(expression: string, ctx: CelContext): CompiledCelFilter {
  const c = new Compiler(ctx);
  const root = c.compile(parseCel(expression));
  if (c.unsupported.length > 0) return { test: () => false, unsupported: c.unsupported, warnings: c.warnings };
  if (root.type !== 'bool' && root.type !== 'dyn' && root.type !== 'error') c.warnings.push({ offset: 0, message: `the expression is a ${root.type}, not a bool: a filter logs only when it is true` });
  const ev = root.ev;
  return { test: (s) => ev(s) === true, unsupported: [], warnings: c.warnings };
}
