// The Workers glue in isolation: config from env bindings, timers that keep an invocation alive
// only as long as it may live, a bad configuration answered as one JSON line.
import { describe, expect, it, vi } from "vitest";
import {
  configOf,
  handleFetch,
  workerClock,
  WORKERS_DEFAULT_MAX_BODY,
  type WorkerEnv,
} from "../../src/entry/worker-runtime";

const bindings = () => ({ DB: {} as WorkerEnv["DB"], TICKER: {} as WorkerEnv["TICKER"] });

describe("workers runtime", () => {
  it("reads the configuration from the env's strings (bindings ignored), once per env", () => {
    const env: WorkerEnv = {
      ...bindings(),
      MEND_API_TOKEN: "t0k-0123456789abcdef",
      MEND_SECRET_WEATHER_KEY: "s3cret",
      SLACK_ALLOWED_USERS: "U1, U2",
      MEND_GROUP_WINDOW_S: "60",
    };
    const c = configOf(env);
    expect(c).toMatchObject({
      MEND_API_TOKEN: "t0k-0123456789abcdef",
      MEND_GROUP_WINDOW_S: 60,
      SLACK_ALLOWED_USERS: ["U1", "U2"],
      secrets: { WEATHER_KEY: "s3cret" },
    });
    expect(c.MEND_MAX_BODY).toBe(WORKERS_DEFAULT_MAX_BODY);
    expect(configOf(env)).toBe(c);
    expect(configOf({ ...bindings(), MEND_MAX_BODY: "2048" }).MEND_MAX_BODY).toBe(2048);
  });

  it("answers every request with one JSON line when the configuration is bad", async () => {
    const env: WorkerEnv = { ...bindings(), SLACK_BOT_TOKEN: "xoxb-1" };
    const printed = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const res = await handleFetch(new Request("http://mend.test/healthz"), env, { waitUntil: () => undefined });
    expect(printed).toHaveBeenCalledTimes(1);
    printed.mockRestore();
    expect(res.status).toBe(500);
    const body = (await res.json()) as { error: string };
    expect(body.error).toMatch(/^configuration: SLACK_SIGNING_SECRET: must be set together with SLACK_BOT_TOKEN/);
  });

  it("keeps the invocation alive for timers that fire before its deadline, not for later ones", async () => {
    const held: Promise<unknown>[] = [];
    const clock = workerClock((p) => void held.push(p), Date.now() + 1_000);
    let fired = 0;
    clock.setTimer(20, () => fired++);
    const cancelLater = clock.setTimer(5_000, () => fired++);
    expect(held).toHaveLength(1);
    await Promise.all(held);
    expect(fired).toBe(1);
    const cancel = clock.setTimer(500, () => fired++);
    expect(held).toHaveLength(2);
    cancel();
    await Promise.all(held);
    cancelLater();
    expect(fired).toBe(1);
  });
});
