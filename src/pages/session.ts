// Browser sessions for the pages: one HttpOnly, SameSite=Strict cookie, and a CSRF token derived from it.
//
// With sign-in on (MEND_API_TOKEN or MEND_USERS), the cookie is
// `<sid>.<name>.<HMAC-SHA256(that person's token, "mend-session:" + sid + ":" + name)>`: stateless (any
// process or isolate holding the tokens can check it, nothing is stored) and void once that person's
// token changes. Without sign-in the cookie is a bare random sid, there only to bind the CSRF token.
// The CSRF token in every form is HMAC-SHA256(key, "mend-csrf:" + sid): a page from another site can
// neither read the cookie nor compute the token. See docs/pages.md.
import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { ADMIN, type People, type Person } from "../auth/people";
import { hmacSha256Hex, timingSafeEqualStr } from "../crypto";

const SESSION_COOKIE = "mend_session";
const MAX_AGE_S = 30 * 24 * 3600;
const SID_RE = /^[0-9a-f]{32}$/;
/** Key of the CSRF HMAC when no MEND_API_TOKEN is set (the sid itself is the secret then). */
const NO_TOKEN_KEY = "mend-pages-without-token";

export interface Session {
  sid: string;
  /** The form field `_csrf` must carry this. */
  csrf: string;
  /** Who signed in (undefined when sign-in is off). */
  user?: string;
}

function randomHex(bytes: number): string {
  const b = crypto.getRandomValues(new Uint8Array(bytes));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

const sign = (person: Person, sid: string) => hmacSha256Hex(person.token, `mend-session:${sid}:${person.name}`);
/** Cookies from before MEND_USERS: `<sid>.<sig>`, signed with MEND_API_TOKEN; they stay valid, as admin. */
const signV1 = (token: string, sid: string) => hmacSha256Hex(token, `mend-session:${sid}`);
const csrfFor = (token: string | undefined, sid: string) => hmacSha256Hex(token ?? NO_TOKEN_KEY, `mend-csrf:${sid}`);

function isHttps(c: Context): boolean {
  return new URL(c.req.url).protocol === "https:" || c.req.header("x-forwarded-proto") === "https";
}

/** The session the request's cookie proves, or undefined (no cookie, bad signature, a changed token). */
export async function readSession(c: Context, people: People): Promise<Session | undefined> {
  const raw = getCookie(c, SESSION_COOKIE);
  if (!raw) return undefined;
  const parts = raw.split(".");
  const sid = parts[0] ?? "";
  if (!SID_RE.test(sid)) return undefined;
  if (!people.on) return parts.length === 1 ? { sid, csrf: await csrfFor(undefined, sid) } : undefined;
  const sig = parts.at(-1) ?? "";
  const name = parts.length === 2 ? ADMIN : parts.slice(1, -1).join(".");
  const person = people.byName(name);
  if (!person || parts.length < 2) return undefined;
  const expected = parts.length === 2 ? await signV1(person.token, sid) : await sign(person, sid);
  if (!timingSafeEqualStr(sig, expected)) return undefined;
  return { sid, user: person.name, csrf: await csrfFor(person.token, sid) };
}

/** Starts a new session (for this person, when sign-in is on) and sets its cookie on the response. */
export async function startSession(c: Context, person: Person | undefined): Promise<Session> {
  const sid = randomHex(16);
  const value = person ? `${sid}.${person.name}.${await sign(person, sid)}` : sid;
  setCookie(c, SESSION_COOKIE, value, {
    path: "/",
    httpOnly: true,
    sameSite: "Strict",
    secure: isHttps(c),
    maxAge: MAX_AGE_S,
  });
  return { sid, user: person?.name, csrf: await csrfFor(person?.token, sid) };
}

export function endSession(c: Context): void {
  deleteCookie(c, SESSION_COOKIE, { path: "/", httpOnly: true, sameSite: "Strict", secure: isHttps(c) });
}

/**
 * Why a state-changing request must be refused as cross-site, or undefined when it may go on.
 * Browsers mark cross-site and same-site (another port, a sibling subdomain) requests with
 * Sec-Fetch-Site and name the page's origin in Origin; either one naming another site refuses it.
 */
export function crossSiteRefusal(c: Context, publicUrl: string | undefined): string | undefined {
  const site = c.req.header("sec-fetch-site");
  if (site === "cross-site" || site === "same-site")
    return `the request came from another site (Sec-Fetch-Site: ${site})`;
  const origin = c.req.header("origin");
  if (origin === undefined) return undefined;
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    return `the request came from an opaque origin (Origin: ${origin})`;
  }
  // The host, not the scheme: a proxy that ends TLS passes the Host on but the app sees http.
  if (host === new URL(c.req.url).host) return undefined;
  if (publicUrl && origin === new URL(publicUrl).origin) return undefined;
  return `the request came from another site (Origin: ${origin})`;
}

export function csrfMatches(session: Session, given: unknown): boolean {
  return typeof given === "string" && timingSafeEqualStr(given, session.csrf);
}

/** A path on this site to return to after login, never an open redirect. */
export function safeNext(next: unknown): string {
  // Browsers drop tabs and newlines from URLs and read a backslash as "/": "/<TAB>/evil.com" would leave the site.
  if (
    typeof next !== "string" ||
    !next.startsWith("/") ||
    next.startsWith("//") ||
    /[\u0000-\u0020\u007f-\u00a0\u2028\u2029\\]/.test(next)
  )
    return "/";
  return next;
}

export function newNonce(): string {
  return randomHex(12);
}
