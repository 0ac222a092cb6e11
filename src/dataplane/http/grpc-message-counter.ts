// Counts gRPC messages in one direction of a stream as the bytes pass (Envoy's grpc_stats filter,
// which Istio's request_messages_total / response_messages_total read): each message is a 5-byte
// prefix (flag, big-endian length) and its bytes. Only what remains of the current prefix or
// message is tracked, so any chunking works and nothing is buffered.

export class GrpcMessageCounter {
  count = 0;
  /** Bytes of the current message body still to skip. */
  private remaining = 0;
  /** Prefix bytes seen of the next message (0..4), and its length so far. */
  private prefix = 0;
  private length = 0;

  push(chunk: Uint8Array): void {
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      if (this.remaining > 0) {
        const take = Math.min(this.remaining, n - i);
        this.remaining -= take;
        i += take;
        continue;
      }
      // Prefix byte 0 is the compressed flag; bytes 1..4 the length.
      if (this.prefix > 0) this.length = this.length * 256 + chunk[i]!;
      this.prefix++;
      i++;
      if (this.prefix === 5) {
        this.count++;
        this.remaining = this.length;
        this.prefix = 0;
        this.length = 0;
      }
    }
  }
}
