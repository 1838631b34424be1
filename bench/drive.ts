// Drives a server with autocannon: warm-up and measurement on the same connections.
import autocannon from "autocannon";
import { BODY, CONNECTIONS, SECONDS, WARMUP_SECONDS } from "./settings";

/** What autocannon answered within one time window. */
export interface Window {
  start: number;
  end: number;
  /** Answers per HTTP status. */
  counts: Map<number, number>;
  /** Latency of every answer, ms (autocannon's hrtime measurement, not rounded). */
  latencies: number[];
  errors: number;
  timeouts: number;
  /** When every connection had its first answer (ms after the window's start). */
  rampMs?: number;
}

function newWindow(start: number): Window {
  return { start, end: start, counts: new Map(), latencies: [], errors: 0, timeouts: 0 };
}

/**
 * One autocannon run of warm-up + measured seconds on the same connections.
 * Only answers that arrive in the measured window count. autocannon opens its
 * connections at the start of a run and a busy server takes them in one at a
 * time, so the first answers on the last connections can wait a second or
 * more; a separate measured run would open fresh connections and put that
 * ramp into its p99. So the window starts once the warm-up time has passed
 * and every connection has had an answer, and lasts SECONDS; `onMeasure` runs
 * as it starts.
 */
export function drive(
  url: string,
  onMeasure: () => Promise<void>,
  opts: { rate?: number; connections?: number } = {},
): Promise<{ warm: Window; measured: Window; result: autocannon.Result }> {
  const connections = opts.connections ?? CONNECTIONS;
  const t0 = performance.now();
  const warm = newWindow(t0);
  const measured = newWindow(t0);
  let current = warm;
  let marking: Promise<void> = Promise.resolve();
  let warmedUp = WARMUP_SECONDS === 0;
  let ramped = false;
  const answeredClients = new Set<unknown>();
  return new Promise((resolve, reject) => {
    let stopTimer: NodeJS.Timeout | undefined;
    const startMeasuring = () => {
      if (current === measured || !warmedUp || !ramped) return;
      warm.end = measured.start = performance.now();
      current = measured;
      marking = onMeasure();
      stopTimer = setTimeout(() => instance.stop(), SECONDS * 1000);
    };
    const instance = autocannon(
      {
        url,
        method: "POST",
        headers: { "content-type": "application/json" },
        body: BODY,
        connections,
        // A fixed rate (requests/s over all connections) instead of as fast as the server answers.
        ...(opts.rate ? { overallRate: opts.rate } : {}),
        // An upper bound: the run is stopped SECONDS after the measured window starts.
        duration: WARMUP_SECONDS + SECONDS + 30,
        timeout: 35,
      },
      (err, result) => {
        clearTimeout(warmTimer);
        clearTimeout(stopTimer);
        current.end = performance.now();
        if (err) reject(err instanceof Error ? err : new Error(String(err)));
        else if (current !== measured)
          reject(
            new Error(
              `the measured window never started (${answeredClients.size}/${connections} connections answered)`,
            ),
          );
        else marking.then(() => resolve({ warm, measured, result }), reject);
      },
    );
    instance.on("response", (client, status, _bytes, ms) => {
      current.counts.set(status, (current.counts.get(status) ?? 0) + 1);
      current.latencies.push(ms);
      if (!ramped && !answeredClients.has(client)) {
        answeredClients.add(client);
        if (answeredClients.size === connections) {
          ramped = true;
          warm.rampMs = performance.now() - t0;
          startMeasuring();
        }
      }
    });
    instance.on("reqError", (err: unknown) => {
      current.errors += 1;
      if (/timed out/.test(String((err as Error)?.message))) current.timeouts += 1;
    });
    const warmTimer = setTimeout(() => {
      warmedUp = true;
      startMeasuring();
    }, WARMUP_SECONDS * 1000);
  });
}
