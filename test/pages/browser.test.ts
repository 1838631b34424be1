// The pages in a real headless Chromium (found by test/browser/chromium.ts, through playwright-core):
// the token form, the list filtered to failed runs, a run retried from its page and seen to
// succeed without a reload, a link from another site, and a cross-site form POST refused.
// Screenshots of the main pages go to test-artifacts/. Without Chromium it is skipped (one line), except under CI=true.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callFlow, runTo, startPages, type PagesEnv } from "./helpers";
import { RUN_BROWSER_TESTS, requireChromium } from "../browser/chromium";

const TOKEN = "browser-test-token-4242";
const ARTIFACTS = resolve(import.meta.dirname, "../../test-artifacts");

let env: PagesEnv;
let ctx: BrowserContext;
let page: Page;
let profile: string;
let foreign: Server;
let foreignUrl: string;
let failed: string[] = [];

/** Pages of "another site": http://localhost:<port> is cross-site to http://127.0.0.1:<port>. */
async function startForeignSite(mendUrl: string): Promise<Server> {
  const server = createServer((req, res) => {
    const target = (req.url ?? "/").replace(/^\/(post\/)?/, "").split("?")[0] ?? "";
    res.writeHead(200, { "content-type": "text/html" });
    if (req.url?.startsWith("/post/"))
      res.end(
        `<!doctype html><form id="f" method="post" action="${mendUrl}/runs/${target}/retry"><input name="x" value="1"></form><script>document.getElementById("f").submit()</script>`,
      );
    else res.end(`<!doctype html><p>Alert: <a id="link" href="${mendUrl}/runs/${target}">open the run</a></p>`);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return server;
}

async function status(id: string): Promise<string> {
  return ((await (await env.s.api(`/api/runs/${id}`)).json()) as { status: string }).status;
}

beforeAll(async () => {
  if (!RUN_BROWSER_TESTS) return;
  const executablePath = requireChromium();
  mkdirSync(ARTIFACTS, { recursive: true });
  env = await startPages({ MEND_API_TOKEN: TOKEN });
  expect(
    (await env.s.putFlow(callFlow("orders", env.up.url, { description: "Sends the order upstream" }))).status,
  ).toBe(201);
  expect(
    (await env.s.putFlow(callFlow("orders", env.up.url, { description: "Sends the order upstream", timeout_ms: 5000 })))
      .status,
  ).toBe(200);
  env.up.script([], { status: 200, body: { ok: true } });
  for (let i = 1; i <= 3; i++) await runTo(env.s, "orders", { order: i });
  env.up.script(
    [
      { status: 500, body: { error: "db down" } },
      { status: 503, body: { error: "db down" } },
    ],
    { status: 200, body: { ok: true } },
  );
  failed = [
    await runTo(env.s, "orders", { order: 4 }, ["failed"]),
    await runTo(env.s, "orders", { order: 5 }, ["failed"]),
  ];
  await runTo(env.s, "orders", { order: 6 });
  foreign = await startForeignSite(env.s.url);
  foreignUrl = `http://localhost:${(foreign.address() as AddressInfo).port}`;
  profile = mkdtempSync(join(tmpdir(), "mend-chromium-"));
  ctx = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    viewport: { width: 1280, height: 800 },
  });
  page = ctx.pages()[0] ?? (await ctx.newPage());
  page.setDefaultTimeout(10_000);
});

afterAll(async () => {
  await ctx?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
  if (foreign) await new Promise<void>((r) => foreign.close(() => r()));
  await env?.stop();
});

describe.runIf(RUN_BROWSER_TESTS)("the pages in Chromium", () => {
  it("asks for the token, filters to failed runs, retries one and shows it succeed without a reload", async () => {
    await page.goto(`${env.s.url}/`);
    expect(new URL(page.url()).pathname).toBe("/login");
    await page.fill("#token", "wrong");
    await page.click("#login button[type=submit]");
    await expect.poll(() => page.textContent("main")).toContain("That token is not known.");
    await page.fill("#token", TOKEN);
    await page.click("#login button[type=submit]");
    await page.waitForURL(`${env.s.url}/`);
    expect(await page.locator("table.runs tbody tr").count()).toBe(6);
    expect(await page.locator('.rate[data-flow="orders"] svg rect[fill="#d64045"]').count()).toBe(1);
    await page.screenshot({ path: join(ARTIFACTS, "pages-list.png"), fullPage: true });

    await page.selectOption('#filters select[name="status"]', "failed");
    await page.click('#filters button[type="submit"]');
    await page.waitForURL(/status=failed/);
    const rows = page.locator("table.runs tbody tr");
    expect(await rows.count()).toBe(2);
    expect(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-status")))).toEqual([
      "failed",
      "failed",
    ]);

    await page.click(`a[href="/runs/${failed[1]}"]`);
    await page.waitForURL(`${env.s.url}/runs/${failed[1]}`);
    expect(await page.getAttribute("#run", "data-status")).toBe("failed");
    expect(await page.textContent(".errorbox")).toContain("[http_status]");
    await page.screenshot({ path: join(ARTIFACTS, "pages-run-failed.png"), fullPage: true });

    // The upstream recovers, slowly enough that the page shows the run going before it ends.
    env.up.script([{ status: 200, body: { ok: true, recovered: true }, delayMs: 1500 }], {
      status: 200,
      body: { ok: true },
    });
    await page.click('form[action$="/retry"] button');
    await page.waitForURL(`${env.s.url}/runs/${failed[1]}?done=retried`);
    let navigations = 0;
    page.on("framenavigated", () => navigations++);
    await page.evaluate(() => ((window as unknown as { stillHere: boolean }).stillHere = true));
    expect(await page.getAttribute("#run", "data-status")).toMatch(/^(queued|running)$/);
    await page.waitForSelector('#run[data-status="succeeded"]', { timeout: 10_000 });
    expect(await page.textContent("#run h1 .badge")).toBe("succeeded");
    expect(await page.evaluate(() => (window as unknown as { stillHere?: boolean }).stillHere)).toBe(true);
    expect(navigations).toBe(0);
    expect(await page.locator('form[action$="/retry"]').count()).toBe(0);
    expect(await status(failed[1]!)).toBe("succeeded");
    await page.waitForTimeout(1700); // the last look after the end (alerts), then quiet
    await page.screenshot({ path: join(ARTIFACTS, "pages-run.png"), fullPage: true });

    await page.goto(`${env.s.url}/flows/orders?a=1&b=2`);
    expect(await page.locator("#diff .add").count()).toBe(1);
    await page.screenshot({ path: join(ARTIFACTS, "pages-flow.png"), fullPage: true });
  });

  it("opens a run linked from another site without asking for the token again", async () => {
    await page.goto(`${foreignUrl}/${failed[0]}`);
    const seen: Promise<string>[] = [];
    const onResponse = (r: { url(): string; request(): { allHeaders(): Promise<Record<string, string>> } }) => {
      if (r.url() === `${env.s.url}/runs/${failed[0]}`)
        seen.push(
          r
            .request()
            .allHeaders()
            .then((h) => h["sec-fetch-site"] ?? "?"),
        );
    };
    page.on("response", onResponse);
    await page.click("#link");
    await page.waitForURL(`${env.s.url}/runs/${failed[0]}`);
    await page.waitForSelector("#run");
    page.off("response", onResponse);
    // The Strict cookie stays home on the cross-site click; the page reloads itself from this site with it.
    expect(await Promise.all(seen)).toEqual(["cross-site", "same-origin"]);
    expect(await page.getAttribute("#run", "data-status")).toBe("failed");
  });

  it("refuses a form posted from another site (no CSRF token) with 403, and the run stays failed", async () => {
    const answer = page.waitForResponse((r) => r.url() === `${env.s.url}/runs/${failed[0]}/retry`);
    await page.goto(`${foreignUrl}/post/${failed[0]}`);
    const res = await answer;
    expect(res.status()).toBe(403);
    await page.waitForURL(`${env.s.url}/runs/${failed[0]}/retry`);
    expect(await page.textContent("#message")).toContain("Refused");
    await page.waitForTimeout(200);
    expect(await status(failed[0]!)).toBe("failed");
  });
});

describe.runIf(RUN_BROWSER_TESTS)("the pages on a 390×844 phone and a 1280×800 desktop", () => {
  const sizes = [
    { name: "phone", width: 390, height: 844 },
    { name: "desktop", width: 1280, height: 800 },
  ];

  it("no page scrolls sideways; the list is stacked rows on the phone; the status and the error are on the first screen", async () => {
    for (const size of sizes) {
      await page.setViewportSize(size);
      for (const path of [
        "/",
        "/?status=failed",
        `/runs/${failed[0]}`,
        "/flows",
        "/flows/orders?a=1&b=2",
        "/handlers",
      ]) {
        await page.goto(env.s.url + path);
        const wide = await page.evaluate(() => document.documentElement.scrollWidth);
        expect(wide, `${size.name} ${path}`).toBeLessThanOrEqual(size.width);
      }
      await page.goto(`${env.s.url}/`);
      const display = await page
        .locator("table.runs tbody tr")
        .first()
        .evaluate((tr) => getComputedStyle(tr).display);
      expect(display, size.name).toBe(size.name === "phone" ? "grid" : "table-row");
      expect(await page.locator("table.runs thead").isVisible()).toBe(size.name === "desktop");
      await page.screenshot({ path: join(ARTIFACTS, `list-${size.name}.png`), fullPage: true });
      await page.goto(`${env.s.url}/runs/${failed[0]}`);
      for (const sel of ["#run h1 .badge", ".errorbox"]) {
        const box = (await page.locator(sel).first().boundingBox())!;
        expect(box.x + box.width, `${size.name} ${sel}`).toBeLessThanOrEqual(size.width);
        expect(box.y, `${size.name} ${sel}`).toBeLessThan(size.height);
      }
      await page.screenshot({ path: join(ARTIFACTS, `run-${size.name}.png`), fullPage: true });
    }
  });

  it("refreshes the list by itself: a new run appears without a reload, and ticked boxes stay ticked", async () => {
    await page.setViewportSize(sizes[1]!);
    await page.goto(`${env.s.url}/?flow=orders`);
    await page.check(`input[name=run][value="${failed[0]}"]`);
    await page.evaluate(() => ((window as unknown as { stillHere: boolean }).stillHere = true));
    const id = await runTo(env.s, "orders", { order: 99 });
    await page.waitForSelector(`tr[data-run="${id}"]`, { timeout: 8000 });
    expect(await page.evaluate(() => (window as unknown as { stillHere?: boolean }).stillHere)).toBe(true);
    expect(await page.isChecked(`input[name=run][value="${failed[0]}"]`)).toBe(true);
    expect(await page.getAttribute(`tr[data-run="${id}"] time`, "title")).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/);
  });

  it("folds the failure-rate cards into one summary line that opens on a click", async () => {
    for (const size of sizes) {
      await page.setViewportSize(size);
      await page.goto(`${env.s.url}/`);
      const summary = page.locator("#rates > summary");
      expect(await summary.textContent()).toMatch(/Last 24 h: \d+ runs, [\d.]+% failed/);
      expect(await page.locator("#rates .rate").first().isVisible()).toBe(false);
      // The list starts on the first screen.
      expect((await page.locator("table.runs tbody tr").first().boundingBox())!.y).toBeLessThan(size.height);
      await summary.click();
      expect(await page.locator('#rates .rate[data-flow="orders"]').isVisible()).toBe(true);
      await page.screenshot({ path: join(ARTIFACTS, `rates-open-${size.name}.png`) });
    }
  });

  it("shows the failed attempt's request and response, and another attempt's on a click, without leaving the page", async () => {
    expect(
      (await env.s.putFlow({ ...callFlow("flaky", env.up.url), retry: { max_attempts: 2, delay_ms: 0 } })).status,
    ).toBe(201);
    env.up.script(
      [
        { status: 500, body: { error: "db down", pool: { size: 10, waiting: 31 } } },
        { status: 503, body: { error: "db down" } },
      ],
      { status: 200, body: { ok: true } },
    );
    const twice = await runTo(env.s, "flaky", { order: 8 }, ["failed"]);
    for (const size of sizes) {
      await page.setViewportSize(size);
      await page.goto(`${env.s.url}/runs/${twice}`);
      const shown = page.locator("article.attempt:visible");
      expect(await shown.count()).toBe(1);
      expect(await shown.getAttribute("data-index")).toBe("1");
      expect(await shown.locator(".reqline").first().textContent()).toBe(`POST${env.up.url}/work`);
      expect(await shown.textContent()).toContain("HTTP 503");
      expect(await shown.locator("pre.body").last().textContent()).toBe('{\n  "error": "db down"\n}');
      await page.evaluate(() => ((window as unknown as { stillHere: boolean }).stillHere = true));
      await page.click('a.wrow[data-index="0"]');
      expect(await page.locator("article.attempt:visible").getAttribute("data-index")).toBe("0");
      expect(await page.locator('a.wrow[data-index="0"]').getAttribute("aria-current")).toBe("true");
      expect(await page.evaluate(() => (window as unknown as { stillHere?: boolean }).stillHere)).toBe(true);
      expect(await page.locator("article.attempt:visible").textContent()).toContain("HTTP 500");
      await page.click('a.wrow[data-index="1"]');
      await page.screenshot({ path: join(ARTIFACTS, `attempt-${size.name}.png`), fullPage: true });
    }
  });
});

describe.runIf(RUN_BROWSER_TESTS)("acting from the pages in Chromium", () => {
  const sizes = [
    { name: "phone", width: 390, height: 844 },
    { name: "desktop", width: 1280, height: 800 },
  ];
  const schema = { type: "object", required: ["order"], properties: { order: { type: "integer", minimum: 1 } } };

  beforeAll(async () => {
    expect((await env.s.putFlow({ ...callFlow("bulky", env.up.url), input: schema })).status).toBe(201);
  });

  it("bulk-retries the ticked runs after a confirmation with the count, and shows their progress", async () => {
    for (const size of sizes) {
      await page.setViewportSize(size);
      env.up.script([{ status: 500 }, { status: 500 }], { status: 200, body: { ok: true } });
      const ids = [
        await runTo(env.s, "bulky", { order: 1 }, ["failed"]),
        await runTo(env.s, "bulky", { order: 2 }, ["failed"]),
      ];
      await page.goto(`${env.s.url}/?flow=bulky&status=failed`);
      for (const id of ids) await page.check(`input[name=run][value="${id}"]`);
      expect(await page.textContent("#ticked")).toBe("2 ticked:");
      await page.screenshot({ path: join(ARTIFACTS, `bulk-ticked-${size.name}.png`) });
      await page.getByRole("button", { name: "Retry ticked" }).click();
      await page.waitForURL(`${env.s.url}/runs/bulk/confirm`);
      expect(await page.textContent("h1")).toBe("Retry 2 runs?");
      await page.screenshot({ path: join(ARTIFACTS, `bulk-confirm-${size.name}.png`) });
      env.up.script(
        [
          { status: 200, body: { ok: true }, delayMs: 1200 },
          { status: 200, body: { ok: true }, delayMs: 1200 },
        ],
        { status: 200, body: { ok: true } },
      );
      await page.getByRole("button", { name: "Retry 2 runs" }).click();
      await page.waitForURL(`${env.s.url}/runs/bulk`);
      expect(await page.textContent("h1")).toBe("Bulk retry: 2 accepted, 0 skipped");
      expect(await page.getAttribute("#bulk-progress", "data-done")).toBe("false");
      await page.waitForSelector('#bulk-progress[data-done="true"]', { timeout: 10_000 });
      expect(await page.textContent("#bulk-progress strong")).toBe("2 of 2");
      await page.screenshot({ path: join(ARTIFACTS, `bulk-done-${size.name}.png`) });
      for (const id of ids) expect(await status(id)).toBe("succeeded");
    }
  });

  it("replays with edited input: bad JSON is caught as it is typed, schema errors come back inline", async () => {
    for (const size of sizes) {
      await page.setViewportSize(size);
      env.up.script([{ status: 500 }], { status: 200, body: { ok: true } });
      const id = await runTo(env.s, "bulky", { order: 3 }, ["failed"]);
      await page.goto(`${env.s.url}/runs/${id}`);
      await page.getByText("Replay with edited input…").click();
      const editor = page.locator("#replay-input");
      await editor.fill('{ "order": ');
      expect(await page.textContent("#replay-problems")).toContain("Not valid JSON");
      expect(await page.getByRole("button", { name: "Replay with this input" }).isDisabled()).toBe(true);
      await editor.fill('{ "order": 0 }');
      expect(await page.getByRole("button", { name: "Replay with this input" }).isDisabled()).toBe(false);
      await page.getByRole("button", { name: "Replay with this input" }).click();
      await page.waitForURL(`${env.s.url}/runs/${id}/replay`);
      expect(await page.textContent("#replay-problems")).toContain("input.order");
      expect(await page.inputValue("#replay-input")).toBe('{ "order": 0 }');
      await page.screenshot({ path: join(ARTIFACTS, `replay-edited-${size.name}.png`) });
      await page.locator("#replay-input").fill('{ "order": 12 }');
      await page.getByRole("button", { name: "Replay with this input" }).click();
      await page.waitForURL(/\/runs\/[0-9A-Z]+\?done=replayed$/);
      await page.waitForSelector('#run[data-status="succeeded"]');
      expect(await page.textContent("#input")).toContain('"order": 12');
    }
  });

  it("acks with a named button and says who acked in words", async () => {
    for (const size of sizes) {
      await page.setViewportSize(size);
      env.up.script([{ status: 500 }], { status: 200, body: { ok: true } });
      const id = await runTo(env.s, "bulky", { order: 4 }, ["failed"]);
      await page.goto(`${env.s.url}/runs/${id}`);
      await page.getByRole("button", { name: "Ack" }).click();
      await page.waitForURL(`${env.s.url}/runs/${id}?done=acked`);
      expect(await page.textContent(".mark.acked")).toContain("Acknowledged by admin");
      await page.screenshot({ path: join(ARTIFACTS, `acked-${size.name}.png`) });
    }
  });
});

describe.runIf(RUN_BROWSER_TESTS)("without JavaScript", () => {
  it("filters, selects an attempt, and bulk-retries with a progress button; every button has a name", async () => {
    const browser = await chromium.launch({
      executablePath: requireChromium(),
      headless: true,
      args: ["--no-sandbox", "--disable-gpu"],
    });
    try {
      const noJs = await (
        await browser.newContext({ javaScriptEnabled: false, viewport: { width: 390, height: 844 } })
      ).newPage();
      await noJs.goto(`${env.s.url}/login`);
      await noJs.fill("#token", TOKEN);
      await noJs.click("#login button[type=submit]");
      await noJs.waitForURL(`${env.s.url}/`);
      env.up.script([{ status: 500 }], { status: 200, body: { ok: true } });
      const id = await runTo(env.s, "bulky", { order: 5 }, ["failed"]);
      await noJs.fill('#filters input[name="q"]', id.slice(0, 16));
      await noJs.click('#filters button[type="submit"]');
      expect(await noJs.locator("table.runs tbody tr").count()).toBe(1);
      for (const path of ["/", `/runs/${id}`, "/flows", "/handlers"]) {
        await noJs.goto(env.s.url + path);
        const unnamed = await noJs
          .locator("button, summary, input[type=checkbox]")
          .evaluateAll((els) =>
            els.filter((e) => !(e.getAttribute("aria-label") || e.textContent?.trim())).map((e) => e.outerHTML),
          );
        expect(unnamed, path).toEqual([]);
        // Status is told in words: every badge has text.
        expect(
          await noJs.locator(".badge").evaluateAll((els) => els.filter((e) => !e.textContent?.trim()).length),
        ).toBe(0);
      }
      await noJs.goto(`${env.s.url}/?q=${id}`);
      await noJs.check(`input[name=run][value="${id}"]`);
      await noJs.getByRole("button", { name: "Retry ticked" }).click();
      await noJs.getByRole("button", { name: "Retry 1 run" }).click();
      await noJs.waitForURL(`${env.s.url}/runs/bulk`);
      for (let i = 0; i < 50 && (await noJs.getAttribute("#bulk-progress", "data-done")) !== "true"; i++) {
        await noJs.waitForTimeout(100);
        await noJs.getByRole("button", { name: "Refresh progress" }).click();
      }
      expect(await noJs.textContent("#bulk-progress strong")).toBe("1 of 1");
      await noJs.screenshot({ path: join(ARTIFACTS, "bulk-no-js-phone.png") });
      expect(await status(id)).toBe("succeeded");
      // The waterfall's rows are links: the retried attempt's panel on a click.
      await noJs.goto(`${env.s.url}/runs/${id}`);
      await noJs.click('a.wrow[data-index="1"]');
      await noJs.waitForURL(`${env.s.url}/runs/${id}?attempt=1#attempt-1`);
      expect(await noJs.locator("article.attempt:visible").getAttribute("data-index")).toBe("1");
      expect(await noJs.locator("article.attempt:visible").textContent()).toContain("HTTP 200");
    } finally {
      await browser.close();
    }
  });
});
