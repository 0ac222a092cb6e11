#!/usr/bin/env node
// The `strait` command line. Each subcommand lives in src/cli/commands/<name>.ts and is loaded
// only when invoked, so `strait proxy` does not pay for the control plane's modules and the
// reverse.

import { Command } from 'commander';
import { parseHttp1Codec } from '../dataplane/http1/codec.js';

const program = new Command();

function positiveInt(name: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, not "${v}"`);
  return n;
}
program
  .name('strait')
  .description('Service mesh and ingress gateway that runs Kubernetes Ingress, Istio and Gateway API manifests.')
  .showHelpAfterError();

program
  .command('up')
  .description('Run the whole mesh on this machine: control plane, gateway, and every Deployment with its sidecar.')
  .argument('<paths...>', 'YAML files or directories of Kubernetes/Istio manifests')
  .option('--port-offset <n>', 'added to gateway ports below 1024 (80 -> 8080)', '8000')
  .option('--gateway-address <ip>', 'address the gateway listeners bind', '127.0.0.1')
  .option('--address-block <cidr|random>', 'loopback block for pod addresses (a /20 inside 127.0.0.0/8)', '127.10.0.0/20')
  .option('--xds-port <port>', 'control plane xDS (gRPC) port on 127.0.0.1, also serving the mesh CA', '15010')
  .option('--cacerts <dir>', "the mesh CA signs with these files (Istio's cacerts layout: ca-cert.pem, ca-key.pem, cert-chain.pem, root-cert.pem)")
  .option('--ca-dir <dir>', "the self-signed mesh CA's state directory (default: $XDG_STATE_HOME/strait/ca)")
  .option('--api-port <port>', 'control plane HTTP API port on 127.0.0.1 (status, logs)', '15014')
  .option('--no-watch', 'do not reload when the files change')
  .option('-q, --quiet', 'do not print access logs and workload output to the terminal')
  .option('--gateway-workers <n>', "the gateway's proxy runs n worker processes (strait proxy --workers), to use n cores", '1')
  .action(async (paths: string[], opts) => {
    const { runUp } = await import('./commands/up.js');
    process.exitCode = await runUp(paths, opts);
  });

program
  .command('validate')
  .description('Check manifests; prints one file:line:col line per problem; exit status 1 on errors.')
  .argument('<paths...>', 'YAML files or directories')
  .option('-o, --output <format>', 'text or json', 'text')
  .action(async (paths: string[], opts) => {
    const { runValidate } = await import('./commands/validate.js');
    process.exitCode = await runValidate(paths, opts);
  });

program
  .command('status')
  .description('Show the proxies and workloads of a running `strait up`.')
  .option('-o, --output <format>', 'table or json', 'table')
  .option('--server <url>', 'control plane API of the running mesh', 'http://127.0.0.1:15014')
  .action(async (opts) => {
    const { runStatus } = await import('./commands/status.js');
    process.exitCode = await runStatus(opts);
  });

const ca = program.command('ca').description('The mesh CA of a running `strait up`: its roots, the proxies\' certificates, root rotation.');
for (const [action, what] of [
  ['status', 'List the trusted roots and the certificate each proxy was issued last.'],
  ['rotate-root', 'Make a new self-signed root the signer; proxies trust old and new roots and renew onto the new one within minutes.'],
  ['retire-roots', 'Stop trusting the old roots (once every proxy has renewed onto the new one).'],
] as const) {
  const c = ca
    .command(action)
    .description(what)
    .option('-o, --output <format>', 'table or json', 'table')
    .option('--server <url>', 'control plane API of the running mesh', 'http://127.0.0.1:15014');
  if (action === 'retire-roots') c.option('--force', 'retire even while a proxy still uses a certificate from an old root');
  c.action(async (opts) => {
    const { runCa } = await import('./commands/ca.js');
    process.exitCode = await runCa(action, opts);
  });
}

for (const mode of ['apply', 'delete'] as const) {
  program
    .command(mode)
    .description(
      mode === 'apply'
        ? 'Apply manifests to a running `strait up`, like kubectl apply: resources replace the ones with the same kind, namespace and name.'
        : 'Delete the resources of manifests from a running `strait up`, like kubectl delete.',
    )
    .requiredOption('-f, --filename <path...>', 'files or directories of manifests')
    .option('--server <url>', 'control plane API of the running mesh', 'http://127.0.0.1:15014')
    .action(async (opts) => {
      const { runApply } = await import('./commands/apply.js');
      process.exitCode = await runApply(mode, opts);
    });
}

// Observability of a running mesh: proxy-config, proxy-status, dashboard, tap.
program
  .command('proxy-config')
  .alias('pc')
  .description("Show one proxy's listeners, routes, clusters, endpoints or secrets, like istioctl proxy-config.")
  .argument('<type>', 'listeners, routes, clusters, endpoints, secrets or all')
  .argument('<pod>', 'pod name, unique prefix, deploy/NAME or <pod>.<namespace>')
  .option('-o, --output <format>', 'table, json or yaml', 'table')
  .option('-n, --namespace <ns>', 'only look for the pod in this namespace')
  .option('--port <port>', 'listeners, clusters, endpoints: only this port')
  .option('--address <ip>', 'listeners, endpoints: only this address')
  .option('--fqdn <host>', 'clusters: only this service')
  .option('--subset <name>', 'clusters: only this subset')
  .option('--direction <dir>', 'clusters: inbound or outbound')
  .option('--name <name>', 'routes: only this route configuration')
  .option('--cluster <name>', 'endpoints: only this cluster')
  .option('--status <status>', 'endpoints: HEALTHY or UNHEALTHY')
  .option('--server <url>', 'control plane API of the running mesh', 'http://127.0.0.1:15014')
  .action(async (type: string, pod: string, opts) => {
    const { runProxyConfig } = await import('./commands/proxy-config.js');
    process.exitCode = await runProxyConfig(type, pod, opts);
  });

program
  .command('proxy-status')
  .alias('ps')
  .description("Each proxy's config versus the control plane's, per xDS type (SYNCED, STALE, NOT SENT, NACK), like istioctl proxy-status; with POD, the versions of each type.")
  .argument('[pod]', 'one pod: the control plane\'s and the proxy\'s versions side by side')
  .option('-o, --output <format>', 'table or json', 'table')
  .option('-n, --namespace <ns>', 'only pods in this namespace')
  .option('--server <url>', 'control plane API of the running mesh', 'http://127.0.0.1:15014')
  .action(async (pod: string | undefined, opts) => {
    const { runProxyStatus } = await import('./commands/proxy-config.js');
    process.exitCode = await runProxyStatus(pod, opts);
  });

program
  .command('dashboard')
  .description('Print (and, on a desktop, open) the URL of the dashboard: service graph, golden metrics, config, live tap.')
  .option('--no-open', 'only print the URL')
  .option('--server <url>', 'control plane API of the running mesh', 'http://127.0.0.1:15014')
  .action(async (opts) => {
    const { runDashboard } = await import('./commands/dashboard.js');
    process.exitCode = await runDashboard(opts);
  });

program
  .command('tap')
  .description("Stream the requests one pod's proxy completes, live (Linkerd's tap): method, path, status, latency, flags, identities.")
  .argument('<pod>', 'pod name, unique prefix, deploy/NAME or <pod>.<namespace>')
  .option('-n, --namespace <ns>', 'only look for the pod in this namespace')
  .option('--method <method>', 'only requests with this method')
  .option('--path <prefix>', 'only requests whose path starts with this')
  .option('--authority <host>', 'only requests to this :authority')
  .option('--max <n>', 'stop after n requests')
  .option('-o, --output <format>', 'text or json', 'text')
  .option('--server <url>', 'control plane API of the running mesh', 'http://127.0.0.1:15014')
  .action(async (pod: string, opts) => {
    const { runTap } = await import('./commands/dashboard.js');
    process.exitCode = await runTap(pod, opts);
  });

program
  .command('proxy')
  .description('Run one data plane proxy (normally started by `strait up`).')
  .requiredOption('--bootstrap <file>', 'bootstrap file (JSON or YAML): node identity, admin address, static resources or ADS server')
  .option('--wildcard-address <ip>', 'address that 0.0.0.0 means for this proxy (its pod IP)', '0.0.0.0')
  .option('--localhost-address <ip>', 'address that 127.0.0.1 means for this proxy (its pod-local address)', '127.0.0.1')
  .option('--access-log <target>', 'stdout, a file path, or off', 'stdout')
  .option('--exit-on-stdin-close', 'exit when stdin closes (set by the local runner so proxies never outlive it)')
  .option('--ca-address <host:port>', 'mesh CA to get the workload certificate from (default: $CA_ADDR, else the ADS server); needs the pod\'s token in $STRAIT_CA_TOKEN')
  .option('--merged-metrics-port <port>', 'serve the pod\'s merged metrics (proxy + the app named by $ISTIO_PROMETHEUS_ANNOTATIONS) at /stats/prometheus on the pod-local address (Istio: 15020)', (v) => Number(v))
  .option('--http1 <codec>', 'plaintext HTTP/1.1 codec: lean (default) or node (node\'s http module; also $STRAIT_HTTP1_CODEC=node)', (v) => parseHttp1Codec(v))
  .option('--workers <n>', 'serve with n worker processes sharing the listeners (node\'s cluster module), to use n cores; admin stats are summed over workers', (v) => positiveInt('--workers', v))
  .action(async (opts) => {
    const { runProxy } = await import('./commands/proxy.js');
    process.exitCode = await runProxy(opts);
  });

program
  .command('echo')
  .description('Run the echo workload (what `image: strait/echo` runs).')
  .option('--host <ip>', 'listen address (default: $HOST or 127.0.0.1)')
  .option('--port <port>', 'listen port (default: $PORT or 8080)')
  .option('--exit-on-stdin-close', 'exit when stdin closes')
  .action(async (opts) => {
    const { runEcho } = await import('./commands/echo.js');
    process.exitCode = await runEcho(opts);
  });

program
  .command('bookinfo')
  .description("Run one service of Istio's Bookinfo sample (what the istio/examples-bookinfo-* images run).")
  .argument('<app>', 'productpage, details, reviews or ratings')
  .option('--version <vN>', 'details v1|v2, reviews v1|v2|v3, ratings v1|v2 (default v1)')
  .option('--host <ip>', 'listen address (default: $HOST or 127.0.0.1)')
  .option('--port <port>', 'listen port (default: $PORT or 9080)')
  .option('--exit-on-stdin-close', 'exit when stdin closes')
  .action(async (app: string, opts) => {
    const { runBookinfo } = await import('./commands/bookinfo.js');
    process.exitCode = await runBookinfo(app, opts);
  });

program
  .command('httpbin')
  .description('Run the httpbin workload (what the httpbin images of Istio\'s samples run).')
  .option('--host <ip>', 'listen address (default: $HOST or 127.0.0.1)')
  .option('--port <port>', 'listen port (default: $PORT or 8080)')
  .option('--exit-on-stdin-close', 'exit when stdin closes')
  .action(async (opts) => {
    const { runHttpbin } = await import('./commands/httpbin.js');
    process.exitCode = await runHttpbin(opts);
  });

program
  .command('ext-authz')
  .description("Run Istio's sample external authorizer (what the ext-authz image of samples/extauthz runs).")
  .option('--host <ip>', 'listen address (default: $HOST or 127.0.0.1)')
  .option('--http <port>', 'HTTP check API port', '8000')
  .option('--grpc <port>', 'gRPC check API port', '9000')
  .option('--allow-service-account <name>', 'workloads of this service account are allowed without the header', 'a')
  .option('--exit-on-stdin-close', 'exit when stdin closes')
  .action(async (opts) => {
    const { runExtAuthz } = await import('./commands/ext-authz.js');
    process.exitCode = await runExtAuthz(opts);
  });

program
  .command('tcp-echo')
  .description("Run Istio's TCP echo server (what the istio/tcp-echo-server image of samples/tcp-echo runs).")
  .argument('<ports>', 'comma-separated ports, e.g. 9000,9001,9002')
  .argument('<prefix>', 'word put before every echoed line, e.g. one')
  .option('--host <ip>', 'listen address (default: $HOST or 127.0.0.1)')
  .option('--exit-on-stdin-close', 'exit when stdin closes')
  .action(async (ports: string, prefix: string, opts) => {
    const { runTcpEcho } = await import('./commands/tcp-echo.js');
    process.exitCode = await runTcpEcho(ports, prefix, opts);
  });

program
  .command('exec')
  .description("Run a command on this machine with a pod's environment (its sidecar as HTTP_PROXY), like kubectl exec.")
  .usage('[options] POD -- COMMAND [ARGS...]')
  .argument('<pod>', 'pod name, unique prefix, or deploy/NAME')
  .argument('<command...>', 'the command and its arguments, after --')
  .option('-n, --namespace <ns>', 'only look for the pod in this namespace')
  .option('--server <url>', 'control plane API of the running mesh', 'http://127.0.0.1:15014')
  .option('-i, --stdin', 'accepted for kubectl habits: stdin is always passed through')
  .option('-t, --tty', 'accepted for kubectl habits: the terminal is always inherited')
  .action(async (pod: string, command: string[], opts) => {
    const { runExec } = await import('./commands/exec.js');
    process.exitCode = await runExec(pod, command, opts);
  });

await program.parseAsync(process.argv);
