// User globs (handler match.flows, silence flow) match like a regex would, in linear time.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compileGlob } from "../../src/alerts/glob";

const reference = (glob: string) =>
  new RegExp(
    `^${glob
      .replace(/[.+^${}()|[\]\\]/g, "\\$&")
      .replace(/\*/g, ".*")
      .replace(/\?/g, ".")}$`,
    "s",
  );

describe("globs", () => {
  it("agree with the regular expression they stand for", () => {
    const glob = fc.stringMatching(/^[ab*?.]{0,8}$/);
    const text = fc.stringMatching(/^[ab.]{0,10}$/);
    fc.assert(
      fc.property(glob, text, (g, t) => compileGlob(g).test(t) === reference(g).test(t)),
      { numRuns: 3000 },
    );
  });

  it("examples", () => {
    expect(compileGlob("orders-*").test("orders-eu")).toBe(true);
    expect(compileGlob("orders-*").test("order")).toBe(false);
    expect(compileGlob("*-eu").test("orders-eu")).toBe(true);
    expect(compileGlob("o?ders").test("orders")).toBe(true);
    expect(compileGlob("a*b*c").test("abc")).toBe(true);
    expect(compileGlob("a*b*c").test("acb")).toBe(false);
  });

  it("a catastrophic-backtracking pattern answers at once (ReDoS)", () => {
    const g = compileGlob("*a*a*a*a*a*a*a*a*b");
    const started = performance.now();
    expect(g.test("a".repeat(46))).toBe(false);
    expect(g.test("a".repeat(100_000))).toBe(false);
    expect(performance.now() - started).toBeLessThan(500);
  });
});
