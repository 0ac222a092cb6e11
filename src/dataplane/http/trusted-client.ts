// The trusted client address of a request, as Envoy's connection manager derives it from the
// socket peer and X-Forwarded-For (use_remote_address, xff_num_trusted_hops). It becomes the
// stream's downstream remote address: what RBAC `remote_ip` (Istio's remoteIpBlocks and
// `remote.ip`) and the access log see, while `direct_remote_ip` (ipBlocks) stays the peer.
//
//   use_remote_address  hops N  trusted client address
//   true                0       the peer (XFF is not read)
//   true                N > 0   the Nth address from the right of the incoming XFF
//   false               N >= 0  the (N+1)th address from the right of the incoming XFF
// and the peer whenever XFF is absent, too short, or not an IP address there.

import net from 'node:net';

/** The XFF address that counts as the client, or null when the peer does. */
export function trustedXffAddress(xff: string | readonly string[] | undefined, useRemoteAddress: boolean, trustedHops: number): string | null {
  const fromRight = useRemoteAddress ? trustedHops : trustedHops + 1;
  if (fromRight <= 0 || xff === undefined) return null;
  // Several XFF header lines are one comma-separated list, in order.
  const list = (typeof xff === 'string' ? xff : xff.join(',')).split(',');
  if (list.length < fromRight) return null;
  const candidate = list[list.length - fromRight]!.trim();
  return net.isIP(candidate) !== 0 ? candidate : null;
}
