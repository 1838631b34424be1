// Outbound URL safety for handler and callback URLs: refuses cloud metadata and
// link-local addresses always, private ranges when asked, checked after DNS
// resolution and again at every redirect hop. Runtime-neutral: DNS comes in as a function.

/** Resolves a hostname to its addresses (IPv4 dotted or IPv6 text). */
export type Lookup = (hostname: string) => Promise<string[]>;

export interface UrlPolicy {
  /** MEND_BLOCK_PRIVATE_URLS: also refuse 10/8, 172.16/12, 192.168/16, 127/8, ::1, fc00::/7 and the like. */
  blockPrivate: boolean;
  /** DNS; without it only literal addresses and known names are checked (the runtime's own egress rules apply). */
  lookup?: Lookup;
}

/** A URL mend will not call; `reason` is one line fit for a 400 answer. */
export class UrlRefusedError extends Error {
  override readonly name = "UrlRefusedError";
  constructor(
    readonly url: string,
    readonly reason: string,
  ) {
    super(`refused to call ${url}: ${reason}`);
  }
}

// Names that lead to a cloud instance's metadata service (or the whole cluster's).
const METADATA_HOSTS = new Set([
  "metadata",
  "metadata.google.internal",
  "metadata.goog",
  "metadata.azure.com",
  "metadata.azure.internal",
  "instance-data",
  "instance-data.ec2.internal",
  "metadata.tencentyun.com",
  "metadata.platformequinix.com",
]);

type Verdict = { refuse: "always" | "private"; why: string } | undefined;

/** IPv4 text → 32-bit number, or undefined. */
export function parseIPv4(text: string): number | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const v = Number(p);
    if (v > 255) return undefined;
    n = n * 256 + v;
  }
  return n;
}

/** IPv6 text (no brackets, optional zone) → 8 groups of 16 bits, or undefined. */
export function parseIPv6(text: string): number[] | undefined {
  let s = text.replace(/%.*$/, "").toLowerCase();
  const lastColon = s.lastIndexOf(":");
  if (lastColon < 0) return undefined;
  if (s.includes(".", lastColon)) {
    // A trailing dotted IPv4 part becomes two hex groups.
    const v4 = parseIPv4(s.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    s = `${s.slice(0, lastColon + 1)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  if (!/^[0-9a-f:]+$/.test(s)) return undefined;
  const halves = s.split("::");
  if (halves.length > 2) return undefined;
  const split = (h: string) => (h === "" ? [] : h.split(":"));
  const head = split(halves[0]!);
  const tail = halves.length === 2 ? split(halves[1]!) : [];
  const given = [...head, ...tail];
  if (given.some((x) => !/^[0-9a-f]{1,4}$/.test(x))) return undefined;
  if (halves.length === 1 ? given.length !== 8 : given.length > 7) return undefined;
  const zeros: string[] = Array.from({ length: 8 - given.length }, () => "0");
  return [...head, ...zeros, ...tail].map((x) => parseInt(x, 16));
}

const inV4 = (ip: number, base: string, bits: number) => {
  const b = parseIPv4(base)!;
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return (ip & mask) >>> 0 === (b & mask) >>> 0;
};

function classifyV4(ip: number): Verdict {
  if (inV4(ip, "169.254.0.0", 16))
    return { refuse: "always", why: "link-local / cloud metadata address (169.254.0.0/16)" };
  if (ip === parseIPv4("100.100.100.200")) return { refuse: "always", why: "cloud metadata address (100.100.100.200)" };
  if (inV4(ip, "224.0.0.0", 4) || ip === 0xffffffff) return { refuse: "always", why: "multicast or broadcast address" };
  if (inV4(ip, "127.0.0.0", 8)) return { refuse: "private", why: "loopback address (127.0.0.0/8)" };
  if (inV4(ip, "0.0.0.0", 8)) return { refuse: "private", why: "'this host' address (0.0.0.0/8)" };
  if (inV4(ip, "10.0.0.0", 8)) return { refuse: "private", why: "private address (10.0.0.0/8)" };
  if (inV4(ip, "172.16.0.0", 12)) return { refuse: "private", why: "private address (172.16.0.0/12)" };
  if (inV4(ip, "192.168.0.0", 16)) return { refuse: "private", why: "private address (192.168.0.0/16)" };
  if (inV4(ip, "100.64.0.0", 10)) return { refuse: "private", why: "shared address space (100.64.0.0/10)" };
  if (inV4(ip, "198.18.0.0", 15)) return { refuse: "private", why: "benchmarking address (198.18.0.0/15)" };
  if (inV4(ip, "192.0.0.0", 24)) return { refuse: "private", why: "IETF protocol address (192.0.0.0/24)" };
  return undefined;
}

function classifyV6(g: number[]): Verdict {
  const v4 = (hi: number, lo: number) => classifyV4(((hi << 16) >>> 0) + lo);
  // IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) carry an IPv4 address.
  if (g.slice(0, 5).every((x) => x === 0) && (g[5] === 0xffff || (g[5] === 0 && (g[6]! > 0 || g[7]! > 1))))
    return v4(g[6]!, g[7]!);
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) return v4(g[6]!, g[7]!);
  const eq = (other: number[]) => other.every((x, i) => x === g[i]);
  if (eq([0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254]))
    return { refuse: "always", why: "cloud metadata address (fd00:ec2::254)" };
  if ((g[0]! & 0xffc0) === 0xfe80) return { refuse: "always", why: "link-local address (fe80::/10)" };
  if ((g[0]! & 0xff00) === 0xff00) return { refuse: "always", why: "multicast address (ff00::/8)" };
  if (eq([0, 0, 0, 0, 0, 0, 0, 1])) return { refuse: "private", why: "loopback address (::1)" };
  if (eq([0, 0, 0, 0, 0, 0, 0, 0])) return { refuse: "private", why: "unspecified address (::)" };
  if ((g[0]! & 0xfe00) === 0xfc00) return { refuse: "private", why: "unique local address (fc00::/7)" };
  if ((g[0]! & 0xffc0) === 0xfec0) return { refuse: "private", why: "site-local address (fec0::/10)" };
  return undefined;
}

/** What is wrong with an address under the policy ("link-local address (…)"), or undefined. */
function addressProblem(address: string, blockPrivate: boolean): string | undefined {
  const v4 = parseIPv4(address);
  const g = v4 === undefined ? parseIPv6(address) : undefined;
  if (v4 === undefined && !g) return "value that is not an IP address";
  const verdict = v4 !== undefined ? classifyV4(v4) : classifyV6(g!);
  if (!verdict) return undefined;
  if (verdict.refuse === "always") return verdict.why;
  return blockPrivate ? `${verdict.why}, refused because MEND_BLOCK_PRIVATE_URLS=true` : undefined;
}

/** Why an address is refused under the policy, or undefined when it may be called. */
export function addressRefusal(address: string, blockPrivate: boolean): string | undefined {
  const problem = addressProblem(address, blockPrivate);
  return problem && `${address} is a ${problem}`;
}

function hostOf(url: URL): string {
  return url.hostname
    .replace(/^\[|\]$/g, "")
    .replace(/\.$/, "")
    .toLowerCase();
}

const isLiteral = (host: string) => parseIPv4(host) !== undefined || parseIPv6(host) !== undefined;

/** The checks that need no DNS: scheme, credentials, metadata names, literal addresses. */
export function staticRefusal(raw: string, blockPrivate: boolean): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "not an absolute URL";
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    return `scheme '${url.protocol.replace(/:$/, "")}' is not allowed; use http or https`;
  const host = hostOf(url);
  if (!host) return "the URL has no host";
  if (METADATA_HOSTS.has(host)) return `${host} is a cloud metadata host`;
  if (isLiteral(host)) return addressRefusal(host, blockPrivate);
  if (blockPrivate && (host === "localhost" || host.endsWith(".localhost")))
    return `${host} is a loopback name, refused because MEND_BLOCK_PRIVATE_URLS=true`;
  return undefined;
}

/** Every check: static ones, then every address the name resolves to. Throws only for DNS failures. */
export async function checkUrl(raw: string, policy: UrlPolicy): Promise<string | undefined> {
  const refused = staticRefusal(raw, policy.blockPrivate);
  if (refused) return refused;
  const host = hostOf(new URL(raw));
  if (isLiteral(host) || !policy.lookup) return undefined;
  const addresses = await policy.lookup(host);
  if (addresses.length === 0) throw new Error(`${host} does not resolve`);
  for (const a of addresses) {
    const problem = addressProblem(a, policy.blockPrivate);
    if (problem) return `${host} resolves to ${a}, a ${problem}`;
  }
  return undefined;
}

/** For registration: refusals only; a name that does not resolve now is checked again when sent. */
export async function registrationRefusal(raw: string, policy: UrlPolicy): Promise<string | undefined> {
  try {
    return await checkUrl(raw, policy);
  } catch {
    return undefined;
  }
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
export const MAX_REDIRECTS = 5;

/**
 * fetch that checks the URL (after DNS) before each request and follows redirects itself,
 * re-checking every Location, at most MAX_REDIRECTS hops.
 */
export function guardedFetch(fetchFn: typeof fetch, policy: UrlPolicy): typeof fetch {
  return async (input: RequestInfo | URL, given: RequestInit = {}): Promise<Response> => {
    let init = given;
    if (typeof input === "object" && !(input instanceof URL)) {
      // A Request: take its parts so that every hop can be sent again.
      const req = new Request(input, given);
      init = {
        method: req.method,
        headers: req.headers,
        body: req.body ? await req.arrayBuffer() : undefined,
        signal: req.signal,
        redirect: given.redirect ?? req.redirect,
      };
    }
    let url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    let method = (init.method ?? "GET").toUpperCase();
    let body = init.body;
    const headers = new Headers(init.headers);
    for (let hop = 0; ; hop++) {
      const refused = await checkUrl(url, policy);
      if (refused) throw new UrlRefusedError(url, hop === 0 ? refused : `redirect target ${refused}`);
      const res = await fetchFn(url, { ...init, method, body, headers, redirect: "manual" });
      const location = res.headers.get("location");
      if (!REDIRECTS.has(res.status) || !location) return res;
      if (init.redirect === "manual") return res;
      if (init.redirect === "error") throw new TypeError(`redirect from ${url} refused (redirect: "error")`);
      await res.body?.cancel().catch(() => undefined);
      if (hop >= MAX_REDIRECTS) throw new UrlRefusedError(url, `more than ${MAX_REDIRECTS} redirects`);
      const next = new URL(location, url);
      // As fetch does: 303 (and 301/302 after a POST) continue as GET without a body.
      if (res.status === 303 ? method !== "HEAD" : (res.status === 301 || res.status === 302) && method === "POST") {
        method = "GET";
        body = undefined;
        headers.delete("content-type");
      }
      if (next.origin !== new URL(url).origin) headers.delete("authorization");
      url = next.href;
    }
  };
}
