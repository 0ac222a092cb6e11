// Gives a Proxy its workload identity: an IdentityAgent that asks the mesh CA (with the pod's
// bootstrap token) and installs `default` and `ROOTCA` as the proxy's local secrets, and a
// readiness gate so the proxy reports ready only once it holds a certificate. Shared by
// `strait proxy` and the tests that run proxies in-process, so both are wired the same way.

import type { Clock } from '../../common/clock.js';
import { systemClock } from '../../common/clock.js';
import type { Random } from '../../common/random.js';
import type { Proxy } from '../proxy.js';
import { CaClient } from './ca-client.js';
import type { CertificateSource } from './ca-client.js';
import { IdentityAgent } from './identity-agent.js';

export interface ProxyIdentityOptions {
  /** host:port of the CA (the control plane's xDS port). */
  readonly caAddress: string;
  /** The pod's bootstrap token; null: no token (every request is refused, and says so). */
  readonly token: string | null;
  /** Drives renewal; tests inject a manual clock. gRPC deadlines always use the system clock. */
  readonly clock: Clock;
  readonly random: Random;
  readonly log: (line: string) => void;
  /** Requested certificate lifetime; 0 or absent: the CA's default (24 h). */
  readonly ttlSeconds?: number;
  /** Replaces the gRPC client (tests). */
  readonly source?: CertificateSource;
}

/** Starts the agent for `proxy`; stop it with the proxy. */
export function startProxyIdentity(proxy: Proxy, o: ProxyIdentityOptions): IdentityAgent {
  const agent = new IdentityAgent({
    source: o.source ?? new CaClient(o.caAddress, o.token, systemClock),
    clock: o.clock,
    random: o.random,
    install: (secrets) => proxy.setLocalSecrets(secrets),
    log: o.log,
    ttlSeconds: o.ttlSeconds,
  });
  proxy.addReadinessGate('a workload certificate from the mesh CA', () => agent.hasCertificate);
  agent.start();
  return agent;
}
