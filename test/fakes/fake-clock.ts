// A Clock for tests: time moves only when a test calls advance(), which fires
// due timers in time order and lets the promises they wake settle in between.
import type { Clock } from "../../src/engine/ports";

interface Timer {
  at: number;
  seq: number;
  fn: () => void;
}

/** Lets pending promise chains (and anything they schedule with setImmediate) run. */
export async function settleMicrotasks(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((r) => setImmediate(r));
}

export class FakeClock implements Clock {
  private current: number;
  private seq = 0;
  private readonly timers = new Set<Timer>();

  constructor(start = Date.UTC(2025, 0, 1, 12, 0, 0)) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimer(ms: number, fn: () => void): () => void {
    const timer: Timer = { at: this.current + Math.max(0, ms), seq: this.seq++, fn };
    this.timers.add(timer);
    return () => {
      this.timers.delete(timer);
    };
  }

  /** Forgets every timer, as when the process that set them dies. */
  dropTimers(): void {
    this.timers.clear();
  }

  /** Timers not yet fired or cancelled. */
  get pendingTimers(): number {
    return this.timers.size;
  }

  /** The time of the next timer, if any. */
  nextTimerAt(): number | undefined {
    let best: number | undefined;
    for (const t of this.timers) if (best === undefined || t.at < best) best = t.at;
    return best;
  }

  /**
   * Moves time forward by ms. Every timer due on the way fires at its own time, earliest
   * first (ties in the order they were set); after each, awaiting promises settle so that
   * timers they set are seen in the same advance.
   */
  async advance(ms: number, settleRounds = 10): Promise<void> {
    if (ms < 0) throw new Error("time does not go backwards");
    const target = this.current + ms;
    for (;;) {
      const next = this.earliestDue(target);
      if (!next) break;
      this.timers.delete(next);
      this.current = Math.max(this.current, next.at);
      next.fn();
      await settleMicrotasks(settleRounds);
    }
    this.current = target;
    await settleMicrotasks(settleRounds);
  }

  private earliestDue(limit: number): Timer | undefined {
    let best: Timer | undefined;
    for (const t of this.timers) {
      if (t.at > limit) continue;
      if (!best || t.at < best.at || (t.at === best.at && t.seq < best.seq)) best = t;
    }
    return best;
  }
}
