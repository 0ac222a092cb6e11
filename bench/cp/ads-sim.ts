// Simulated proxies for the control-plane benchmark: COUNT ADS clients (src/xds/ads-client.ts,
// the proxy's own client, over real gRPC) in one process, each a sidecar of the synthetic mesh
// (mesh-model.ts). Each subscribes as a proxy does — CDS and LDS as wildcards, then the RDS and
// EDS names its listeners and clusters refer to — and ACKs every response without building a
// data plane, so what is measured is the control plane and the wire, not proxy compilation.
// Protocol on stdio: prints `READY` once every client has had LDS, CDS, RDS and EDS; on a line
// `report T0` prints `REPORT [ms...]`: per client, the time of its last ACK after T0 (epoch ms)
// minus T0, or null. `quit` exits.
// Usage: node --import tsx bench/cp/ads-sim.ts SERVER FIRST COUNT SERVICES

import readline from 'node:readline';
import { performance } from 'node:perf_hooks';
import { systemClock } from '../../src/common/clock.js';
import { seededRandom } from '../../src/common/random.js';
import { edsNames, rdsNames } from '../../src/dataplane/proxy.js';
import { AdsClient } from '../../src/xds/ads-client.js';
import { TYPE_URL } from '../../src/xds/resources.js';
import type { Cluster, Listener, TypeUrl } from '../../src/xds/resources.js';
import { nodeOf } from './mesh-model.js';

const [server, firstArg, countArg, servicesArg] = process.argv.slice(2);
if (!server || !firstArg || !countArg || !servicesArg) throw new Error('usage: ads-sim.ts SERVER FIRST COUNT SERVICES');
const first = Number(firstArg);
const count = Number(countArg);
const services = Number(servicesArg);
const now = () => performance.timeOrigin + performance.now();

interface Sim {
  client: AdsClient;
  seen: Set<TypeUrl>;
  lastAckAt: number;
}

const sims: Sim[] = [];
let ready = false;
const checkReady = () => {
  if (!ready && sims.length === count && sims.every((s) => s.seen.size >= 4)) {
    ready = true;
    process.stdout.write('READY\n');
  }
};

for (let i = 0; i < count; i++) {
  const sim: Sim = { client: undefined as unknown as AdsClient, seen: new Set(), lastAckAt: 0 };
  sim.client = new AdsClient({
    server,
    node: nodeOf(first + i, services),
    clock: systemClock,
    random: seededRandom(first + i),
    wildcardTypes: [TYPE_URL.cluster, TYPE_URL.listener],
    onResponse: async (typeUrl, _version, resources) => {
      // Subscribe to what the listeners and clusters refer to, as the proxy does.
      if (typeUrl === TYPE_URL.listener) sim.client.setSubscription(TYPE_URL.route, rdsNames(new Map((resources as Listener[]).map((l) => [l.name, l]))));
      if (typeUrl === TYPE_URL.cluster) sim.client.setSubscription(TYPE_URL.endpoint, edsNames(new Map((resources as Cluster[]).map((c) => [c.name, c]))));
      sim.seen.add(typeUrl);
      // The ACK is written right after this returns.
      sim.lastAckAt = now();
      checkReady();
    },
  });
  sims.push(sim);
  sim.client.start();
}

readline.createInterface({ input: process.stdin }).on('line', (line) => {
  const [cmd, arg] = line.trim().split(' ');
  if (cmd === 'report') {
    const t0 = Number(arg);
    process.stdout.write(`REPORT ${JSON.stringify(sims.map((s) => (s.lastAckAt > t0 ? s.lastAckAt - t0 : null)))}\n`);
  } else if (cmd === 'quit') {
    for (const s of sims) s.client.stop();
    process.exit(0);
  }
});
