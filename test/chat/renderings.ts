// The message states of docs/slack.md and docs/discord.md, drawn by the real renderers: each state is
// reached by driving the real services in-process (the chat harness, the run-actions service, the
// engine, the scheduler) and read back from what the fake Slack / fake Discord received.
// test/chat/renderings.test.ts checks the docs against this; `npm run docs:renderings` rewrites them.
import type { Actor } from "../../src/runs/actions";
import type { Json } from "../fakes/discord";
import {
  ALICE,
  discordDriver,
  failingFlow,
  slackDriver,
  startHarness,
  type DiscordDriver,
  type Harness,
  type SlackDriver,
} from "./harness";

export const STATES = ["failed", "acked", "retrying", "fixed", "muted", "escalated"] as const;
export type State = (typeof STATES)[number];

/** What people read in one state: the message as the platform has it, and what its thread was told. */
export interface Rendering {
  state: State;
  message: Json;
  thread: string[];
}

/** A fixed start, on a whole minute, so the times in the docs stay put. */
const START = Date.UTC(2026, 0, 15, 9, 30, 0);

const ONCALL = {
  slack: { mention: ["S0ONCALL"], escalate: { after_minutes: 15, mention: ["U0BOB"] } },
  discord: { mention: ["&600000000000000001"], escalate: { after_minutes: 15, mention: ["500000000000000002"] } },
};

type PlatformDriver = SlackDriver | DiscordDriver;

function message(d: PlatformDriver): { id: string; payload: Json; versions: number } | undefined {
  if (d.kind === "slack") {
    const m = (d as SlackDriver).fake().messages[0];
    return m && { id: m.ts, payload: { text: m.text, blocks: m.blocks }, versions: m.versions.length };
  }
  const m = (d as DiscordDriver).fake().messages[0];
  return (
    m && {
      id: m.id,
      payload: { content: m.content, embeds: m.embeds, components: m.components },
      versions: m.versions.length,
    }
  );
}

/** Lets the edits and thread replies a change causes go out (fake time, a few seconds). */
async function settle(h: Harness): Promise<void> {
  for (let i = 0; i < 30; i++) {
    await new Promise((r) => setImmediate(r));
    if (i % 3 === 2) await h.clock.advance(200, 20);
  }
}

/** Drives a fresh mend into `state` and reads the alert as it then is. */
async function reach(makeDriver: () => PlatformDriver, state: State): Promise<Rendering> {
  const driver = makeDriver();
  const h = await startHarness(driver, { MEND_ENV: "prod", MEND_GROUP_WINDOW_S: "0" }, { start: START });
  try {
    const by: Actor = {
      id: driver.kind === "slack" ? ALICE.id : ALICE.discordId,
      name: ALICE.username,
      via: driver.kind,
    };
    await failingFlow(
      h,
      {},
      {
        config: {
          ...driver.config(),
          ...ONCALL[driver.kind],
          show_input: ["customer.id"],
          links: [{ text: "Runbook", url: "https://wiki.example/runbooks/{{ run.flow }}?step={{ error.step }}" }],
        },
      },
    );
    h.upstream.body = JSON.stringify({ error: { code: "card_declined", message: "Your card was declined." } });
    const res = await h.api("/hooks/orders", { json: { customer: { id: "cus_42" }, amount: 1200 } });
    const { run_id: runId } = (await res.json()) as { run_id: string };
    const first = await h.until(() => message(driver), 30_000, "the alert");
    await settle(h);
    const before = { versions: message(driver)!.versions, replies: driver.replies(first.id).length };
    let release: (() => void) | undefined;
    switch (state) {
      case "failed":
        break;
      case "acked":
        await h.deps.runActions.perform({ action: "ack", runId, by });
        break;
      case "retrying":
        h.upstream.hold = new Promise<void>((r) => (release = r));
        await h.deps.runActions.perform({ action: "retry", runId, by });
        break;
      case "fixed":
        h.upstream.status = 200;
        await h.api("/hooks/orders", { json: { customer: { id: "cus_43" }, amount: 900 } });
        break;
      case "muted":
        await h.deps.runActions.perform({ action: "mute", runId, by, muteMs: 3_600_000 });
        break;
      case "escalated":
        for (let m = 0; m < 16; m++) await h.clock.advance(60_000, 20);
        break;
    }
    if (state !== "failed")
      await h.until(() => message(driver)!.versions > before.versions, 60_000, `the ${state} edit`);
    await settle(h);
    const now = message(driver)!;
    const rendering = { state, message: now.payload, thread: driver.replies(now.id).slice(before.replies) };
    release?.();
    return rendering;
  } finally {
    await h.close();
  }
}

export async function captureRenderings(kind: "slack" | "discord"): Promise<Rendering[]> {
  const make = kind === "slack" ? slackDriver : discordDriver;
  const out: Rendering[] = [];
  for (const state of STATES) out.push(normalize(await reach(make, state)));
  return out;
}

/** Ids and times that differ from run to run become fixed ones (each distinct id keeps its own). */
function normalize(r: Rendering): Rendering {
  const ids = new Map<string, string>();
  const text = JSON.stringify(r)
    .replace(/\b[0-9A-HJKMNP-TV-Z]{26}\b/g, (id) => {
      if (!ids.has(id)) ids.set(id, `01JHKQ9Z${String(ids.size + 1).padStart(18, "0")}`);
      return ids.get(id)!;
    })
    .replace(/<!date\^(\d+)\^/g, (_, s: string) => `<!date^${Math.floor(Number(s) / 60) * 60}^`)
    .replace(/(\d{4}-\d\d-\d\dT\d\d:\d\d):\d\d(\.\d+)?Z/g, "$1:00.000Z");
  return JSON.parse(text) as Rendering;
}

const ABOUT: Record<State, string> = {
  failed: "The first post. The mentions of `mention` sit on top and in the notification text.",
  acked:
    "Someone acknowledged it (the Ack button, `/mend ack`, or `POST /api/runs/:id/ack`): it says who, and escalation stops.",
  retrying: "A retry started from the alert (or the API) is running: the action buttons go away until it ends.",
  fixed: "A later run of the same flow succeeded (`resolve_on_success`): the alert is closed, with no action buttons.",
  muted: "Muted for an hour: no new alerts for this flow, step and error type until the time shown; Unmute ends it.",
  escalated: "Nobody acked, resolved or fixed it within `escalate.after_minutes`: the thread pings `escalate.mention`.",
};

const labelsOf = (elements: Json[]) =>
  elements.map((e) => String(e.text?.text ?? e.label ?? e.placeholder?.text ?? e.placeholder ?? e.type));

/** A few plain lines on how the state looks, read from the payload itself. */
function looks(kind: "slack" | "discord", m: Json): string[] {
  const lines: string[] = [];
  if (kind === "slack") {
    const blocks = m.blocks as Json[];
    const header = blocks.find((b) => b.type === "header");
    if (header) lines.push(`Header: **${header.text.text}**`);
    const status = blocks.find((b) => String(b.block_id ?? "").startsWith("mend_status"));
    if (status) lines.push(`Status line: ${String(status.text.text).replace(/\n/g, " / ")}`);
    const controls = blocks.filter((b) => b.type === "actions").flatMap((b) => b.elements as Json[]);
    lines.push(`Controls: ${labelsOf(controls).join(", ") || "none"}`);
  } else {
    const embed = (m.embeds as Json[])[0]!;
    lines.push(`Embed title: **${embed.title}**, colour #${Number(embed.color).toString(16).padStart(6, "0")}`);
    const status = (embed.fields as Json[]).find((f) => f.name === "Status");
    if (status) lines.push(`Status field: ${String(status.value).replace(/\n/g, " / ")}`);
    const controls = (m.components as Json[]).flatMap((r) => r.components as Json[]);
    lines.push(`Controls: ${labelsOf(controls).join(", ") || "none"}`);
  }
  return lines;
}

export const BEGIN = "<!-- renderings:begin -->";
export const END = "<!-- renderings:end -->";

/** The docs section between BEGIN and END. */
export function renderingsMarkdown(kind: "slack" | "discord", rs: Rendering[]): string {
  const what = kind === "slack" ? "`chat.postMessage` / `chat.update` arguments" : "message body (`POST`/`PATCH`)";
  const parts = [
    BEGIN,
    "",
    `Generated by \`npm run docs:renderings\` from the real renderers (test/chat/renderings.ts drives mend into each`,
    "state in-process and copies what the fake platform received); test/chat/renderings.test.ts fails when this",
    `section is out of date. Each state shows the ${what} as JSON.`,
  ];
  for (const r of rs) {
    parts.push("", `### ${r.state[0]!.toUpperCase()}${r.state.slice(1)}`, "", ABOUT[r.state], "");
    for (const l of looks(kind, r.message)) parts.push(`- ${l}`);
    for (const t of r.thread) parts.push(`- Thread: ${t.replace(/\n/g, " / ")}`);
    const summary = kind === "slack" ? "Block Kit JSON" : "Message JSON";
    parts.push("", `<details><summary>${summary}</summary>`, "", "```json", JSON.stringify(r.message, null, 2), "```");
    parts.push("", "</details>");
  }
  parts.push("", END);
  return parts.join("\n");
}

/** `doc` with its renderings section replaced (appended when it has none). */
export function withRenderings(doc: string, section: string): string {
  const a = doc.indexOf(BEGIN);
  const b = doc.indexOf(END);
  if (a < 0 || b < a) return `${doc.trimEnd()}\n\n## What each message state looks like\n\n${section}\n`;
  return doc.slice(0, a) + section + doc.slice(b + END.length);
}
