// Gap detection on the live feeds. Every message is {stream, epoch, seq, data}: seq counts
// 1, 2, 3, ... per stream within an epoch (one epoch per publishing process). A jump, or an
// epoch seen first past seq 1, means messages were missed: the caller re-syncs over REST.
// A stream numbered under one epoch at a time (the admin stream, whose numbers the store
// keeps) reports any epoch it has not seen as a new epoch: the stream began anew.

export class SequenceTracker {
  constructor() {
    this.streams = new Map(); // stream -> Map(epoch -> last seq)
    this.single = new Set(); // streams with one epoch at a time
  }

  /** `stream` has one epoch at a time: a message of an epoch not seen yet is "epoch". */
  oneEpoch(stream) {
    this.single.add(stream);
  }

  /** Where a stream stands now (from GET /api/feeds/state, or the first message). */
  baseline(stream, epoch, seq) {
    const epochs = this.epochs(stream);
    epochs.set(epoch, Math.max(epochs.get(epoch) ?? 0, seq));
  }

  forget(stream) {
    this.streams.delete(stream);
  }

  epochs(stream) {
    let epochs = this.streams.get(stream);
    if (!epochs) {
      epochs = new Map();
      this.streams.set(stream, epochs);
    }
    return epochs;
  }

  /**
   * Classify a message: "next" (contiguous), "old" (already seen: a duplicate), "gap"
   * ({expected, got}), "first" (a stream with no baseline: its first message sets one) or,
   * on a one-epoch stream, "epoch" ({epoch, got}: a new epoch, whatever its seq).
   */
  check({ stream, epoch, seq }) {
    const epochs = this.epochs(stream);
    const last = epochs.get(epoch);
    if (last === undefined) {
      const known = epochs.size > 0;
      epochs.set(epoch, seq);
      if (!known) return { kind: "first" };
      if (this.single.has(stream)) return { kind: "epoch", epoch, got: seq };
      // A process we have not heard from: fine if this is its first message.
      return seq === 1 ? { kind: "next" } : { kind: "gap", expected: 1, got: seq, epoch };
    }
    if (seq <= last) return { kind: "old" };
    epochs.set(epoch, seq);
    if (seq === last + 1) return { kind: "next" };
    return { kind: "gap", expected: last + 1, got: seq, epoch };
  }
}
