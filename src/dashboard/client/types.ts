// The JSON the dashboard's API answers, as the browser reads it (the server's types live in
// src/dashboard/*.ts; these mirror the fields the views use).

export interface Rates {
  rps: number;
  errorRate: number | null;
  p50: number | null;
  p99: number | null;
  requests: number;
  /** TCP: connections opened per second, bytes per second both ways. */
  cps: number;
  bytesPerSecond: number;
  connections: number;
}

export interface GraphNode {
  id: string;
  kind: 'workload' | 'service' | 'unknown';
  name: string;
  namespace: string;
  gateway: boolean;
  idle: boolean;
  rates: Rates;
}

export interface GraphEdge {
  id: string;
  source: string;
  target: string;
  reporter: string;
  security: 'mtls' | 'plaintext' | 'mixed' | 'unknown';
  rates: Rates;
}

export interface ServiceGraph {
  windowSeconds: number;
  nodes: GraphNode[];
  edges: GraphEdge[];
}

export interface ServicePoint {
  t: number;
  rps: number;
  errorRate: number | null;
  p50: number | null;
  p99: number | null;
}

export interface ServiceMetrics {
  id: string;
  name: string;
  namespace: string;
  reporter: string;
  rates: Rates;
  series: ServicePoint[];
}

export interface Peer {
  pod: string;
  identity: string;
  verified: boolean;
}

export interface TapEvent {
  startTime: number;
  direction: 'inbound' | 'outbound';
  method: string;
  authority: string;
  path: string;
  status: number;
  durationMs: number;
  flags: string;
  details: string;
  requestId: string;
  upstreamCluster: string;
  source: Peer;
  destination: Peer;
}

export interface MeshStatus {
  controlPlane: { snapshot: number; configGeneration: number; errors: number; warnings: number; lastReload: { at: number; ok: boolean; message: string } | null };
  gateways: { url: string }[];
  pods: { name: string; namespace: string; ready: boolean; proxy: { synced: boolean } | null }[];
}

export interface ConfigView {
  generation: number;
  snapshot: number;
  lastReload: { at: number; ok: boolean; message: string } | null;
  files: string[];
  resources: { kind: string; apiVersion: string; namespace: string; name: string; file: string; line: number; spec: unknown }[];
  diagnostics: { severity: string; file: string; line: number; col: number; code: string; message: string; fix?: string }[];
}
