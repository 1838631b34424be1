// GET /api/openapi.json: a valid OpenAPI 3.1 document naming every /api and /hooks route; GET /api/docs.
import { Validator } from "@seriousme/openapi-schema-validator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../src/app";
import { parseEnv } from "../../src/env";
import { createServices } from "../../src/services";
import { openSqlite } from "../../src/store/sqlite-node";
import { startTestServer, type TestServer } from "../api/server";

const TOKEN = "openapi-token-0123456789";
let s: TestServer;
beforeAll(async () => {
  s = await startTestServer({ MEND_API_TOKEN: TOKEN });
});
afterAll(() => s.stop());

describe("the OpenAPI document", () => {
  it("is valid OpenAPI 3.1", async () => {
    const doc = (await (await s.api("/api/openapi.json")).json()) as Record<string, unknown>;
    expect(doc.openapi).toBe("3.1.0");
    const result = await new Validator().validate(doc);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it("describes every /api and /hooks route the app serves, with request and response schemas", async () => {
    const doc = (await (await s.api("/api/openapi.json")).json()) as {
      paths: Record<string, Record<string, { responses: object }>>;
    };
    const { deps } = createServices({ config: parseEnv({ MEND_DB: ":memory:" }), db: openSqlite(":memory:") });
    const app = createApp(deps);
    const served = new Set(
      app.routes
        .filter((r) => r.method !== "ALL" && /^\/(api|hooks)\//.test(r.path))
        .map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:(\w+)/g, "{$1}")}`),
    );
    const documented = new Set(
      Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m} ${path}`)),
    );
    expect([...served].filter((r) => !documented.has(r))).toEqual([]);
    expect([...documented].filter((r) => !served.has(r))).toEqual([]);
    const put = doc.paths["/api/flows/{name}"]!.put as unknown as {
      requestBody: { content: Record<string, { schema: { properties: object } }> };
    };
    expect(Object.keys(put.requestBody.content["application/json"]!.schema.properties)).toContain("steps");
  });

  it("needs the bearer token when MEND_API_TOKEN is set", async () => {
    expect((await fetch(`${s.url}/api/openapi.json`)).status).toBe(401);
    expect((await fetch(`${s.url}/api/docs`)).status).toBe(401);
  });

  it("/api/docs is a reference page whose script is served by mend itself, not a CDN", async () => {
    const page = await (await s.api("/api/docs")).text();
    expect(page).toContain("/assets/api-reference.js");
    expect(page).not.toMatch(/https:\/\/cdn\.|jsdelivr|unpkg/);
    const script = await fetch(`${s.url}/assets/api-reference.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get("content-type")).toMatch(/javascript/);
    expect((await script.text()).length).toBeGreaterThan(100_000);
  });
});
