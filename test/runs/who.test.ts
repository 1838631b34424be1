// Who acted: `by`, else the signed-in person (MEND_USERS: API token or page session), else api.
import { beforeEach, describe, expect, it } from "vitest";
import { csrfOf } from "../pages/helpers";
import { startMend, type Mend } from "./harness";

const TOKEN = "admin-token-0123456789";
const ADA = "ada-token-0123456789";

let m: Mend;
let runId: string;
beforeEach(async () => {
  m = await startMend({ MEND_API_TOKEN: TOKEN, MEND_USERS: `ada:${ADA}` });
  const auth = { authorization: `Bearer ${TOKEN}` };
  expect(
    (
      await m.api(
        "PUT",
        "/api/flows/broken",
        { name: "broken", steps: [{ id: "boom", fail: { message: "no" } }] },
        auth,
      )
    ).status,
  ).toBe(201);
  const r = await m.api("POST", "/hooks/broken", {}, auth);
  await m.settle();
  runId = r.body.run_id;
});

/** A browser over app.request: keeps the session cookie, never follows redirects. */
function browser() {
  let cookie = "";
  const request = async (path: string, init: RequestInit = {}) => {
    const res = await m.app.request(`http://localhost${path}`, {
      ...init,
      headers: { ...(cookie ? { cookie } : {}), ...(init.headers as Record<string, string>) },
    });
    const set = res.headers.get("set-cookie");
    if (set) cookie = set.split(";")[0]!;
    return res;
  };
  const post = (path: string, form: Record<string, string>) =>
    request(path, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: "http://localhost" },
      body: new URLSearchParams(form).toString(),
    });
  return { request, post };
}

describe("who acted", () => {
  it("is the person whose MEND_USERS token called the API, unless the body names someone", async () => {
    const ack = await m.api("POST", `/api/runs/${runId}/ack`, undefined, { authorization: `Bearer ${ADA}` });
    expect(ack.body.acked_by).toBe("ada");
    const res = await m.api(
      "POST",
      `/api/runs/${runId}/resolve`,
      { by: "pager-bot" },
      { authorization: `Bearer ${ADA}` },
    );
    expect(res.body.resolved_by).toBe("pager-bot");
  });

  it("is the person signed in to the pages when they act from a run page", async () => {
    const b = browser();
    expect((await b.post("/login", { token: ADA, next: "/" })).status).toBe(303);
    const page = await b.request(`/runs/${runId}`);
    expect(page.status).toBe(200);
    const csrf = csrfOf(await page.text());
    const res = await b.post(`/runs/${runId}/resolve`, { _csrf: csrf, note: "upstream fixed" });
    expect(res.status).toBe(303);
    const run = await m.api("GET", `/api/runs/${runId}`, undefined, { authorization: `Bearer ${TOKEN}` });
    expect(run.body).toMatchObject({ status: "failed", resolved_by: "ada", resolution_note: "upstream fixed" });
  });
});
