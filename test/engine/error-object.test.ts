// The layered error object a waiting caller gets for a failed run.
import { describe, expect, it } from "vitest";
import type { ErrorContext } from "../../src/engine/errors";
import { parseFlow, type Flow } from "../../src/engine/flow";
import { errorAnswer, layerErrorObject } from "../../src/engine/error-object";

function mkFlow(raw: Record<string, unknown>): Flow {
  const r = parseFlow({ name: "f", ...raw });
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.value;
}

const error: ErrorContext = {
  message: "GET http://x/ returned 500",
  type: "http_status",
  step: "call",
  attempts: 2,
  status: 500,
};

describe("layerErrorObject", () => {
  it("is empty when nothing sets an error object", () => {
    expect(layerErrorObject({}, mkFlow({ steps: [{ id: "call", compute: 1 }] }), "call")).toEqual({});
  });

  it("layers defaults, flow and the failed step field by field", () => {
    const flow = mkFlow({
      error: { status: 502, message: "flow says {{ error.message }}" },
      steps: [
        { id: "call", compute: 1, error: { message: "step says no" } },
        { id: "other", compute: 2, error: { status: 418 } },
      ],
    });
    expect(layerErrorObject({ error: { status: 500, body: { hint: "later" } } }, flow, "call")).toEqual({
      status: 502,
      message: "step says no",
      body: { hint: "later" },
    });
  });

  it("merges headers key by key across layers", () => {
    const flow = mkFlow({
      error: { headers: { "X-Flow": "1", "X-Both": "flow" } },
      steps: [{ id: "call", compute: 1, error: { headers: { "X-Both": "step", "X-Step": "s" } } }],
    });
    expect(
      layerErrorObject({ error: { headers: { "X-Default": "d", "X-Both": "default" } } }, flow, "call").headers,
    ).toEqual({
      "X-Default": "d",
      "X-Flow": "1",
      "X-Both": "step",
      "X-Step": "s",
    });
  });

  it("uses only the failed step's own layer, not other steps'", () => {
    const flow = mkFlow({
      steps: [
        { id: "call", compute: 1 },
        { id: "other", compute: 2, error: { status: 418 } },
      ],
    });
    expect(layerErrorObject({ error: { status: 503 } }, flow, "call")).toEqual({ status: 503 });
  });

  it("finds the layer of an error handler step that failed", () => {
    const flow = mkFlow({
      steps: [{ id: "call", compute: 1 }],
      on_failure: [{ id: "h", compute: 1, error: { status: 504 } }],
    });
    expect(layerErrorObject({}, flow, "h").status).toBe(504);
  });
});

describe("errorAnswer", () => {
  const base = { run_id: "r1", status: "failed" };

  it("answers 500 with the error when no error object is set", () => {
    expect(errorAnswer({}, error, {}, base)).toEqual({
      status: 500,
      headers: {},
      body: { run_id: "r1", status: "failed", error },
    });
  });

  it("uses the object's status and headers and fills templates in its message and headers", () => {
    const a = errorAnswer(
      { status: 502, message: "weather unavailable: {{ error.message }}", headers: { "X-Step": "{{ error:step }}" } },
      error,
      { input: { c: 1 } },
      base,
    );
    expect(a.status).toBe(502);
    expect(a.headers).toEqual({ "X-Step": "call" });
    expect(a.body.error).toEqual({ ...error, message: "weather unavailable: GET http://x/ returned 500" });
  });

  it("merges the object's body into the top level without overriding run_id, status or error", () => {
    const a = errorAnswer(
      { body: { hint: "try later", run_id: "evil", code: "{{ error.type }}", n: 3 } },
      error,
      {},
      base,
    );
    expect(a.body).toEqual({ hint: "try later", code: "http_status", n: 3, run_id: "r1", status: "failed", error });
  });

  it("renders a path that is missing as null: an error object never fails", () => {
    expect(errorAnswer({ message: "x {{ input.nope }}" }, error, { input: {} }, base).body.error).toMatchObject({
      message: "x null",
    });
  });
});
