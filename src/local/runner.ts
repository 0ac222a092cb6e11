// `strait up`: the whole mesh on one machine. Loads the manifests, runs the control plane in
// this process, starts the ingress gateway and every Deployment replica (workload + sidecar) as
// child processes, keeps the registry in step with what is running and ready, reloads when the
// files change (an invalid change is reported and the last good config keeps serving), and on
// stop ends every process it started. It also runs the mesh CA (mesh-ca.ts) and gives each proxy
// it starts a bootstrap token bound to its pod's namespace and service account: the proxy's proof
// of who it is when it asks the CA for its workload certificate.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BootstrapTokens } from '../ca/bootstrap-tokens.js';
import type { CertificateAuthority } from '../ca/certificate-authority.js';
import { systemClock } from '../common/clock.js';
import type { ConfigStore } from '../config/config-store.js';
import { formatDiagnostic, summarize } from '../config/format.js';
import { loadConfig, resourceKeys } from '../config/load-config.js';
import type { Overlay } from '../config/load-config.js';
import { isBlocking } from '../config/types.js';
import type { Diagnostic } from '../config/types.js';
import { ControlPlane } from '../controlplane/control-plane.js';
import { gatewayBindPort, gatewaysForProxy } from '../controlplane/generate/gateway.js';
import { planIngress } from '../controlplane/generate/ingress.js';
import { parseProxyNode } from '../controlplane/model/proxy-node.js';
import type { ProxyNode } from '../controlplane/model/proxy-node.js';
import { DEFAULT_GATEWAY, offsetBelow1024, servicesFromConfig } from '../registry/config-services.js';
import type { Registry } from '../registry/registry.js';
import type { AddressBlock } from './address-block.js';
import { AppliedConfig } from './applied-config.js';
import { BUILTIN_IMAGE_NAMES, builtinImage } from './images.js';
import { LocalPod } from './local-pod.js';
import { cacertsText, describeCa, followCaConfig, openMeshCa } from './mesh-ca.js';
import type { MeshCaSettings } from './mesh-ca.js';
import { gatewayPod, planPods } from './pod-plan.js';
import type { PodSpec } from './pod-plan.js';
import { proxyBootstrap } from './proxy-bootstrap.js';

export interface RunnerOptions {
  readonly paths: readonly string[];
  readonly portOffset: number;
  readonly gatewayAddress: string;
  readonly addressBlock: AddressBlock;
  readonly xdsPort: number;
  readonly watch: boolean;
  /** Runner messages (always shown). */
  readonly say: (line: string) => void;
  /** Container output lines (`pod/container | line`), unless quiet. */
  readonly output: ((pod: string, container: string, line: string) => void) | null;
  /** Where the mesh CA's material comes from (`--cacerts`, `--ca-dir`). */
  readonly ca?: MeshCaSettings;
  /** Worker processes of the gateway's proxy (`--gateway-workers`), to use every core. */
  readonly gatewayWorkers?: number;
}

/** An Ingress as `kubectl get ingress -o yaml` would show its status (ING-18). */
export interface IngressState {
  readonly namespace: string;
  readonly name: string;
  readonly className: string | null;
  readonly served: boolean;
  readonly reason: string;
  /** Kubernetes' status.loadBalancer; empty when not served. */
  readonly loadBalancer: { readonly ingress: readonly { readonly ip: string; readonly ports: readonly { readonly port: number; readonly protocol: 'TCP' }[] }[] };
  /** One URL per rule host (host-less rules as the bare address); hosts resolve to `ip`. */
  readonly urls: readonly string[];
  /** A command line that reaches each URL, with the host resolved to the gateway. */
  readonly curl: readonly string[];
}

export interface GatewayUrl {
  readonly url: string;
  readonly gateway: string;
  readonly port: number;
  readonly hosts: readonly string[];
}

/** What an apply or delete did (the API answers with it). */
export interface ChangeResult {
  readonly ok: boolean;
  readonly message: string;
  /** Per resource `Kind/namespace/name`: created, configured, deleted, or not found. */
  readonly changes: readonly { readonly key: string; readonly action: string }[];
  readonly diagnostics: readonly Diagnostic[];
}

function resourceKey(r: { kind: string; metadata: { name: string; namespace?: string } }): string {
  return `${r.kind}/${r.metadata.namespace ?? ''}/${r.metadata.name}`;
}

/** How long old pods keep serving while their replacements start. */
const REPLACE_GRACE_MS = 15_000;
const PROBE_INTERVAL_MS = 500;

export class LocalRunner {
  readonly cp: ControlPlane;
  private store: ConfigStore | null = null;
  private lastDiagnostics: Diagnostic[] = [];
  private files: string[] = [];
  private readonly pods = new Map<string, LocalPod>();
  private runDir = '';
  private xdsPort = 0;
  private probeTimer: NodeJS.Timeout | null = null;
  /** Watched directories → the file names of interest in each (null: every file). */
  private watchers = new Map<string, { watcher: fs.FSWatcher; names: Set<string> | null }>();
  private reloadTimer: NodeJS.Timeout | null = null;
  private reloading: Promise<void> = Promise.resolve();
  private stopped = false;
  /** What `strait apply` / `strait delete` changed on top of the files. */
  private readonly applied = new AppliedConfig();
  /** One bootstrap token per running proxy, by `namespace/pod`. */
  private readonly tokens = new BootstrapTokens();
  private ca: CertificateAuthority | null = null;
  private readonly caSecret = { secretText: '' };
  readonly startedAt = Date.now();
  configGeneration = 0;
  lastReload: { at: number; ok: boolean; message: string } | null = null;

  constructor(private readonly opts: RunnerOptions) {
    this.cp = new ControlPlane({ clock: systemClock, log: (l) => opts.say(l) });
  }

  /** Loads and starts everything. Throws (with the diagnostics printed) when the config is invalid. */
  async start(): Promise<void> {
    const loaded = await this.load();
    if (!loaded) throw new Error('the configuration has errors; nothing was started');
    try {
      this.ca = await openMeshCa(this.opts.ca ?? {}, loaded, systemClock);
    } catch (e) {
      throw new Error(`cannot start the mesh CA: ${(e as Error).message}`);
    }
    this.caSecret.secretText = cacertsText(loaded);
    this.cp.serveCa(this.ca, this.tokens);
    this.opts.say(describeCa(this.ca));
    this.runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'strait-'));
    this.xdsPort = await this.cp.listen('127.0.0.1', this.opts.xdsPort);
    this.store = loaded;
    this.configGeneration = 1;
    this.reconcile();
    this.cp.update({ store: loaded, registry: this.registry() });
    this.probeTimer = setInterval(() => void this.probeAll(), PROBE_INTERVAL_MS);
    if (this.opts.watch) this.watch();
  }

  get xdsAddress(): string {
    return `127.0.0.1:${this.xdsPort}`;
  }

  get runDirectory(): string {
    return this.runDir;
  }

  /** Loads and validates the files; returns undefined (after reporting) when there are errors. */
  private async load(overlay: Overlay = this.applied.overlay): Promise<ConfigStore | undefined> {
    const result = await loadConfig([...this.opts.paths], overlay);
    const diags = [...result.diagnostics, ...runnableChecks(result.store)];
    this.files = result.files;
    this.lastDiagnostics = diags;
    for (const d of diags) this.opts.say(formatDiagnostic(d));
    const s = summarize(diags);
    const blocking = diags.filter(isBlocking).length;
    if (blocking > 0) {
      this.opts.say(`${s.text}`);
      return undefined;
    }
    const degraded = s.errors > 0 ? `; ${s.errors} error(s) in references or certificates: the parts they affect answer with local replies` : '';
    this.opts.say(`loaded ${result.store.size()} resources from ${result.files.length} file(s)${s.warnings ? ` (${s.warnings} warning(s))` : ''}${degraded}`);
    return result.store;
  }

  /** Starts pods the config wants and that are not running; retires the ones it no longer wants. */
  private reconcile(): void {
    const store = this.store!;
    const desired: PodSpec[] = [gatewayPod(), ...planPods(store)];
    const desiredNames = new Set(desired.map((p) => `${p.namespace}/${p.name}`));
    const started: LocalPod[] = [];
    for (const spec of desired) {
      const key = `${spec.namespace}/${spec.name}`;
      if (this.pods.has(key)) continue;
      const addresses = spec.kind === 'gateway' ? { ip: this.opts.gatewayAddress, local: this.opts.addressBlock.allocate().local } : this.opts.addressBlock.allocate();
      // Only a pod with a proxy gets an identity: a workload without a sidecar has nothing that
      // could hold a certificate, and peers talk plaintext to it.
      const hasProxy = spec.sidecar || spec.kind === 'gateway';
      const caToken = hasProxy ? this.tokens.issue({ namespace: spec.namespace, serviceAccount: spec.serviceAccount, holder: key }) : null;
      const pod = new LocalPod(spec, addresses, {
        adsServer: this.xdsAddress,
        caToken,
        domainSuffix: this.cp.mesh.domainSuffix,
        runDir: this.runDir,
        onLine: (p, container, _stream, line) => this.opts.output?.(p.name, container, line),
        onEvent: (m) => this.opts.say(m),
        ...(spec.kind === 'gateway' && this.opts.gatewayWorkers ? { proxyWorkers: this.opts.gatewayWorkers } : {}),
      });
      this.pods.set(key, pod);
      pod.start();
      started.push(pod);
      this.opts.say(`started pod ${spec.namespace}/${spec.name} (ip ${addresses.ip}${spec.sidecar ? ', with sidecar' : spec.kind === 'gateway' ? ', gateway' : ', no sidecar'})`);
    }
    const retiring = [...this.pods.entries()].filter(([key]) => !desiredNames.has(key)).map(([, p]) => p);
    if (retiring.length === 0) return;
    // Replacements first: old pods serve until the new ones are ready (or a grace period ends).
    void (async () => {
      const deadline = Date.now() + REPLACE_GRACE_MS;
      while (!this.stopped && Date.now() < deadline && started.some((p) => !p.ready())) await sleep(PROBE_INTERVAL_MS);
      for (const p of retiring) p.terminating = true;
      this.cp.update({ registry: this.registry() });
      await this.cp.waitForSync().catch(() => undefined);
      await Promise.all(
        retiring.map(async (p) => {
          await p.stop();
          this.tokens.revoke(`${p.spec.namespace}/${p.spec.name}`);
          this.cp.forgetIssued(`${p.spec.namespace}/${p.spec.name}`);
          this.pods.delete(`${p.spec.namespace}/${p.spec.name}`);
          this.opts.say(`stopped pod ${p.spec.namespace}/${p.spec.name}`);
        }),
      );
      this.cp.update({ registry: this.registry() });
    })();
  }

  registry(): Registry {
    return {
      services: servicesFromConfig(this.store!, this.cp.mesh.domainSuffix, { ...DEFAULT_GATEWAY, bindPort: offsetBelow1024(this.opts.portOffset) }),
      workloads: [...this.pods.values()].filter((p) => !p.terminating || p.app?.running || p.proxy?.running).map((p) => p.workload()),
    };
  }

  private async probeAll(): Promise<void> {
    const changed = await Promise.all([...this.pods.values()].map((p) => p.probe()));
    if (changed.some(Boolean) && !this.stopped) this.cp.update({ registry: this.registry() });
  }

  allReady(): boolean {
    return [...this.pods.values()].every((p) => p.terminating || p.ready());
  }

  pendingPods(): string[] {
    return [...this.pods.values()].filter((p) => !p.terminating && !p.ready()).map((p) => `${p.spec.namespace}/${p.spec.name}`);
  }

  /** URLs the gateway serves, from the Gateways that select it. */
  gatewayUrls(): GatewayUrl[] {
    const gw = [...this.pods.values()].find((p) => p.spec.kind === 'gateway');
    if (!gw) return [];
    const node = parseProxyNode(proxyBootstrap(gw.spec, gw.addresses.ip, '', this.cp.mesh.domainSuffix).node) as ProxyNode;
    const snap = this.cp.snapshot();
    const out: GatewayUrl[] = [];
    for (const g of gatewaysForProxy(snap, node)) {
      for (const s of g.spec.servers) {
        const port = gatewayBindPort(snap, node, s.port.number);
        const scheme = s.port.protocol === 'HTTPS' ? 'https' : 'http';
        out.push({ url: `${scheme}://${this.opts.gatewayAddress}:${port}`, gateway: `${g.metadata.namespace}/${g.metadata.name}`, port: s.port.number, hosts: s.hosts });
      }
    }
    return out;
  }

  /** Every Ingress: served or not (and why), and the address it is served at. */
  ingresses(): IngressState[] {
    const gw = [...this.pods.values()].find((p) => p.spec.kind === 'gateway');
    if (!gw) return [];
    const node = parseProxyNode(proxyBootstrap(gw.spec, gw.addresses.ip, '', this.cp.mesh.domainSuffix).node) as ProxyNode;
    const snap = this.cp.snapshot();
    const http = gatewayBindPort(snap, node, 80);
    const https = gatewayBindPort(snap, node, 443);
    const plan = planIngress(snap);
    return plan.status.map((st) => {
      const ing = snap.store.get('Ingress', st.namespace, st.name)!;
      const tls = ing.spec.tls.length > 0;
      const ports = st.served ? [{ port: http, protocol: 'TCP' as const }, ...(tls ? [{ port: https, protocol: 'TCP' as const }] : [])] : [];
      const hosts = ing.spec.rules.map((r) => r.host ?? '');
      const ip = this.opts.gatewayAddress;
      const targets = st.served
        ? [...new Set(hosts.length ? hosts : [''])].map((h) => {
            if (h === '') return { url: `http://${ip}:${http}/`, curl: `curl http://${ip}:${http}/` };
            const secure = ing.spec.tls.some((t) => t.hosts.includes(h));
            const port = secure ? https : http;
            // A wildcard host needs a concrete name to resolve.
            const name = h.startsWith('*.') ? `www${h.slice(1)}` : h;
            const url = `${secure ? 'https' : 'http'}://${name}:${port}/`;
            return { url, curl: `curl ${secure ? '-k ' : ''}--resolve ${name}:${port}:${ip} ${url}` };
          })
        : [];
      return { ...st, loadBalancer: { ingress: st.served ? [{ ip, ports }] : [] }, urls: targets.map((t) => t.url), curl: targets.map((t) => t.curl) };
    });
  }

  listPods(): LocalPod[] {
    return [...this.pods.values()];
  }

  diagnostics(): Diagnostic[] {
    return this.lastDiagnostics;
  }

  configFiles(): string[] {
    return this.files;
  }

  /**
   * Watches directories, never files: a directory's watch sees a file replaced by rename (how
   * editors and most tools save), which a watch on the file itself loses, and so does Node 20's
   * recursive mode on Linux. A directory argument is watched with each of its subdirectories; a
   * file argument through its parent, filtered by name. Re-run after each reload, so new
   * subdirectories are picked up.
   */
  private watch(): void {
    const wanted = new Map<string, Set<string> | null>();
    const addDir = (dir: string) => {
      wanted.set(dir, null);
      let entries: fs.Dirent[] = [];
      try {
        entries = fs.readdirSync(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) if (e.isDirectory() && !e.name.startsWith('.') && e.name !== 'node_modules') addDir(path.join(dir, e.name));
    };
    for (const p of this.opts.paths) {
      const t = path.resolve(p);
      let isDir = false;
      try {
        isDir = fs.statSync(t).isDirectory();
      } catch {
        // A file that does not exist yet is watched for through its directory.
      }
      if (isDir) {
        addDir(t);
      } else {
        const dir = path.dirname(t);
        const names = wanted.get(dir);
        if (names === undefined) wanted.set(dir, new Set([path.basename(t)]));
        else names?.add(path.basename(t));
      }
    }
    for (const [dir, w] of this.watchers) {
      if (!wanted.has(dir)) {
        w.watcher.close();
        this.watchers.delete(dir);
      }
    }
    for (const [dir, names] of wanted) {
      const existing = this.watchers.get(dir);
      if (existing) {
        existing.names = names;
        continue;
      }
      try {
        const entry = { watcher: null as unknown as fs.FSWatcher, names };
        entry.watcher = fs.watch(dir, (_event, file) => {
          if (entry.names === null || (file !== null && entry.names.has(String(file)))) this.scheduleReload();
        });
        entry.watcher.on('error', () => undefined);
        this.watchers.set(dir, entry);
      } catch (e) {
        this.opts.say(`cannot watch ${dir}: ${(e as Error).message}; reloads need a restart`);
      }
    }
  }

  private scheduleReload(): void {
    if (this.stopped) return;
    if (this.reloadTimer) clearTimeout(this.reloadTimer);
    // Editors write files in several steps; wait for the burst to end.
    this.reloadTimer = setTimeout(() => {
      this.reloadTimer = null;
      this.reloading = this.reloading.then(async () => {
        await this.reload();
        if (!this.stopped) this.watch();
      });
    }, 200);
  }

  /** Re-reads the files; applies them if valid, else keeps serving the last good config. */
  async reload(): Promise<boolean> {
    if (this.stopped) return false;
    this.opts.say('configuration changed; reloading');
    const next = await this.load();
    if (!next) {
      this.lastReload = { at: Date.now(), ok: false, message: 'the new configuration has errors; the last good configuration keeps serving' };
      this.opts.say(this.lastReload.message);
      return false;
    }
    this.store = next;
    this.configGeneration++;
    await this.followCa(next);
    this.reconcile();
    this.cp.update({ store: next, registry: this.registry() });
    this.lastReload = { at: Date.now(), ok: true, message: `applied configuration generation ${this.configGeneration}` };
    this.opts.say(this.lastReload.message);
    return true;
  }

  /**
   * `strait apply`: the file's resources replace the ones with the same kind, namespace and name
   * (kubectl apply). All or nothing: with a blocking error nothing changes and the diagnostics
   * say why. Serialized with file reloads.
   */
  apply(file: string, text: string): Promise<ChangeResult> {
    return this.serialized(async () => {
      const keys = resourceKeys(text, file);
      if (keys.length === 0) return { ok: false, message: `${file} holds no resource with a kind and a name`, changes: [], diagnostics: [] };
      const existed = new Set((this.store?.all() ?? []).map(resourceKey));
      const result = await this.change(this.applied.withApplied(file, text, keys), `applied ${file}`);
      return { ...result, changes: result.ok ? keys.map((key) => ({ key, action: existed.has(key) ? 'configured' : 'created' })) : [] };
    });
  }

  /** `strait delete`: the file's resources go away, whichever file or apply defined them. */
  delete(file: string, text: string): Promise<ChangeResult> {
    return this.serialized(async () => {
      const keys = resourceKeys(text, file);
      const existed = new Set((this.store?.all() ?? []).map(resourceKey));
      const result = await this.change(this.applied.withDeleted(keys), `deleted the resources of ${file}`);
      return { ...result, changes: result.ok ? keys.map((key) => ({ key, action: existed.has(key) ? 'deleted' : 'not found' })) : [] };
    });
  }

  private serialized<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.reloading.then(fn);
    this.reloading = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /** Loads with `overlay`; applies it when nothing blocks, like a reload. */
  private async change(overlay: Overlay, what: string): Promise<Omit<ChangeResult, 'changes'>> {
    if (this.stopped) return { ok: false, message: 'strait up is stopping', diagnostics: [] };
    const next = await this.load(overlay);
    if (!next) {
      this.lastReload = { at: Date.now(), ok: false, message: `${what}: rejected, the configuration would have errors; the last good configuration keeps serving` };
      this.opts.say(this.lastReload.message);
      return { ok: false, message: this.lastReload.message, diagnostics: this.lastDiagnostics };
    }
    this.applied.commit(overlay);
    this.store = next;
    this.configGeneration++;
    await this.followCa(next);
    this.reconcile();
    this.cp.update({ store: next, registry: this.registry() });
    this.lastReload = { at: Date.now(), ok: true, message: `${what}: configuration generation ${this.configGeneration}` };
    this.opts.say(this.lastReload.message);
    return { ok: true, message: this.lastReload.message, diagnostics: this.lastDiagnostics };
  }

  /** Tells the CA about a changed cacerts Secret (or says why it cannot follow a change). */
  private async followCa(store: ConfigStore): Promise<void> {
    if (!this.ca) return;
    const note = await followCaConfig(this.ca, this.opts.ca ?? {}, store, systemClock, this.caSecret);
    if (note) this.opts.say(note);
  }

  /**
   * `strait ca rotate-root`: a new self-signed root signs from now on; proxies trust [new, old]
   * at once (the trust bundle stream) and renew onto the new root within a few minutes.
   */
  async rotateRoot(): Promise<string> {
    if (!this.ca) throw new Error('the mesh CA is not running');
    const r = await this.ca.rotateRoot();
    const message = `mesh CA: new root ${r.fingerprint.slice(0, 23)}... signs; proxies trust it and the previous roots, and renew onto it within 5 minutes; retire the old roots (strait ca retire-roots) once no certificate from them is left`;
    this.opts.say(message);
    return message;
  }

  /**
   * `strait ca retire-roots`: drops the roots kept for overlap. Refused while a running proxy's
   * latest certificate is from one of them (its peers would refuse it), unless forced.
   */
  async retireRoots(force = false): Promise<string> {
    if (!this.ca) throw new Error('the mesh CA is not running');
    const signing = this.ca.rootStatus().find((r) => r.signing)?.fingerprint;
    const issued = this.cp.issuedCertificates();
    const behind = [...this.pods.keys()].filter((k) => {
      const c = issued.get(k);
      return c !== undefined && c.root !== signing;
    });
    if (behind.length > 0 && !force) {
      throw new Error(`${behind.join(', ')} still use a certificate from an old root; wait for them to renew (strait ca status), or force it`);
    }
    const retired = this.ca.retireRoots();
    const message = retired.length ? `mesh CA: retired ${retired.map((f) => `${f.slice(0, 23)}...`).join(', ')}; proxies no longer trust them` : 'mesh CA: no old root to retire';
    this.opts.say(message);
    return message;
  }

  /** The mesh CA, once started. */
  get certificateAuthority(): CertificateAuthority | null {
    return this.ca;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.probeTimer) clearInterval(this.probeTimer);
    if (this.reloadTimer) clearTimeout(this.reloadTimer);
    for (const w of this.watchers.values()) w.watcher.close();
    this.watchers.clear();
    const pods = [...this.pods.values()];
    // Gateway and workloads first, so traffic stops at the edge before the sidecars go.
    await Promise.all(pods.map((p) => p.stop()));
    this.pods.clear();
    await this.cp.close();
    if (this.runDir) fs.rmSync(this.runDir, { recursive: true, force: true });
  }
}

/** Containers Strait cannot start locally are errors for `strait up` (not for validate). */
export function runnableChecks(store: ConfigStore): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const d of store.list('Deployment')) {
    d.spec.template.spec.containers.slice(0, 1).forEach((c, i) => {
      if ((c.command ?? []).length === 0 && builtinImage(c.image ?? '') === undefined) {
        const pos = d.source.at(['spec', 'template', 'spec', 'containers', i, 'image']);
        out.push({
          severity: 'error',
          ...pos,
          code: 'not-runnable',
          message: `container "${c.name}" of Deployment ${d.metadata.namespace}/${d.metadata.name} has image "${c.image}" and no command; Strait runs local processes, not images, and has no built-in program for this one`,
          fix: `add \`command:\` (the program to run for this container), or use a built-in image: ${BUILTIN_IMAGE_NAMES.join(', ')} (any registry and tag)`,
        });
      }
    });
  }
  return out;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
