// The Node log: JSON lines at MEND_LOG_LEVEL, secrets never written.
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createNodeLog } from "../../src/entry/logger";

function capture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split("\n").filter(Boolean))
        lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { lines, destination };
}

describe("the Node log", () => {
  it("writes one JSON object per line with level, time and msg, and drops lines under MEND_LOG_LEVEL", async () => {
    const { lines, destination } = capture();
    const { log } = createNodeLog({ level: "warn", secrets: {}, destination, pretty: false });
    log("info", "not shown");
    log("warn", "shown", { run: "r1" });
    log("debug", "not shown either");
    await new Promise((r) => setImmediate(r));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: "warn", msg: "shown", run: "r1" });
    expect(typeof lines[0]!.time).toBe("string");
  });

  it("replaces secret values and secret-named fields, wherever they appear", async () => {
    const { lines, destination } = capture();
    const { log } = createNodeLog({
      level: "debug",
      secrets: { API: "tok-abcdef-123456" },
      destination,
      pretty: false,
    });
    log("error", "upstream said tok-abcdef-123456", {
      nested: { body: "x tok-abcdef-123456 y", authorization: "Bearer zzz" },
    });
    await new Promise((r) => setImmediate(r));
    const text = JSON.stringify(lines);
    expect(text).not.toContain("tok-abcdef-123456");
    expect(text).not.toContain("zzz");
    expect(lines[0]).toMatchObject({
      msg: "upstream said [redacted]",
      nested: { body: "x [redacted] y", authorization: "[redacted]" },
    });
  });
});
