// What an alert shows beside the error (SPEC §11): a failed http step's response, the handler's
// `show_input` fields and its templated `links`. Drawn from the payload (already redacted by the
// engine) and the handler's display config kept on the alert row, so every redraw shows the same.
import type { AlertPayload } from "../engine/ports";
import { lookup, renderUrl } from "../engine/template";
import type { OncallConfig } from "./oncall-config";
import { truncate } from "./truncate";

/** A failed http step's response body is shown to this many characters, the "…" of a longer one included. */
export const RESPONSE_BODY_CHARS = 300;
/** Each `show_input` value is cut to this many characters, the "…" included. */
export const INPUT_VALUE_CHARS = 100;
/** Discord's link button url limit (Slack allows 3000): one limit for every platform. */
export const LINK_URL_MAX = 512;

/** The handler's display fields, stored on the alert row (AlertState.display). */
export type AlertDisplay = Pick<OncallConfig, "show_input" | "links">;

export interface AlertContext {
  /** A failed http step's answer: its status and the start of its body. */
  response?: { status: number; body: string };
  /** `show_input`: each path with its value as text, or `missing: true`. */
  inputs?: { path: string; value: string; missing?: boolean }[];
  /** `links` whose template rendered to an http(s) URL (others are left out). */
  links?: { text: string; url: string }[];
}

const asText = (v: unknown) => (typeof v === "string" ? v : (JSON.stringify(v) ?? String(v)));

function responseOf(p: AlertPayload): AlertContext["response"] {
  const err = p.error;
  if (typeof err.status !== "number" || (err.type !== "http_status" && err.type !== "permission_denied")) return;
  const raw = err.details?.body ?? (p.failed as { body?: unknown }).body;
  return {
    status: err.status,
    body: truncate(raw === undefined || raw === null ? "" : asText(raw), RESPONSE_BODY_CHARS),
  };
}

function inputOf(input: unknown, path: string): { value: string; missing?: boolean } {
  try {
    return { value: truncate(asText(lookup({ input }, `input.${path}`)), INPUT_VALUE_CHARS) };
  } catch {
    return { value: "missing", missing: true };
  }
}

/** A link's URL, or undefined when its template does not render to an http(s) URL (the alert goes out without it). */
export function linkUrl(template: string, p: AlertPayload): string | undefined {
  const run = {
    id: p.run.id,
    flow: p.run.flow,
    flow_version: p.run.flow_version,
    status: p.run.status,
    url: p.run.url,
  };
  try {
    const url = renderUrl(template, { run, error: p.error, input: p.input });
    return url.length <= LINK_URL_MAX && /^https?:\/\/[^\s]+$/i.test(url) && URL.canParse(url) ? url : undefined;
  } catch {
    return undefined;
  }
}

export function alertContext(p: AlertPayload, display: AlertDisplay = {}): AlertContext {
  const links = (display.links ?? []).flatMap((l) => {
    const url = linkUrl(l.url, p);
    return url ? [{ text: l.text, url }] : [];
  });
  return {
    response: responseOf(p),
    inputs: display.show_input?.map((path) => ({ path, ...inputOf(p.input, path) })),
    links: links.length ? links : undefined,
  };
}
