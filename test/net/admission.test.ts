// The data plane's admission (src/net/admission.ts): requests that wait on I/O all go at once;
// while their work keeps the event loop behind, later ones wait in line, in order.
import { describe, expect, it } from "vitest";
import { Admission } from "../../src/net/admission";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

describe("Admission", () => {
  it("never holds back requests that only wait (no CPU): all run at once", async () => {
    const gate = new Admission({ min: 2, lagMs: 15, sampleMs: 5 });
    let active = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 40 }, () =>
        gate.run(async () => {
          most = Math.max(most, ++active);
          await sleep(30);
          active--;
        }),
      ),
    );
    gate.stop();
    expect(most).toBe(40);
  });

  it("while the loop lags, lets only a few CPU-heavy requests run at a time, first come first served", async () => {
    const gate = new Admission({ min: 2, lagMs: 15, sampleMs: 5 });
    let active = 0;
    const atAdmission: number[] = [];
    const order: number[] = [];
    let asked = 0;
    // 20 clients, each sending its next request when the last one is answered (like the bench's connections).
    const client = async () => {
      for (let n = 0; n < 8; n++) {
        const ticket = asked++;
        await gate.run(async () => {
          order.push(ticket);
          atAdmission.push(++active);
          // Work done in slices, as runs do between their awaits.
          for (let k = 0; k < 3; k++) {
            busy(4);
            await sleep(0);
          }
          active--;
        });
      }
    };
    await Promise.all(Array.from({ length: 20 }, client));
    gate.stop();
    expect(order).toEqual([...order].sort((a, b) => a - b));
    // All 20 at first; once the lag was seen, a handful (the later half of the 160 requests).
    expect(Math.max(...atAdmission)).toBe(20);
    expect(Math.max(...atAdmission.slice(80))).toBeLessThanOrEqual(8);
  });
});
