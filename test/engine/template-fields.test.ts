// Templates in fields that must end up as text: objects become JSON, like in mixed text.
import { describe, expect, it } from "vitest";
import { flow, makeHarness, reply, URL_A } from "./harness";

describe("templates in text-only fields", () => {
  it("show an object in a fail message as JSON", async () => {
    const h = makeHarness({ flows: [flow("f", [{ id: "guard", fail: { message: "{{ input.problems }}" } }])] });
    const run = await h.start("f", { problems: { city: "missing" } });
    expect(run.error!.message).toBe('{"city":"missing"}');
  });

  it("send an object in a header as JSON", async () => {
    const h = makeHarness({
      flows: [
        flow("f", [{ id: "call", http: { method: "GET", url: URL_A, headers: { "X-Meta": "{{ input.meta }}" } } }]),
      ],
    });
    h.http.reply(reply(200));
    await h.start("f", { meta: { a: 1 } });
    expect(h.http.requests[0]!.headers["x-meta"]).toBe('{"a":1}');
  });

  it("send an object in a query value as JSON", async () => {
    const h = makeHarness({
      flows: [
        flow("f", [
          {
            id: "call",
            http: { method: "GET", url: URL_A, query: { filter: "{{ input.filter }}", n: "{{ input.n }}" } },
          },
        ]),
      ],
    });
    h.http.reply(reply(200));
    await h.start("f", { filter: { tag: "x" }, n: 3 });
    const url = new URL(h.http.requests[0]!.url);
    expect(url.searchParams.get("filter")).toBe('{"tag":"x"}');
    expect(url.searchParams.get("n")).toBe("3");
  });

  it("give each attempt its own run.attempt number", async () => {
    const h = makeHarness({
      flows: [
        flow("f", [
          {
            id: "call",
            http: { method: "GET", url: "http://api.test/a?try={{ run.attempt }}&run={{ run.id }}" },
            retry: { max_attempts: 2 },
          },
        ]),
      ],
    });
    h.http.reply(reply(500), reply(200));
    const run = await h.start("f");
    expect(h.http.requests.map((r) => r.url)).toEqual([
      `http://api.test/a?try=1&run=${run.id}`,
      `http://api.test/a?try=2&run=${run.id}`,
    ]);
  });
});
