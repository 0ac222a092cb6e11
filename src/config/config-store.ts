// An immutable set of validated configuration resources, grouped by kind, in load order.
// A reload builds a new ConfigStore; nothing mutates one after construction.

import type { ConfigKind, ConfigResource, ResourceOf } from './types.js';
import { resourceKey } from './types.js';

export class ConfigStore {
  private readonly byKind = new Map<ConfigKind, ConfigResource[]>();

  constructor(resources: readonly ConfigResource[]) {
    for (const r of resources) {
      let list = this.byKind.get(r.kind);
      if (!list) this.byKind.set(r.kind, (list = []));
      list.push(r);
    }
  }

  static empty(): ConfigStore {
    return new ConfigStore([]);
  }

  list<K extends ConfigKind>(kind: K): readonly ResourceOf<K>[] {
    return (this.byKind.get(kind) ?? []) as unknown as ResourceOf<K>[];
  }

  get<K extends ConfigKind>(kind: K, namespace: string, name: string): ResourceOf<K> | undefined {
    return this.list(kind).find((r) => r.metadata.namespace === namespace && r.metadata.name === name);
  }

  all(): ConfigResource[] {
    return [...this.byKind.values()].flat();
  }

  /** Namespaces that exist: declared ones plus the ones Kubernetes always has. */
  namespaces(): Set<string> {
    const names = new Set(['default', 'istio-system', 'kube-system']);
    for (const ns of this.list('Namespace')) names.add(ns.metadata.name);
    return names;
  }

  size(): number {
    let n = 0;
    for (const list of this.byKind.values()) n += list.length;
    return n;
  }

  keys(kind: ConfigKind): string[] {
    return this.list(kind).map(resourceKey);
  }
}
