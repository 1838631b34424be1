// Admission for the data plane (Node): chat clicks and the API stay responsive while /hooks is
// saturated. A click is a few turns of the event loop, and every turn is as long as the work of
// the runs in flight; with 50 webhook requests running at once, a click waited behind all of them
// at every turn. Here webhook requests past a limit wait in line before any of their work starts,
// so turns stay short. The limit follows the event loop's delay: it halves while the loop lags
// (runs are using the CPU) and grows back while it keeps up, so requests that wait on slow
// upstreams (no CPU) are never held back. Everything else passes straight through.
//
//   const gate = new Admission();
//   listen((req, env) => (isHook ? gate.run(() => app.fetch(req, env)) : app.fetch(req, env)));
//   gate.stop();

export interface AdmissionOptions {
  /** The limit never goes below this (enough runs to keep the CPU busy) … */
  min?: number;
  /** … nor above this. */
  max?: number;
  /** Event-loop delay (ms) above which the loop counts as behind. */
  lagMs?: number;
  /** How often the delay is sampled (ms). */
  sampleMs?: number;
}

export class Admission {
  private limit: number;
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly timer: ReturnType<typeof setInterval>;
  private readonly min: number;
  private readonly max: number;

  constructor(o: AdmissionOptions = {}) {
    this.min = o.min ?? 8;
    this.max = o.max ?? 4096;
    this.limit = this.max;
    const lagMs = o.lagMs ?? 15;
    const sampleMs = o.sampleMs ?? 20;
    let expected = performance.now() + sampleMs;
    this.timer = setInterval(() => {
      const now = performance.now();
      const lag = now - expected;
      expected = now + sampleMs;
      if (lag > lagMs) this.limit = Math.max(this.min, Math.min(this.limit, this.active) >> 1);
      else if (this.limit < this.max) this.limit += 1;
      this.pump();
    }, sampleMs);
    this.timer.unref?.();
  }

  /** Webhook requests waiting for their turn. */
  get queued(): number {
    return this.waiting.length;
  }

  async run<T>(fn: () => T | Promise<T>): Promise<T> {
    if (this.active < this.limit && this.waiting.length === 0) this.active++;
    else await new Promise<void>((admit) => this.waiting.push(admit));
    try {
      return await fn();
    } finally {
      this.active--;
      this.pump();
    }
  }

  stop(): void {
    clearInterval(this.timer);
    this.limit = Number.POSITIVE_INFINITY;
    this.pump();
  }

  private pump(): void {
    while (this.active < this.limit && this.waiting.length > 0) {
      this.active++;
      this.waiting.shift()!();
    }
  }
}
