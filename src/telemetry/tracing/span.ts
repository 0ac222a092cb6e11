// One proxy hop's span, as the exporters read it. Only sampled requests get one: an unsampled
// request is propagated without any span object (http-tracing.ts). Tags are kept as a flat
// [key, value, key, value, ...] list of strings, the shape both Zipkin (string tags) and Istio's
// OpenTelemetry spans (string attributes) carry.

export type SpanKind = 'SERVER' | 'CLIENT';

export class ProxySpan {
  /** Set when the request ends: the operation (route decorator, or Envoy's default name). */
  name = '';
  /** Flat key/value list, filled when the request ends. */
  readonly tags: string[] = [];
  /** Epoch milliseconds (fractional) when the request ended. */
  endTime = 0;
  /** The matched route's decorator operation (the span name unless the caller named it). */
  decorator: string | undefined = undefined;
  /** Error status (5xx or no response): OTLP status ERROR, Zipkin tag error=true. */
  error = false;

  constructor(
    readonly traceId: string,
    readonly spanId: string,
    readonly parentSpanId: string | undefined,
    readonly kind: SpanKind,
    /** Epoch milliseconds when the request headers arrived. */
    readonly startTime: number,
    /** Monotonic milliseconds at the same instant (durations come from it). */
    readonly startMono: number,
    readonly debug: boolean,
    readonly traceState: string | undefined,
    /** An inbound `x-envoy-decorator-operation`: the caller's name for this operation. */
    readonly operation: string | undefined,
    /** The proxy's identity as the trace backend shows it (`frontend.default`). */
    readonly serviceName: string,
  ) {}

  tag(key: string, value: string): void {
    this.tags.push(key, value);
  }

  /** The tags as an object (later keys win, as a tag set twice in Envoy keeps the last value). */
  tagObject(): Record<string, string> {
    const out: Record<string, string> = {};
    for (let i = 0; i < this.tags.length; i += 2) out[this.tags[i]!] = this.tags[i + 1]!;
    return out;
  }
}
