// Envoy's tls_inspector, as a pure function: reads the first bytes of a connection and tells
// whether they start a TLS handshake, and if so the ClientHello's SNI and ALPN protocols,
// without terminating TLS. Lets a listener pick a filter chain by server name for TLS it passes
// through untouched (Gateway PASSTHROUGH, HTTPS egress through a sidecar), and tell TLS from
// plaintext on one port.

export interface InspectResult {
  /** False: more bytes are needed to decide. */
  readonly complete: boolean;
  readonly tls: boolean;
  readonly sni?: string;
  readonly alpn?: readonly string[];
}

const NEED_MORE: InspectResult = { complete: false, tls: false };
const NOT_TLS: InspectResult = { complete: true, tls: false };
/** A ClientHello larger than this is not worth waiting for (Envoy's default max is 64 KiB). */
const MAX_HELLO = 64 * 1024;

export function inspectClientHello(buf: Buffer): InspectResult {
  if (buf.length < 1) return NEED_MORE;
  // TLS record type 22 (handshake), version major 3.
  if (buf[0] !== 0x16) return NOT_TLS;
  if (buf.length < 5) return NEED_MORE;
  if (buf[1] !== 0x03) return NOT_TLS;
  const recordLen = buf.readUInt16BE(3);
  if (recordLen > MAX_HELLO) return { complete: true, tls: true };
  if (buf.length < 5 + recordLen) return buf.length >= MAX_HELLO ? { complete: true, tls: true } : NEED_MORE;
  return parseHello(buf.subarray(5, 5 + recordLen));
}

function parseHello(b: Buffer): InspectResult {
  const tlsOnly: InspectResult = { complete: true, tls: true };
  // handshake type 1 = ClientHello, 3-byte length
  if (b.length < 4 || b[0] !== 0x01) return tlsOnly;
  let p = 4;
  p += 2 + 32; // client version, random
  if (p >= b.length) return tlsOnly;
  p += 1 + b[p]!; // session id
  if (p + 2 > b.length) return tlsOnly;
  p += 2 + b.readUInt16BE(p); // cipher suites
  if (p >= b.length) return tlsOnly;
  p += 1 + b[p]!; // compression methods
  if (p + 2 > b.length) return tlsOnly;
  const extEnd = Math.min(b.length, p + 2 + b.readUInt16BE(p));
  p += 2;
  let sni: string | undefined;
  let alpn: string[] | undefined;
  while (p + 4 <= extEnd) {
    const type = b.readUInt16BE(p);
    const len = b.readUInt16BE(p + 2);
    const data = b.subarray(p + 4, Math.min(extEnd, p + 4 + len));
    p += 4 + len;
    if (type === 0x0000 && data.length >= 5) {
      // server_name list: u16 list length, then (u8 type, u16 len, name)
      let q = 2;
      while (q + 3 <= data.length) {
        const nameType = data[q]!;
        const nameLen = data.readUInt16BE(q + 1);
        if (nameType === 0 && q + 3 + nameLen <= data.length) {
          sni = data.subarray(q + 3, q + 3 + nameLen).toString('ascii').toLowerCase();
          break;
        }
        q += 3 + nameLen;
      }
    } else if (type === 0x0010 && data.length >= 2) {
      alpn = [];
      let q = 2;
      while (q < data.length) {
        const l = data[q]!;
        alpn.push(data.subarray(q + 1, q + 1 + l).toString('ascii'));
        q += 1 + l;
      }
    }
  }
  return { complete: true, tls: true, sni, alpn };
}

/** HTTP/2 with prior knowledge starts with this preface (RFC 9113 §3.4). */
export const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

/** 'h2c', 'http1', or undefined when more bytes are needed. */
export function sniffPlaintext(buf: Buffer): 'h2c' | 'http1' | undefined {
  const n = Math.min(buf.length, H2_PREFACE.length);
  if (buf.subarray(0, n).equals(H2_PREFACE.subarray(0, n))) return n === H2_PREFACE.length ? 'h2c' : undefined;
  return 'http1';
}
