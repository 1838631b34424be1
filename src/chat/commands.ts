// `/mend` on every platform. Each platform turns its wire format into a MendCommand (Slack: the
// slash command's text, parseMendText; Discord: the subcommand and its options, mendCommand) and
// answers what these return. ack, mute and unmute go straight to the run-actions service with the
// user as the Actor; retry and replay go through ClickService.command (so the run's message is
// edited as after a click), status through ClickService.failedRuns.
import type { Deps } from "../deps";
import type { Actor } from "../runs/actions";
import { actorLabel } from "../runs/outcome";
import type { ChatUser } from "../store/alerts";
import { MUTE_DURATIONS } from "./actions";

export type MendCommand =
  | { sub: "status"; flow?: string }
  | { sub: "retry"; run: string }
  | { sub: "replay"; run: string }
  | { sub: "ack"; run: string }
  | { sub: "mute"; flow: string; duration: string }
  | { sub: "unmute"; flow: string };

/** What the user wrote could not be a command: `error` says why (usage follows it). */
export type Parsed = MendCommand | { error: string };

export const SUBCOMMANDS = ["status", "retry", "replay", "ack", "mute", "unmute"] as const;

/** The subcommand's arguments in order (Slack's text) or by name (Discord's options). */
export function mendCommand(sub: string, a: { run?: string; flow?: string; duration?: string }): Parsed {
  const run = a.run?.trim();
  const flow = a.flow?.trim();
  switch (sub.toLowerCase()) {
    case "":
    case "status":
      return { sub: "status", ...(flow ? { flow } : {}) };
    case "retry":
    case "replay":
    case "ack":
      return run
        ? { sub: sub.toLowerCase() as "retry" | "replay" | "ack", run }
        : { error: `\`${sub}\` needs a run id.` };
    case "mute": {
      if (!flow) return { error: "`mute` needs a flow and a duration (1h, 4h or 24h)." };
      const duration = (a.duration ?? "").trim().toLowerCase();
      if (!MUTE_DURATIONS[duration])
        return { error: `'${a.duration ?? ""}' is not a mute duration: use 1h, 4h or 24h.` };
      return { sub: "mute", flow, duration };
    }
    case "unmute":
      return flow ? { sub: "unmute", flow } : { error: "`unmute` needs a flow." };
    default:
      return { error: `'${sub}' is not a /mend command.` };
  }
}

const POSITIONAL: Record<string, readonly ("run" | "flow" | "duration")[]> = {
  status: ["flow"],
  retry: ["run"],
  replay: ["run"],
  ack: ["run"],
  mute: ["flow", "duration"],
  unmute: ["flow"],
};

/** Slack: `/mend <sub> <args…>`; more words than the subcommand takes is a mistake, not ignored. */
export function parseMendText(text: string): Parsed {
  const [sub = "", ...args] = text.trim().split(/\s+/).filter(Boolean);
  const names = POSITIONAL[sub.toLowerCase()] ?? [];
  if (args.length > names.length && names.length > 0)
    return { error: `\`${sub}\` takes ${names.join(" and ")}; got '${args.join(" ")}'.` };
  return mendCommand(sub, Object.fromEntries(names.map((n, i) => [n, args[i]])));
}

export interface CommandAnswer {
  ok: boolean;
  /** Everyone in the channel sees it (an action was taken), else only the user. */
  public: boolean;
  text: string;
}

/** How the platform writes a user and escapes other people's text. */
export interface CommandFormat {
  mention: string;
  esc: (text: string) => string;
}

/** `/mend ack <run>`, `/mend mute <flow> <1h|4h|24h>`, `/mend unmute <flow>`. */
export async function runOncallCommand(
  deps: Pick<Deps, "runActions" | "runs">,
  platform: "slack" | "discord",
  cmd: Extract<MendCommand, { sub: "ack" | "mute" | "unmute" }>,
  user: ChatUser,
  f: CommandFormat,
): Promise<CommandAnswer> {
  const by: Actor = { id: user.id, name: user.name, via: platform };
  const says = (ok: boolean, text: string, pub = ok): CommandAnswer => ({ ok, public: pub, text });
  if (cmd.sub === "ack") {
    const run = await deps.runs.getRun(cmd.run);
    if (!run) return says(false, `Run ${f.esc(cmd.run)} does not exist.`);
    const r = await deps.runActions.perform({ action: "ack", runId: run.id, by });
    if (!r.ok) return says(false, `Could not acknowledge run ${f.esc(run.id)}: ${f.esc(r.summary)}`);
    const first = String(r.body.acked_by);
    if (first !== actorLabel(by))
      return says(false, `Run ${f.esc(run.id)} was already acknowledged by ${f.esc(first)}.`);
    return says(true, `Acknowledged by ${f.mention}: run ${f.esc(run.id)} (${f.esc(run.flow)}, ${run.status})`);
  }
  const r =
    cmd.sub === "mute"
      ? await deps.runActions.muteFlow({ flow: cmd.flow, by, muteMs: MUTE_DURATIONS[cmd.duration]! })
      : await deps.runActions.unmuteFlow({ flow: cmd.flow, by });
  if (r.done === undefined) return says(false, f.esc(r.summary));
  return says(true, `${f.esc(r.done)} — by ${f.mention}`);
}

export const USAGE_LINES = [
  "status [flow] — recent failed runs, with their buttons",
  "retry <run id> — resume a failed run from its failed step",
  "replay <run id> — a new run with the same input",
  "ack <run id> — acknowledge: you are on it (stops escalation)",
  "mute <flow> <1h|4h|24h> — no alerts for the flow for that long",
  "unmute <flow> — alerts for the flow again",
];
