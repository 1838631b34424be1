import { describe, expect, it } from "vitest";
import {
  addressRefusal,
  checkUrl,
  guardedFetch,
  parseIPv6,
  staticRefusal,
  UrlRefusedError,
} from "../../src/net/url-safety";

describe("outbound URL safety (pure checks)", () => {
  it("always refuses link-local and cloud metadata addresses, in every spelling", () => {
    for (const url of [
      "http://169.254.169.254/latest/meta-data/",
      "http://169.254.0.1/",
      "http://2852039166/", // 169.254.169.254 as one number
      "http://0xA9FEA9FE/",
      "http://[::ffff:169.254.169.254]/",
      "http://[fd00:ec2::254]/",
      "http://[fe80::1]/",
      "http://[64:ff9b::a9fe:a9fe]/",
      "http://metadata.google.internal/computeMetadata/v1/",
      "http://Metadata.Google.Internal./",
      "http://100.100.100.200/",
    ]) {
      expect(staticRefusal(url, false), url).toBeTruthy();
      expect(staticRefusal(url, true), url).toBeTruthy();
    }
  });

  it("refuses private ranges only when MEND_BLOCK_PRIVATE_URLS is on; loopback stays allowed by default", () => {
    for (const url of [
      "http://127.0.0.1:8080/",
      "http://10.1.2.3/",
      "http://172.16.0.1/",
      "http://172.31.255.255/",
      "http://192.168.1.1/",
      "http://[::1]/",
      "http://[fc00::1]/",
      "http://[fd12:3456::1]/",
      "http://localhost:3000/",
      "http://[::ffff:10.0.0.1]/",
    ]) {
      expect(staticRefusal(url, false), url).toBeUndefined();
      expect(staticRefusal(url, true), url).toMatch(/MEND_BLOCK_PRIVATE_URLS=true/);
    }
    for (const url of [
      "https://hooks.slack.com/services/x",
      "http://8.8.8.8/",
      "http://172.32.0.1/",
      "http://[2606:4700::1111]/",
    ])
      expect(staticRefusal(url, true), url).toBeUndefined();
  });

  it("refuses other schemes and says why", () => {
    expect(staticRefusal("ftp://example.com/x", false)).toMatch(/scheme 'ftp'/);
    expect(staticRefusal("not a url", false)).toMatch(/absolute URL/);
    expect(addressRefusal("169.254.169.254", false)).toBe(
      "169.254.169.254 is a link-local / cloud metadata address (169.254.0.0/16)",
    );
  });

  it("parses IPv6 forms", () => {
    expect(parseIPv6("::1")).toEqual([0, 0, 0, 0, 0, 0, 0, 1]);
    expect(parseIPv6("fd00:ec2::254")).toEqual([0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254]);
    expect(parseIPv6("::ffff:1.2.3.4")).toEqual([0, 0, 0, 0, 0, 0xffff, 0x102, 0x304]);
    expect(parseIPv6("1:2:3:4:5:6:7:8:9")).toBeUndefined();
    expect(parseIPv6("1::2::3")).toBeUndefined();
    expect(parseIPv6("12345::")).toBeUndefined();
  });

  it("checks every address a name resolves to", async () => {
    const lookup = async (host: string) =>
      host === "evil.test"
        ? ["93.184.216.34", "169.254.169.254"]
        : host === "inside.test"
          ? ["10.0.0.7"]
          : ["93.184.216.34"];
    expect(await checkUrl("https://evil.test/hook", { blockPrivate: false, lookup })).toBe(
      "evil.test resolves to 169.254.169.254, a link-local / cloud metadata address (169.254.0.0/16)",
    );
    expect(await checkUrl("https://inside.test/hook", { blockPrivate: false, lookup })).toBeUndefined();
    expect(await checkUrl("https://inside.test/hook", { blockPrivate: true, lookup })).toMatch(
      /inside.test resolves to 10.0.0.7, a private address/,
    );
    expect(await checkUrl("https://fine.test/hook", { blockPrivate: true, lookup })).toBeUndefined();
  });

  it("follows redirects itself, re-checking each Location, and refuses a hop to a refused address", async () => {
    const calls: string[] = [];
    const fake = (async (input: RequestInfo | URL, init?: RequestInit) => {
      const url = String(input);
      calls.push(`${init?.method} ${url} ${init?.redirect}`);
      if (url.endsWith("/a")) return new Response(null, { status: 307, headers: { location: "/b" } });
      if (url.endsWith("/b"))
        return new Response(null, { status: 302, headers: { location: "http://169.254.169.254/latest" } });
      return new Response("ok");
    }) as typeof fetch;
    const f = guardedFetch(fake, { blockPrivate: false });
    const err = await f("http://127.0.0.1:9/a", { method: "POST", body: "{}" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UrlRefusedError);
    expect((err as UrlRefusedError).reason).toMatch(/^redirect target 169.254.169.254 is a link-local/);
    expect(calls).toEqual(["POST http://127.0.0.1:9/a manual", "POST http://127.0.0.1:9/b manual"]);
  });

  it("re-sends a Request's method, headers and body on each hop", async () => {
    const seen: string[] = [];
    const fake = (async (input: RequestInfo | URL, init?: RequestInit) => {
      seen.push(
        `${init?.method} ${String(input)} ${new Headers(init?.headers).get("x-k")} ${init?.body ? new TextDecoder().decode(init.body as ArrayBuffer) : ""}`,
      );
      return String(input).endsWith("/a")
        ? new Response(null, { status: 308, headers: { location: "/b" } })
        : new Response("ok");
    }) as typeof fetch;
    const res = await guardedFetch(fake, { blockPrivate: false })(
      new Request("http://127.0.0.1:9/a", { method: "PUT", headers: { "x-k": "v" }, body: "hi" }),
    );
    expect(await res.text()).toBe("ok");
    expect(seen).toEqual(["PUT http://127.0.0.1:9/a v hi", "PUT http://127.0.0.1:9/b v hi"]);
  });

  it("stops after a bounded number of redirects", async () => {
    let n = 0;
    const loop = (async () => new Response(null, { status: 302, headers: { location: `/r${++n}` } })) as typeof fetch;
    const err = await guardedFetch(loop, { blockPrivate: false })("http://127.0.0.1:9/start").catch((e: unknown) => e);
    expect((err as UrlRefusedError).reason).toMatch(/more than 5 redirects/);
    expect(n).toBe(6);
  });
});
