// RBAC permissions and principals (envoy/config/rbac/v3/rbac.proto) compiled once into
// predicates over one request: `(request, info) => boolean`, where `request` is null on a TCP
// connection (the network filter), so HTTP-only rules (headers, paths) simply do not match there.
// That is Envoy's behaviour, and why Istio's TCP policies drop HTTP-only fields (AZ-10).
//
// Where each attribute comes from:
//   destination_ip / destination_port(_range)  info.downstreamLocalAddress (`ip:port`)
//   source_ip, direct_remote_ip                 the socket peer: request.remoteAddress, or on TCP
//                                               info.downstreamRemoteAddress
//   remote_ip                                   info.downstreamRemoteAddress: the client address
//                                               the connection manager settled on (after
//                                               X-Forwarded-For and xff_num_trusted_hops)
//   authenticated                               info.peerCertificate: any URI SAN, else any DNS
//                                               SAN, else the subject must match (Envoy's order)
//   requested_server_name                       info.requestedServerName (SNI)
//   header, url_path, uri_template              the request (pseudo-headers included)
//   metadata                                    info.dynamicMetadata

import type { FilterRequest } from '../api.js';
import type { StreamInfo } from '../../../dataplane/http/stream-info.js';
import { ConfigError, removePathParameters } from '../api.js';
import { compileHeaderMatcher } from './header-matcher.js';
import { compileCidrRange, hostMatches, portOf } from './ip.js';
import { checkFields, list, object, oneOf, optInt } from './proto-json.js';
import { compileStringMatcher } from './string-matcher.js';
import type { StringPredicate } from './string-matcher.js';
import { compileUriTemplateExtension } from './uri-template.js';
import { compileMetadataMatcher } from './value-matcher.js';

export type RbacMatcher = (request: FilterRequest | null, info: StreamInfo) => boolean;

const PERMISSION_RULES = ['andRules', 'orRules', 'any', 'header', 'urlPath', 'destinationIp', 'destinationPort', 'destinationPortRange', 'metadata', 'notRule', 'requestedServerName', 'uriTemplate'] as const;
const PRINCIPAL_IDS = ['andIds', 'orIds', 'authenticated', 'sourceIp', 'directRemoteIp', 'remoteIp', 'any', 'header', 'urlPath', 'metadata', 'notId'] as const;
const UNSUPPORTED_PERMISSION = { matcher: 'RBAC matcher extensions are not supported' };
const UNSUPPORTED_PRINCIPAL = { filterState: 'filter_state principals are not supported (Strait has no filter state)' };

const always: RbacMatcher = () => true;

export function compilePermission(v: unknown, at: string): RbacMatcher {
  const o = object(v, at, 'a Permission object');
  checkFields(o, at, 'Permission', PERMISSION_RULES, UNSUPPORTED_PERMISSION);
  const kind = oneOf(o, at, PERMISSION_RULES);
  const x = o[kind];
  const where = `${at}.${kind}`;
  switch (kind) {
    case 'andRules':
      return and(set(x, where, 'rules', compilePermission));
    case 'orRules':
      return or(set(x, where, 'rules', compilePermission));
    case 'notRule': {
      const m = compilePermission(x, where);
      return (r, i) => !m(r, i);
    }
    case 'any':
      if (x !== true) throw new ConfigError(`${where}: must be true`);
      return always;
    case 'header': {
      const h = compileHeaderMatcher(x, where);
      return (r) => h(r);
    }
    case 'urlPath':
      return pathMatcher(x, where);
    case 'uriTemplate': {
      const t = compileUriTemplateExtension(x, where);
      return (r) => r !== null && t(matchedPath(r));
    }
    case 'destinationIp': {
      const ip = compileCidrRange(x, where);
      return (_r, i) => hostMatches(ip, i.downstreamLocalAddress);
    }
    case 'destinationPort': {
      const port = optInt(x, where, 0, 65535, 0);
      return (_r, i) => portOf(i.downstreamLocalAddress) === port;
    }
    case 'destinationPortRange': {
      // Int32Range, half-open [start, end), as Envoy checks it (start < end, both within 0..65536).
      const rg = object(x, where, 'an Int32Range object {start, end}');
      checkFields(rg, where, 'Int32Range', ['start', 'end']);
      const start = optInt(rg.start, `${where}.start`, 0, 65536, 0);
      const end = optInt(rg.end, `${where}.end`, 0, 65536, 0);
      if (start >= end) throw new ConfigError(`${where}: start ${start} must be less than end ${end}`);
      return (_r, i) => {
        const p = portOf(i.downstreamLocalAddress);
        return p >= start && p < end;
      };
    }
    case 'metadata': {
      const m = compileMetadataMatcher(x, where);
      return (_r, i) => m(i);
    }
    case 'requestedServerName': {
      const m = compileStringMatcher(x, where);
      return (_r, i) => m(i.requestedServerName);
    }
  }
  throw new ConfigError(`${at}: unsupported permission`);
}

export function compilePrincipal(v: unknown, at: string): RbacMatcher {
  const o = object(v, at, 'a Principal object');
  checkFields(o, at, 'Principal', PRINCIPAL_IDS, UNSUPPORTED_PRINCIPAL);
  const kind = oneOf(o, at, PRINCIPAL_IDS);
  const x = o[kind];
  const where = `${at}.${kind}`;
  switch (kind) {
    case 'andIds':
      return and(set(x, where, 'ids', compilePrincipal));
    case 'orIds':
      return or(set(x, where, 'ids', compilePrincipal));
    case 'notId': {
      const m = compilePrincipal(x, where);
      return (r, i) => !m(r, i);
    }
    case 'any':
      if (x !== true) throw new ConfigError(`${where}: must be true`);
      return always;
    case 'authenticated':
      return authenticated(x, where);
    case 'sourceIp':
    case 'directRemoteIp': {
      const ip = compileCidrRange(x, where);
      return (r, i) => (r !== null ? ip(r.remoteAddress) : hostMatches(ip, i.downstreamRemoteAddress));
    }
    case 'remoteIp': {
      const ip = compileCidrRange(x, where);
      return (_r, i) => hostMatches(ip, i.downstreamRemoteAddress);
    }
    case 'header': {
      const h = compileHeaderMatcher(x, where);
      return (r) => h(r);
    }
    case 'urlPath':
      return pathMatcher(x, where);
    case 'metadata': {
      const m = compileMetadataMatcher(x, where);
      return (_r, i) => m(i);
    }
  }
  throw new ConfigError(`${at}: unsupported principal`);
}

/** Permission.Set {rules} / Principal.Set {ids}: at least one entry. */
function set(v: unknown, at: string, field: 'rules' | 'ids', compile: (v: unknown, at: string) => RbacMatcher): RbacMatcher[] {
  const o = object(v, at, `a Set object {${field}}`);
  checkFields(o, at, 'Set', [field]);
  const items = list(o[field], `${at}.${field}`, field === 'rules' ? 'Permission' : 'Principal');
  if (items.length === 0) throw new ConfigError(`${at}.${field}: at least one entry is required`);
  return items.map((item, i) => compile(item, `${at}.${field}[${i}]`));
}

function and(ms: RbacMatcher[]): RbacMatcher {
  if (ms.length === 1) return ms[0]!;
  return (r, i) => {
    for (const m of ms) if (!m(r, i)) return false;
    return true;
  };
}

function or(ms: RbacMatcher[]): RbacMatcher {
  if (ms.length === 1) return ms[0]!;
  return (r, i) => {
    for (const m of ms) if (m(r, i)) return true;
    return false;
  };
}

/** PathMatcher {path: StringMatcher}: the :path without query string and fragment. */
function pathMatcher(v: unknown, at: string): RbacMatcher {
  const o = object(v, at, 'a PathMatcher object {path}');
  checkFields(o, at, 'PathMatcher', ['path']);
  if (o.path === undefined) throw new ConfigError(`${at}.path: required`);
  const m = compileStringMatcher(o.path, `${at}.path`);
  return (r) => r !== null && m(pathOnly(matchedPath(r)));
}

/**
 * The :path path rules read: with the route configuration's ignore_path_parameters_in_path_matching,
 * without `;` parameters, as the route was chosen (Envoy's fix for CVE-2026-73553: otherwise
 * `/admin;x=1` reaches a route for `/admin` while a rule for `/admin` does not see it).
 */
function matchedPath(r: FilterRequest): string {
  return r.ignorePathParameters === true ? removePathParameters(r.path) : r.path;
}

/** Envoy's PathUtil::removeQueryAndFragment. */
function pathOnly(path: string): string {
  let end = path.length;
  for (let k = 0; k < path.length; k++) {
    const c = path.charCodeAt(k);
    if (c === 63 /* ? */ || c === 35 /* # */) {
      end = k;
      break;
    }
  }
  return end === path.length ? path : path.slice(0, end);
}

/** Principal.Authenticated {principal_name}: the verified peer certificate (mutual TLS). */
function authenticated(v: unknown, at: string): RbacMatcher {
  const o = object(v, at, 'an Authenticated object {principalName}');
  checkFields(o, at, 'Authenticated', ['principalName']);
  if (o.principalName === undefined) return (_r, i) => i.peerCertificate !== null;
  const name: StringPredicate = compileStringMatcher(o.principalName, `${at}.principalName`);
  return (_r, i) => {
    const cert = i.peerCertificate;
    if (cert === null) return false;
    for (const uri of cert.uriSans) if (name(uri)) return true;
    for (const dns of cert.dnsSans) if (name(dns)) return true;
    return name(cert.subject);
  };
}
