// Encodes generated xDS resources for the wire once per distinct content. A push generates every
// proxy's resources, and most are alike across proxies (endpoints, clusters and routes of one
// namespace) or unchanged since the last push; protobuf encoding is the dearest step of a push,
// so each distinct resource is encoded once: by object identity for resources the generators
// share between proxies (endpoints.ts), else by a digest of its JSON. Entries live for two
// snapshot generations, so a resource the last push encoded is not encoded again.

import { createHash } from 'node:crypto';
import { encodeResource } from '../xds/codec.js';
import type { AnyMessage } from '../xds/codec.js';
import type { TypeUrl, XdsResource } from '../xds/resources.js';

export class EncodeCache {
  private byObject = new WeakMap<object, AnyMessage>();
  private current = new Map<string, AnyMessage>();
  private previous = new Map<string, AnyMessage>();
  private generation = Number.NaN;
  /** Encodings done and avoided, for tests and the benchmark. */
  readonly counts = { encoded: 0, reused: 0 };

  /** Starts a generation (a snapshot version); what neither it nor the last one used is dropped. */
  begin(generation: number): void {
    if (generation === this.generation) return;
    this.generation = generation;
    this.previous = this.current;
    this.current = new Map();
  }

  /** The resource's wire form. Resources passed here must not be mutated afterwards. */
  encode(typeUrl: TypeUrl, resource: XdsResource): AnyMessage {
    const same = this.byObject.get(resource);
    if (same && same.type_url === typeUrl) {
      this.counts.reused++;
      return same;
    }
    const key = `${typeUrl} ${createHash('sha1').update(JSON.stringify(resource)).digest('base64')}`;
    let m = this.current.get(key) ?? this.previous.get(key);
    if (m) this.counts.reused++;
    else {
      m = encodeResource(typeUrl, resource);
      this.counts.encoded++;
    }
    this.current.set(key, m);
    this.byObject.set(resource, m);
    return m;
  }
}
