// http steps against a scripted fetch: requests, results and the error of each status.
import { describe, expect, it } from "vitest";
import { flow, makeHarness, refused, reply, URL_A, URL_B } from "./harness";

function oneCall(http: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return makeHarness({ flows: [flow("f", [{ id: "call", http: { method: "GET", url: URL_A, ...http }, ...extra }])] });
}

describe("http requests", () => {
  it("sends the method, templated url, query, headers and JSON body", async () => {
    const h = makeHarness({
      flows: [
        flow("f", [
          {
            id: "call",
            http: {
              method: "post",
              url: "http://api.test/users/{{ input.id }}",
              query: { q: "{{ input.q }}", n: 2 },
              headers: { "X-Trace": "t-{{ input.id }}" },
              body: { name: "{{ input.name }}", id: "{{ input.id }}" },
            },
          },
        ]),
      ],
    });
    h.http.reply(reply(201, { created: true }));
    await h.start("f", { id: 7, q: "a b", name: "Ada" });
    const req = h.http.requests[0]!;
    expect(req.method).toBe("POST");
    expect(req.url).toBe("http://api.test/users/7?q=a+b&n=2");
    expect(req.headers["x-trace"]).toBe("t-7");
    expect(req.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(req.body!)).toEqual({ name: "Ada", id: 7 });
  });

  it("sends a string body as it is, without forcing JSON", async () => {
    const h = oneCall({ method: "POST", body: "plain {{ input.x }}", headers: { "Content-Type": "text/plain" } });
    h.http.reply(reply(200));
    await h.start("f", { x: 1 });
    expect(h.http.requests[0]!.body).toBe("plain 1");
    expect(h.http.requests[0]!.headers["content-type"]).toBe("text/plain");
  });

  it("does not send a body with GET", async () => {
    const h = oneCall({ body: { a: 1 } });
    h.http.reply(reply(200));
    await h.start("f");
    expect(h.http.requests[0]!.body).toBeUndefined();
  });

  it("fails with a validation error when the templated url is not a URL", async () => {
    const h = oneCall({ url: "{{ input.u }}" });
    const run = await h.start("f", { u: "not a url" });
    expect(run.error).toMatchObject({ type: "validation", step: "call" });
    expect(h.http.requests).toHaveLength(0);
  });

  it("fails with a template error when the url names a missing input field", async () => {
    const h = oneCall({ url: "http://api.test/{{ input.nope }}" });
    const run = await h.start("f", {});
    expect(run.error).toMatchObject({ type: "template", step: "call" });
    expect(h.http.requests).toHaveLength(0);
  });
});

describe("http results", () => {
  it("returns status, headers and the parsed JSON body", async () => {
    const h = oneCall({});
    h.http.reply(reply(200, { temp: 3 }, { "x-ratelimit": "9" }));
    const run = await h.start("f");
    expect(run.output).toEqual({
      status: 200,
      headers: expect.objectContaining({ "x-ratelimit": "9", "content-type": "application/json" }),
      body: { temp: 3 },
    });
  });

  it("returns a non-JSON body as text", async () => {
    const h = oneCall({});
    h.http.reply(reply(200, "hello"));
    expect((await h.start("f")).output).toMatchObject({ body: "hello" });
  });

  it("keeps a body that claims JSON but is not as text", async () => {
    const h = oneCall({});
    h.http.reply(() => new Response("{oops", { status: 200, headers: { "content-type": "application/json" } }));
    expect((await h.start("f")).output).toMatchObject({ body: "{oops" });
  });

  it("accepts any 2xx when expect_status is not set", async () => {
    for (const status of [200, 201, 204, 299]) {
      const h = oneCall({});
      h.http.reply(reply(status));
      expect((await h.start("f")).status).toBe("succeeded");
    }
  });

  it("fails a 3xx when expect_status is not set", async () => {
    const h = oneCall({});
    h.http.reply(reply(304));
    expect((await h.start("f")).error).toMatchObject({ type: "http_status", status: 304 });
  });

  it("accepts a 404 listed in expect_status and hands it on as the result", async () => {
    const h = makeHarness({
      flows: [
        flow("f", [
          { id: "call", http: { method: "GET", url: URL_A, expect_status: [200, 404] } },
          { id: "s", compute: "{{ steps.call.status }}" },
        ]),
      ],
    });
    h.http.reply(reply(404, { missing: true }));
    const run = await h.start("f");
    expect(run.status).toBe("succeeded");
    expect(run.output).toBe(404);
  });

  it("fails a 2xx that expect_status does not list", async () => {
    const h = oneCall({ expect_status: [200] });
    h.http.reply(reply(201));
    expect((await h.start("f")).error).toMatchObject({ type: "http_status", status: 201 });
  });
});

describe("http errors", () => {
  it("describes an unexpected status as an http_status error with the body and headers", async () => {
    const h = oneCall({ url: "http://api.test/current?city=x" });
    h.http.reply(reply(500, "upstream exploded", { "x-req": "abc" }));
    const run = await h.start("f");
    expect(run.error).toEqual({
      message: "GET http://api.test/current returned 500",
      type: "http_status",
      step: "call",
      attempts: 1,
      status: 500,
      details: {
        body: "upstream exploded",
        headers: expect.objectContaining({ "x-req": "abc" }),
        request: {
          method: "GET",
          url: "http://api.test/current?city=x",
          headers: { "idempotency-key": expect.any(String) },
        },
      },
    });
  });

  it("records what was sent, with credentials in headers masked", async () => {
    const h = oneCall({
      method: "POST",
      url: "http://api.test/orders",
      headers: { Authorization: "Bearer abc", "X-Api-Key": "k1", "X-Trace": "t1" },
      body: { order: 7 },
    });
    h.http.reply(reply(422, "no"));
    const run = await h.start("f");
    expect(run.error!.details!.request).toEqual({
      method: "POST",
      url: "http://api.test/orders",
      headers: {
        authorization: "[redacted]",
        "x-api-key": "[redacted]",
        "x-trace": "t1",
        "content-type": "application/json",
        "idempotency-key": expect.any(String),
      },
      body: '{"order":7}',
    });
  });

  it("truncates a long error body in details", async () => {
    const h = oneCall({});
    h.http.reply(reply(500, "x".repeat(5000)));
    const body = (await h.start("f")).error!.details!.body as string;
    expect(body.length).toBeLessThan(2100);
    expect(body.endsWith("…truncated…")).toBe(true);
  });

  it("reports 401 as permission_denied", async () => {
    const h = oneCall({});
    h.http.reply(reply(401));
    expect((await h.start("f")).error).toMatchObject({ type: "permission_denied", status: 401 });
  });

  it("reports 403 as permission_denied", async () => {
    const h = oneCall({});
    h.http.reply(reply(403));
    expect((await h.start("f")).error).toMatchObject({ type: "permission_denied", status: 403 });
  });

  it("accepts a 401 that expect_status lists", async () => {
    const h = oneCall({ expect_status: [401] });
    h.http.reply(reply(401));
    expect((await h.start("f")).status).toBe("succeeded");
  });

  it("reports a connection failure as a network error naming its cause", async () => {
    const h = oneCall({});
    h.http.reply(refused("ECONNREFUSED"));
    const run = await h.start("f");
    expect(run.error).toMatchObject({ type: "network", step: "call" });
    expect(run.error!.message).toContain("ECONNREFUSED");
    expect(run.error!.status).toBeNull();
    expect(run.error!.details).toEqual({});
  });

  it("hands the failed response on as the failed step's result", async () => {
    const h = makeHarness({
      flows: [
        flow("f", [{ id: "call", http: { method: "GET", url: URL_A } }], {
          on_failure: [{ id: "h", compute: "{{ failed }}" }],
        }),
      ],
    });
    h.http.reply(reply(500, { reason: "db down" }));
    const run = await h.start("f");
    expect(run.output).toMatchObject({
      status: 500,
      body: { reason: "db down" },
      error: { type: "http_status", status: 500 },
    });
  });
});

describe("Idempotency-Key", () => {
  it("is the same for every attempt of one step in one run", async () => {
    const h = oneCall({}, { retry: { max_attempts: 3 } });
    h.http.reply(reply(500), reply(500), reply(200));
    await h.start("f");
    const keys = h.http.requests.map((r) => r.headers["idempotency-key"]);
    expect(keys).toHaveLength(3);
    expect(keys[0]).toBeTruthy();
    expect(new Set(keys).size).toBe(1);
  });

  it("is the same when the step is retried after a backoff", async () => {
    const h = oneCall({}, { retry: { max_attempts: 2, delay_ms: 1000 } });
    h.http.reply(reply(500), reply(200));
    await h.start("f");
    await h.advance(1000);
    expect(h.http.requests[0]!.headers["idempotency-key"]).toBe(h.http.requests[1]!.headers["idempotency-key"]);
  });

  it("differs between two steps of one run", async () => {
    const h = makeHarness({
      flows: [
        flow("f", [
          { id: "a", http: { method: "GET", url: URL_A } },
          { id: "b", http: { method: "GET", url: URL_B } },
        ]),
      ],
    });
    h.http.fallback = reply(200);
    await h.start("f");
    expect(h.http.requests[0]!.headers["idempotency-key"]).not.toBe(h.http.requests[1]!.headers["idempotency-key"]);
  });

  it("differs between two runs of one flow", async () => {
    const h = oneCall({});
    h.http.fallback = reply(200);
    await h.start("f");
    await h.start("f");
    expect(h.http.requests[0]!.headers["idempotency-key"]).not.toBe(h.http.requests[1]!.headers["idempotency-key"]);
  });

  it("leaves an Idempotency-Key the flow sets itself", async () => {
    const h = oneCall({ headers: { "Idempotency-Key": "mine-{{ input.n }}" } });
    h.http.reply(reply(200));
    await h.start("f", { n: 1 });
    expect(h.http.requests[0]!.headers["idempotency-key"]).toBe("mine-1");
  });
});
