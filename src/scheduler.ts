// Wakes the engine and the outbox dispatcher when work is due: a timer set to
// the next due row, plus a slow poll as a safety net. The rows are the truth.
import type { Clock } from "./engine/ports";

export interface Tickable {
  tick(): Promise<number>;
  nextDueAt(): Promise<number | null>;
}

export class Scheduler {
  private timer: (() => void) | undefined;
  private timerAt = Infinity;
  private poller: (() => void) | undefined;
  private running = false;
  private again = false;
  private stopped = false;

  constructor(
    private readonly clock: Clock,
    private readonly parts: Tickable[],
    private readonly log: (level: "error", msg: string, fields?: Record<string, unknown>) => void,
    private readonly pollMs = 1000,
    /** Told about each tick a timer starts, so runtimes that need it (Workers) keep it alive. */
    private readonly keepAlive?: (p: Promise<unknown>) => void,
  ) {}

  start(): void {
    this.stopped = false;
    const loop = () => {
      this.poller = this.clock.setTimer(this.pollMs, () => {
        this.hold(this.run());
        if (!this.stopped) loop();
      });
    };
    loop();
    void this.run();
  }

  stop(): void {
    this.stopped = true;
    this.timer?.();
    this.poller?.();
    // Started again later, a wake must not be skipped for a timer this stop cancelled.
    this.timer = undefined;
    this.timerAt = Infinity;
  }

  /** Something is due at `at`: make sure a tick happens then. */
  wake(at: number): void {
    if (this.stopped || at >= this.timerAt) return;
    this.timer?.();
    this.timerAt = at;
    // A floor keeps a backlog the engine has no room for from spinning the loop.
    this.timer = this.clock.setTimer(Math.max(10, at - this.clock.now()), () => {
      this.timerAt = Infinity;
      this.hold(this.run());
    });
  }

  private hold(p: Promise<void>): void {
    if (this.keepAlive) this.keepAlive(p);
    else void p;
  }

  async run(): Promise<void> {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    try {
      do {
        this.again = false;
        for (const p of this.parts) await p.tick();
      } while (this.again && !this.stopped);
      let next = Infinity;
      for (const p of this.parts) next = Math.min(next, (await p.nextDueAt()) ?? Infinity);
      if (next !== Infinity) this.wake(next);
    } catch (err) {
      this.log("error", "scheduler tick failed", { error: String(err) });
    } finally {
      this.running = false;
    }
  }
}
