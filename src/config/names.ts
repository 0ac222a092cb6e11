// Kubernetes name rules (DNS-1123 label and subdomain, DNS-1035 label, label keys and values,
// IANA service names for ports, wildcard subdomains, API path segments, domain-prefixed paths,
// and IP addresses). Each check returns undefined when the value is valid, or the rule in words,
// so the diagnostic can state the rule the user broke instead of a regex.

import { isIP } from 'node:net';

const LABEL_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1035_RE = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const SUBDOMAIN_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_NAME_RE = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE_RE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const IANA_SVC_RE = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

/** A DNS-1123 label: namespaces, most port names. */
export function checkDns1123Label(v: string): string | undefined {
  if (v.length > 63 || !LABEL_RE.test(v)) {
    return 'a DNS-1123 label: at most 63 characters, lower-case letters, digits and \'-\', starting and ending with a letter or digit';
  }
  return undefined;
}

/** A DNS-1035 label: Service names (they become DNS names, so they must start with a letter). */
export function checkDns1035Label(v: string): string | undefined {
  if (v.length > 63 || !DNS1035_RE.test(v)) {
    return 'a DNS-1035 label: at most 63 characters, lower-case letters, digits and \'-\', starting with a letter and ending with a letter or digit';
  }
  return undefined;
}

/** A DNS-1123 subdomain: the names of most other resources. */
export function checkDns1123Subdomain(v: string): string | undefined {
  if (v.length > 253 || !SUBDOMAIN_RE.test(v)) {
    return 'a DNS-1123 subdomain: at most 253 characters, lower-case letters, digits, \'-\' and \'.\', each dot-separated part starting and ending with a letter or digit';
  }
  return undefined;
}

/** A label key: `[prefix/]name`, prefix a DNS subdomain, name at most 63 characters. */
export function checkLabelKey(k: string): string | undefined {
  const slash = k.lastIndexOf('/');
  const prefix = slash >= 0 ? k.slice(0, slash) : undefined;
  const name = slash >= 0 ? k.slice(slash + 1) : k;
  const rule =
    'a label key: an optional DNS subdomain prefix and \'/\', then a name of at most 63 letters, digits, \'-\', \'_\' or \'.\' starting and ending with a letter or digit';
  if (prefix !== undefined && checkDns1123Subdomain(prefix) !== undefined) return rule;
  if (name.length > 63 || !LABEL_NAME_RE.test(name)) return rule;
  return undefined;
}

/** A label value: empty, or at most 63 letters, digits, '-', '_', '.' (alphanumeric at both ends). */
export function checkLabelValue(v: string): string | undefined {
  if (v.length > 63 || !LABEL_VALUE_RE.test(v)) {
    return 'a label value: empty, or at most 63 letters, digits, \'-\', \'_\' or \'.\' starting and ending with a letter or digit';
  }
  return undefined;
}

/** A container port name (IANA_SVC_NAME): what a Service's named targetPort refers to. */
export function checkIanaServiceName(v: string): string | undefined {
  if (v.length > 15 || !IANA_SVC_RE.test(v) || v.includes('--') || !/[a-z]/.test(v)) {
    return 'an IANA service name: at most 15 lower-case letters, digits and \'-\', with at least one letter, no \'--\', not starting or ending with \'-\'';
  }
  return undefined;
}

/** A wildcard DNS-1123 subdomain: `*.` then a DNS-1123 subdomain (`*.example.com`). */
export function checkWildcardDns1123Subdomain(v: string): string | undefined {
  if (v.length > 253 || !v.startsWith('*.') || checkDns1123Subdomain(v.slice(2)) !== undefined) {
    return "a wildcard DNS-1123 subdomain: '*.' followed by a DNS-1123 subdomain, such as *.example.com";
  }
  return undefined;
}

const IPV4_SLOPPY_RE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/**
 * True for an IPv4 address (leading zeros allowed, as Go's net.ParseIP in Kubernetes' sloppy mode
 * reads them) or an IPv6 address. The API server refuses these as Ingress hosts.
 */
export function isIpAddress(v: string): boolean {
  const m = IPV4_SLOPPY_RE.exec(v);
  if (m) return m.slice(1).every((part) => Number(part) <= 255);
  return v.includes(':') && isIP(v) === 6;
}

/** A name that is one segment of an API path (kinds and names of typed references): not `.` or `..`, no `/` or `%`. */
export function checkPathSegmentName(v: string): string | undefined {
  if (v === '.' || v === '..' || v.includes('/') || v.includes('%')) return "a name usable as an API path segment: not '.' or '..', and without '/' or '%'";
  return undefined;
}

const HTTP_PATH_RE = /^[A-Za-z0-9/\-._~%!$&'()*+,;=:]+$/;

/** A domain-prefixed path such as `acme.io/ingress-controller` (IngressClass controllers). */
export function checkDomainPrefixedPath(v: string): string | undefined {
  const rule = "a domain-prefixed path such as acme.io/ingress-controller: a DNS-1123 subdomain, '/', then URL path characters";
  const slash = v.indexOf('/');
  if (slash <= 0 || slash === v.length - 1) return rule;
  if (checkDns1123Subdomain(v.slice(0, slash)) !== undefined) return rule;
  return HTTP_PATH_RE.test(v.slice(slash + 1)) ? undefined : rule;
}
