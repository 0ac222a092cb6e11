// `strait up PATH...`: runs the mesh described by the manifests on this machine until Ctrl-C.
// Runner messages are prefixed `strait |`, container output `<pod>/<container> |`.

import { AddressBlock } from '../../local/address-block.js';
import { startApiServer } from '../../local/api-server.js';
import { LocalRunner } from '../../local/runner.js';

export interface UpOptions {
  portOffset: string;
  gatewayAddress: string;
  addressBlock: string;
  xdsPort: string;
  apiPort: string;
  watch: boolean;
  quiet?: boolean;
  cacerts?: string;
  caDir?: string;
  gatewayWorkers?: string;
}

const READY_TIMEOUT_MS = 60_000;

function intOption(name: string, v: string, min: number, max: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be an integer between ${min} and ${max} (got "${v}")`);
  return n;
}

export async function runUp(paths: string[], opts: UpOptions): Promise<number> {
  const say = (line: string) => process.stdout.write(`strait | ${line}\n`);
  let runner: LocalRunner;
  try {
    runner = new LocalRunner({
      paths,
      portOffset: intOption('port-offset', opts.portOffset, 0, 64_000),
      gatewayAddress: opts.gatewayAddress,
      addressBlock: opts.addressBlock === 'random' ? AddressBlock.random() : new AddressBlock(opts.addressBlock),
      xdsPort: intOption('xds-port', opts.xdsPort, 0, 65_535),
      watch: opts.watch,
      say,
      output: opts.quiet ? null : (pod, container, line) => process.stdout.write(`${pod}/${container} | ${line}\n`),
      ca: { cacertsDir: opts.cacerts, caDir: opts.caDir },
      gatewayWorkers: intOption('gateway-workers', opts.gatewayWorkers ?? '1', 1, 256),
    });
  } catch (e) {
    process.stderr.write(`strait up: ${(e as Error).message}\n`);
    return 2;
  }

  let stopping: Promise<void> | null = null;
  const stop = (why: string) => {
    if (!stopping) {
      say(`stopping (${why}): ending every process started`);
      stopping = runner.stop().then(() => {
        say('stopped');
      });
    } else if (why === 'SIGINT') {
      say('still stopping; press Ctrl-C again in a moment to abandon the wait');
    }
    return stopping;
  };
  const onSignal = (sig: NodeJS.Signals) => void stop(sig)!.then(() => process.exit(0));
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    await runner.start();
  } catch (e) {
    say((e as Error).message);
    await runner.stop();
    return 1;
  }
  let api;
  try {
    api = await startApiServer(runner, intOption('api-port', opts.apiPort, 0, 65_535));
  } catch (e) {
    say(`cannot start the API on 127.0.0.1:${opts.apiPort}: ${(e as Error).message} (is another strait up running? use --api-port)`);
    await runner.stop();
    return 1;
  }
  say(`control plane: xDS ${runner.xdsAddress}, API ${api.url}`);

  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!runner.allReady() && Date.now() < deadline && !stopping) await new Promise((r) => setTimeout(r, 200));
  if (stopping) return 0;
  await runner.cp.waitForSync();
  const pods = runner.listPods();
  if (runner.allReady()) say(`ready: ${pods.length} pods`);
  else say(`not ready after ${READY_TIMEOUT_MS / 1000}s: ${runner.pendingPods().join(', ')} (see their output above; \`strait status\` shows details)`);
  for (const p of runner.cp.status()) {
    for (const [t, v] of Object.entries(p.types)) if (v.nack) say(`proxy ${p.namespace}/${p.pod} rejected its ${t} config: ${v.nack}`);
  }
  const urls = runner.gatewayUrls();
  for (const g of urls) say(`gateway: ${g.url} (Gateway ${g.gateway}, port ${g.port}, hosts ${g.hosts.join(' ')})`);
  for (const i of runner.ingresses()) {
    if (i.served) for (const c of i.curl) say(`ingress ${i.namespace}/${i.name}: ${c}`);
    else say(`ingress ${i.namespace}/${i.name} is not served: ${i.reason}`);
  }
  const first = urls[0];
  if (first) {
    const host = first.hosts.map((h) => h.split('/').pop()!).find((h) => h !== '*');
    say(`try: curl ${host && !first.hosts.some((h) => h.endsWith('*')) ? `-H 'Host: ${host}' ` : ''}${first.url}/`);
  } else if (runner.ingresses().length === 0) {
    say('no Gateway or Ingress is served by the ingress gateway; add one to reach workloads from outside');
  }
  say(`dashboard: ${api.dashboardUrl}   (service graph, golden metrics, config, live tap)`);
  say(`status: strait status --server ${api.url}   (Ctrl-C stops everything)`);
  await new Promise<void>(() => undefined);
  return 0;
}
