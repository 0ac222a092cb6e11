// Loopback addresses for local pods. Every pod gets two addresses inside one /20 of 127.0.0.0/8:
// its pod IP (what the mesh sees: endpoints, inbound listeners) and a pod-local address (what
// 127.0.0.1 means inside the pod: where the workload listens behind its sidecar, and the
// sidecar's admin port). Linux routes all of 127.0.0.0/8 to the loopback interface, so no setup
// is needed, and pods never collide on ports.

export interface PodAddresses {
  readonly ip: string;
  readonly local: string;
}

export class AddressBlock {
  private next = 0;
  readonly base: number;
  private readonly size: number;

  constructor(cidr: string) {
    const m = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
    if (!m) throw new Error(`address block "${cidr}" must be a CIDR inside 127.0.0.0/8, e.g. 127.10.0.0/20`);
    const prefix = Number(m[4]);
    if (prefix < 8 || prefix > 24) throw new Error(`address block "${cidr}": prefix must be between /8 and /24`);
    const octets = [127, Number(m[1]), Number(m[2]), Number(m[3])];
    if (octets.some((o) => o > 255)) throw new Error(`address block "${cidr}" is not an IPv4 address`);
    const ip = octets.reduce((a, o) => a * 256 + o, 0);
    this.size = 2 ** (32 - prefix);
    this.base = ip - (ip % this.size);
  }

  /** A random /20 away from 127.0.0.0/16, for tests running side by side. */
  static random(rand: () => number = Math.random): AddressBlock {
    const second = 16 + Math.floor(rand() * 238);
    const third = Math.floor(rand() * 16) * 16;
    return new AddressBlock(`127.${second}.${third}.0/20`);
  }

  /** The block's own first usable address (for the gateway's host address in tests). */
  hostAddress(): string {
    return toIp(this.base + 1);
  }

  allocate(): PodAddresses {
    const offset = 16 + 2 * this.next;
    if (offset + 1 >= this.size - 1) throw new Error(`address block ${toIp(this.base)} is full (${this.next} pods)`);
    this.next++;
    return { ip: toIp(this.base + offset), local: toIp(this.base + offset + 1) };
  }
}

function toIp(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}
