// Incremental decoder of the chunked transfer coding (RFC 9112 §7.1), as strict as llhttp:
// hex sizes only (no sign, prefix, spaces or overflow), chunk extensions bounded and free of
// bare CR/LF, exact CRLF after each chunk's data, and trailer fields parsed as header lines
// within a size limit. Data comes out as views of the input buffers (no copy).

import { TCHAR } from './head-parser.js';
import type { ParseError } from './head-parser.js';

const MAX_SIZE_LINE = 4096;
const MAX_TRAILERS = 16 * 1024;

const enum State {
  Size,
  Ext,
  SizeLf,
  Data,
  DataCr,
  DataLf,
  Trailers,
  Done,
}

export interface ChunkSink {
  /** Takes one piece of chunk data; false asks the decoder to stop here (backpressure). */
  data(chunk: Buffer): boolean;
}

export class ChunkedDecoder {
  private state = State.Size;
  private size = 0;
  private digits = 0;
  private lineBytes = 0;
  private left = 0;
  private trailerText = '';
  /** Trailer fields, flat [name, value, ...], once done. */
  trailers: string[] = [];

  get done(): boolean {
    return this.state === State.Done;
  }

  /**
   * Feeds `buf` from `start` and returns the offset up to which it consumed: the message's end
   * when `done`, the point where the sink asked to stop, or `buf.length` when more is needed.
   * Or a parse error.
   */
  push(buf: Buffer, start: number, sink: ChunkSink): number | ParseError {
    let i = start;
    while (i < buf.length) {
      switch (this.state) {
        case State.Size: {
          const c = buf[i]!;
          const h = hexValue(c);
          if (h >= 0) {
            if (++this.digits > 13) return chunkError('Chunk size overflow');
            this.size = this.size * 16 + h;
            i++;
          } else if (this.digits > 0 && (c === 0x3b /* ; */ || c === 0x0d)) {
            this.state = c === 0x0d ? State.SizeLf : State.Ext;
            this.lineBytes = 0;
            i++;
          } else {
            return chunkError('Invalid character in chunk size');
          }
          break;
        }
        case State.Ext: {
          const c = buf[i]!;
          if (c === 0x0d) this.state = State.SizeLf;
          else if (!(c === 0x09 || (c >= 0x20 && c <= 0x7e)) || ++this.lineBytes > MAX_SIZE_LINE) return chunkError('Invalid character in chunk extensions');
          i++;
          break;
        }
        case State.SizeLf:
          if (buf[i] !== 0x0a) return chunkError('Expected LF after chunk size');
          i++;
          if (this.size === 0) {
            this.state = State.Trailers;
          } else {
            this.left = this.size;
            this.state = State.Data;
          }
          break;
        case State.Data: {
          const n = Math.min(this.left, buf.length - i);
          i += n;
          this.left -= n;
          if (this.left === 0) this.state = State.DataCr;
          if (!sink.data(buf.subarray(i - n, i))) return i;
          break;
        }
        case State.DataCr:
          if (buf[i] !== 0x0d) return chunkError('Expected CR after chunk data');
          this.state = State.DataLf;
          i++;
          break;
        case State.DataLf:
          if (buf[i] !== 0x0a) return chunkError('Expected LF after chunk data');
          this.state = State.Size;
          this.size = 0;
          this.digits = 0;
          i++;
          break;
        case State.Trailers: {
          // Collect the trailer section as text up to its empty line, then parse it whole.
          const stop = buf.indexOf('\n', i);
          const to = stop < 0 ? buf.length : stop + 1;
          this.trailerText += buf.toString('latin1', i, to);
          i = to;
          if (this.trailerText.length > MAX_TRAILERS) return chunkError('Trailers too large');
          // Every line ends with CRLF: a bare LF is an error at once, not a wait for more.
          if (stop >= 0 && !this.trailerText.endsWith('\r\n')) return chunkError('Expected CRLF in trailers');
          if (stop >= 0 && (this.trailerText.length === 2 || this.trailerText.endsWith('\r\n\r\n'))) {
            const t = parseTrailers(this.trailerText);
            if (t === null) return chunkError('Invalid trailer');
            this.trailers = t;
            this.state = State.Done;
            return i;
          }
          break;
        }
        case State.Done:
          return i;
      }
    }
    return i;
  }
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

function chunkError(message: string): ParseError {
  return Object.assign(new Error(`Parse Error: ${message}`), { code: 'HPE_INVALID_CHUNK_SIZE' });
}

/** `name: value CRLF`* `CRLF` → flat list, or null when a line is malformed. */
function parseTrailers(text: string): string[] | null {
  const out: string[] = [];
  let i = 0;
  while (i < text.length - 2) {
    const eol = text.indexOf('\r\n', i);
    const line = text.slice(i, eol);
    const colon = line.indexOf(':');
    if (colon <= 0) return null;
    for (let k = 0; k < colon; k++) if (TCHAR[line.charCodeAt(k)] !== 1) return null;
    for (let k = colon + 1; k < line.length; k++) {
      const c = line.charCodeAt(k);
      if (!(c === 0x09 || (c >= 0x20 && c !== 0x7f))) return null;
    }
    out.push(line.slice(0, colon), line.slice(colon + 1).trim());
    i = eol + 2;
  }
  return out;
}
