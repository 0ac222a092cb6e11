// DNS for STRICT_DNS and LOGICAL_DNS clusters. The resolver is injected (tests answer from a
// table; the proxy uses the system's getaddrinfo), and Envoy's dnsLookupFamily picks which of
// the answers count.

import dns from 'node:dns';
import net from 'node:net';
import type { LookupFunction } from 'node:net';
import type { Cluster as ClusterResource } from '../../../xds/resources.js';

/** Every address a name resolves to, IPv4 and IPv6 mixed. */
export type Resolver = (host: string) => Promise<string[]>;

export const systemResolver: Resolver = async (host) => (await dns.promises.lookup(host, { all: true })).map((a) => a.address);

export type LookupFamily = NonNullable<ClusterResource['dnsLookupFamily']>;

export const LOOKUP_FAMILIES: readonly LookupFamily[] = ['AUTO', 'V4_ONLY', 'V6_ONLY', 'V4_PREFERRED', 'ALL'];

/**
 * Envoy's families: AUTO prefers IPv6 and falls back to IPv4, V4_PREFERRED the reverse,
 * V4_ONLY/V6_ONLY keep one family, ALL keeps both.
 */
export function filterFamily(addresses: readonly string[], family: LookupFamily): string[] {
  const v4 = addresses.filter((a) => net.isIPv4(a));
  const v6 = addresses.filter((a) => net.isIPv6(a));
  switch (family) {
    case 'V4_ONLY':
      return v4;
    case 'V6_ONLY':
      return v6;
    case 'AUTO':
      return v6.length ? v6 : v4;
    case 'V4_PREFERRED':
      return v4.length ? v4 : v6;
    case 'ALL':
      return [...v4, ...v6];
  }
}

/** Resolves `host` to the addresses of the family, IP literals as themselves. */
export async function resolveFamily(resolver: Resolver, host: string, family: LookupFamily): Promise<string[]> {
  if (net.isIP(host)) return filterFamily([host], family);
  return filterFamily(await resolver(host), family);
}

/**
 * A net.connect `lookup` that resolves through the cluster's resolver at connect time
 * (LOGICAL_DNS: the first address of the family wins, as in Envoy).
 */
export function lookupVia(resolver: Resolver, family: LookupFamily): LookupFunction {
  return (hostname, options, callback) => {
    resolveFamily(resolver, hostname, family).then(
      (addresses) => {
        const first = addresses[0];
        if (first === undefined) {
          const e = Object.assign(new Error(`${hostname}: no ${family} address`), { code: 'ENOTFOUND', hostname });
          (callback as (err: Error) => void)(e);
          return;
        }
        const fam = net.isIPv6(first) ? 6 : 4;
        // With autoSelectFamily Node asks for every address (`all`); one is what Envoy uses.
        if ((options as { all?: boolean }).all) (callback as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address: first, family: fam }]);
        else callback(null, first, fam);
      },
      (err: NodeJS.ErrnoException) => (callback as (err: Error) => void)(Object.assign(err, { code: err.code ?? 'ENOTFOUND' })),
    );
  };
}
