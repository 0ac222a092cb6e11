// What `strait apply` and `strait delete` changed in a running mesh, on top of the watched files,
// with `kubectl apply` semantics: an applied file's resources replace those of the same kind,
// namespace and name (from the files or from an earlier apply), and a deleted resource goes
// away even if a watched file still defines it. Kept in memory: a restart of `strait up` starts
// again from the files, like a cluster re-created from its manifests.

import type { AppliedFile, Overlay } from '../config/load-config.js';

export class AppliedConfig {
  private applied: AppliedFile[] = [];
  private deleted = new Set<string>();

  get overlay(): Overlay {
    return { applied: this.applied, deleted: this.deleted };
  }

  /** The overlay with `file` applied (its resources `keys`); the current one is unchanged. */
  withApplied(file: string, text: string, keys: readonly string[]): Overlay {
    const taken = new Set(keys);
    // Re-applying a file replaces its earlier version; its keys leave every other applied file.
    const applied = this.applied.filter((a) => a.file !== file).map((a) => ({ ...a, hidden: new Set([...a.hidden, ...keys]) }));
    applied.push({ file, text, hidden: new Set() });
    const deleted = new Set([...this.deleted].filter((k) => !taken.has(k)));
    return { applied, deleted };
  }

  /** The overlay with `keys` deleted. */
  withDeleted(keys: readonly string[]): Overlay {
    const applied = this.applied.map((a) => ({ ...a, hidden: new Set([...a.hidden, ...keys]) }));
    return { applied, deleted: new Set([...this.deleted, ...keys]) };
  }

  /** Makes `o` (from withApplied/withDeleted) the current overlay. */
  commit(o: Overlay): void {
    this.applied = [...o.applied];
    this.deleted = new Set(o.deleted);
  }
}
