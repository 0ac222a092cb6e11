// One running pod: its addresses, its workload process (the Deployment's first container, or the
// built-in echo server for `image: strait/echo`), its sidecar proxy process (or, for the gateway
// pod, its only process: the gateway proxy), their log buffers, and its readiness, probed the
// way a kubelet would (a TCP connect to the workload's port, the proxy's /ready). The proxy gets
// its pod's bootstrap token in its environment only: the workload process never sees it.

import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import type { Workload } from '../registry/registry.js';
import type { PodAddresses } from './address-block.js';
import { builtinImage } from './images.js';
import { LogBuffer } from './log-buffer.js';
import type { PodSpec } from './pod-plan.js';
import { CA_TOKEN_ENV } from '../dataplane/identity/ca-token.js';
import { ADMIN_PORT, prometheusAnnotationsEnv, proxyBootstrap } from './proxy-bootstrap.js';
import { MERGED_METRICS_PORT } from '../dataplane/admin/merged-metrics.js';
import { straitCommand } from './self-command.js';
import { PROXY_NODE_FLAGS } from '../dataplane/runtime-flags.js';
import { SupervisedProcess } from './process-supervisor.js';

export const PROXY_CONTAINER = 'istio-proxy';
export const ECHO_IMAGE = 'strait/echo';
/** Default port told to a workload that declares none. */
const DEFAULT_APP_PORT = 8080;

export interface PodContext {
  readonly adsServer: string;
  /** The pod's bootstrap token for the mesh CA (null: the proxy gets no workload certificate). */
  readonly caToken: string | null;
  readonly domainSuffix: string;
  readonly runDir: string;
  readonly onLine: (pod: LocalPod, container: string, stream: 'stdout' | 'stderr', line: string) => void;
  readonly onEvent: (message: string) => void;
  /** Worker processes for this pod's proxy (`strait up --gateway-workers`); absent or 1: one. */
  readonly proxyWorkers?: number;
}

export class LocalPod {
  readonly logs = new Map<string, LogBuffer>();
  app: SupervisedProcess | null = null;
  proxy: SupervisedProcess | null = null;
  appReady = false;
  proxyReady = false;
  readonly createdAt = Date.now();
  /** Set when the pod is being replaced or removed. */
  terminating = false;

  constructor(
    readonly spec: PodSpec,
    readonly addresses: PodAddresses,
    private readonly ctx: PodContext,
  ) {}

  get name(): string {
    return this.spec.name;
  }

  get adminUrl(): string | undefined {
    return this.spec.sidecar || this.spec.kind === 'gateway' ? `http://${this.addresses.local}:${ADMIN_PORT}` : undefined;
  }

  get containerName(): string | undefined {
    return this.spec.container?.name;
  }

  /** Where the workload must listen: behind the sidecar on the pod-local address, else the pod IP. */
  get appHost(): string {
    return this.spec.sidecar ? this.addresses.local : this.addresses.ip;
  }

  get appPort(): number | undefined {
    return this.spec.container?.ports[0]?.containerPort;
  }

  ready(): boolean {
    if (this.terminating) return false;
    const proxyOk = !this.proxy || this.proxyReady;
    const appOk = !this.app || this.appReady;
    return proxyOk && appOk;
  }

  workload(): Workload {
    return {
      name: this.spec.name,
      namespace: this.spec.namespace,
      labels: this.spec.labels,
      serviceAccount: this.spec.serviceAccount,
      ip: this.addresses.ip,
      ready: this.ready(),
      ports: (this.spec.container?.ports ?? []).map((p) => ({ name: p.name, port: p.containerPort })),
      hasSidecar: this.spec.sidecar,
    };
  }

  private buffer(container: string): LogBuffer {
    let b = this.logs.get(container);
    if (!b) this.logs.set(container, (b = new LogBuffer()));
    return b;
  }

  private events(container: string) {
    const buf = this.buffer(container);
    return {
      onLine: (stream: 'stdout' | 'stderr', line: string) => {
        buf.push(stream, line, Date.now());
        this.ctx.onLine(this, container, stream, line);
      },
      onEvent: (message: string) => {
        buf.push('stderr', `[strait] ${message}`, Date.now());
        this.ctx.onEvent(message);
      },
    };
  }

  start(): void {
    const self = straitCommand();
    // Proxies start with their heap flags (runtime-flags.ts); workloads with node's defaults.
    const proxyCommand = straitCommand(PROXY_NODE_FLAGS);
    const { spec, addresses } = this;
    if (spec.sidecar || spec.kind === 'gateway') {
      const file = path.join(this.ctx.runDir, `${spec.namespace}.${spec.name}.bootstrap.json`);
      fs.writeFileSync(file, JSON.stringify(proxyBootstrap(spec, addresses.ip, this.ctx.adsServer, this.ctx.domainSuffix), null, 2));
      this.proxy = new SupervisedProcess(
        {
          name: `${spec.name}/${PROXY_CONTAINER}`,
          command: proxyCommand.command,
          args: [...proxyCommand.args, 'proxy', '--bootstrap', file, '--wildcard-address', addresses.ip, '--localhost-address', addresses.local, '--exit-on-stdin-close', '--merged-metrics-port', String(MERGED_METRICS_PORT), ...((this.ctx.proxyWorkers ?? 1) > 1 ? ['--workers', String(this.ctx.proxyWorkers)] : [])],
          env: { ...baseEnv(), ...prometheusAnnotationsEnv(spec.annotations), ...(this.ctx.caToken === null ? {} : { [CA_TOKEN_ENV]: this.ctx.caToken }) },
          cwd: this.ctx.runDir,
        },
        this.events(PROXY_CONTAINER),
      );
      this.proxy.start();
    }
    const c = spec.container;
    if (c) {
      const port = this.appPort ?? DEFAULT_APP_PORT;
      const env: NodeJS.ProcessEnv = {
        ...baseEnv(),
        ...Object.fromEntries(c.env.map((e) => [e.name, e.value])),
        HOST: this.appHost,
        PORT: String(port),
        POD_NAME: spec.name,
        POD_NAMESPACE: spec.namespace,
        POD_IP: addresses.ip,
        SERVICE_ACCOUNT: spec.serviceAccount,
        POD_LABELS: JSON.stringify(spec.labels),
      };
      if (spec.sidecar) {
        const proxyUrl = `http://${addresses.ip}:15001`;
        env.HTTP_PROXY = env.http_proxy = proxyUrl;
        env.NO_PROXY = env.no_proxy = `localhost,127.0.0.1,${addresses.local}`;
      }
      let command: string;
      let args: string[];
      if ((c.command ?? []).length > 0) {
        command = c.command![0]!;
        args = [...c.command!.slice(1), ...(c.args ?? [])];
      } else {
        // No command: a built-in image (images.ts) runs as a `strait` subcommand. runnableChecks
        // refuses any other image before a pod is planned, so the echo fallback is never reached.
        const builtin = builtinImage(c.image ?? '')?.args ?? ['echo'];
        command = self.command;
        args = [...self.args, ...builtin, '--exit-on-stdin-close', ...(c.args ?? [])];
      }
      const cwd = c.workingDir ? path.resolve(spec.manifestDir, c.workingDir) : spec.manifestDir;
      this.app = new SupervisedProcess({ name: `${spec.name}/${c.name}`, command, args, env, cwd }, this.events(c.name));
      this.app.start();
    }
  }

  /** Probes readiness; returns true when it changed. */
  async probe(): Promise<boolean> {
    const before = this.ready();
    if (this.app) {
      // A container that declares a port is ready once it accepts connections there; one that
      // declares none is ready once it runs (Kubernetes without a readiness probe).
      const port = this.appPort;
      this.appReady = this.app.running && (port === undefined || (await tcpProbe(this.appHost, port)));
    }
    if (this.proxy) this.proxyReady = this.proxy.running && (await httpReady(`${this.adminUrl}/ready`));
    return before !== this.ready();
  }

  async stop(): Promise<void> {
    this.terminating = true;
    // Workload first, then its proxy, as kubelet does with sidecars at shutdown.
    await this.app?.stop();
    await this.proxy?.stop();
  }
}

/** The runner's environment minus proxy settings of the host, which would bypass the mesh. */
function baseEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy', 'NODE_OPTIONS', CA_TOKEN_ENV]) delete env[k];
  return env;
}

function tcpProbe(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(500, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

function httpReady(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: 500, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve(false));
  });
}
