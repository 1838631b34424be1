// The Slack bot: a real @slack/bolt App (action routing, ack, respond, WebClient) whose requests
// come from the Hono route POST /slack/events through HonoReceiver instead of Bolt's own server.
//
//   const bot = createSlackBot(deps);
//   const { status, body } = await bot.dispatch(parsedBody, { retryNum, retryReason });
//
// Listeners:
//   - block_actions with action_id mend_retry | mend_replay | mend_mute (buttons drawn by blocks.ts):
//     ack at once, check SLACK_ALLOWED_USERS (others get an ephemeral "not allowed" and nothing runs),
//     then deps.clicks.handle(…) — which runs the action exactly once and edits the alert through the
//     Slack editor (chat.update on the alert's channel + ts).
//   - the /mend slash command: `status`, `retry <run>`, `replay <run>` (same allow-list).
import { App, LogLevel, type BlockButtonAction, type Receiver, type ReceiverEvent, type RespondFn, type SlashCommand } from "@slack/bolt";
import type { WebClient } from "@slack/web-api";
import type { Deps, Log } from "../../deps";
import type { RunRecord } from "../../engine/ports";
import type { ChatAction, ChatUser } from "../../store/alerts";
import { decodeButton } from "../alert";
import type { ClickResult } from "../clicks";
import { ACTION_ID_RE, esc, mention, statusBlocks } from "./blocks";

/** Answer the HTTP request by then even if no listener acked (Slack gives up after 3 s). */
const ACK_DEADLINE_MS = 2_500;

export interface SlackAnswer {
  status: number;
  body?: unknown;
}

/** Bolt's Receiver, fed by our Hono route: one dispatch per verified request. */
export class HonoReceiver implements Receiver {
  private app: App | undefined;

  constructor(
    private readonly log: Log,
    private readonly waitUntil: (p: Promise<unknown>) => void,
  ) {}

  init(app: App): void {
    this.app = app;
  }

  start(): Promise<void> {
    return Promise.resolve();
  }

  stop(): Promise<void> {
    return Promise.resolve();
  }

  /** Resolves with the HTTP answer as soon as a listener acks (or at the deadline). */
  dispatch(body: Record<string, unknown>, meta: { retryNum?: number; retryReason?: string } = {}): Promise<SlackAnswer> {
    const app = this.app;
    if (!app) return Promise.resolve({ status: 503, body: { error: "slack bot is not initialised" } });
    return new Promise((resolve) => {
      let answered = false;
      const answer = (a: SlackAnswer) => {
        if (answered) return;
        answered = true;
        clearTimeout(timer);
        resolve(a);
      };
      const timer = setTimeout(() => answer({ status: 200 }), ACK_DEADLINE_MS);
      const event: ReceiverEvent = {
        body,
        retryNum: meta.retryNum,
        retryReason: meta.retryReason,
        ack: async (response?: unknown) => {
          if (response instanceof Error) answer({ status: 500, body: { error: "internal error" } });
          else answer({ status: 200, body: response === undefined || response === "" ? undefined : response });
        },
      };
      const task = app
        .processEvent(event)
        .then(() => answer({ status: 200 }))
        .catch((err: unknown) => {
          this.log("error", "slack event processing failed", { error: String((err as Error)?.stack ?? err) });
          answer({ status: 500, body: { error: "internal error" } });
        });
      this.waitUntil(task);
    });
  }
}

export interface SlackBot {
  app: App;
  receiver: HonoReceiver;
  dispatch: HonoReceiver["dispatch"];
}

export function isAllowed(allowed: string[], userId: string): boolean {
  return allowed.length === 0 || allowed.includes(userId);
}

const notAllowed = (user: ChatUser, action: string) =>
  `Sorry ${mention(user)}, you are not allowed to ${action} from Slack (your user id ${user.id} is not in SLACK_ALLOWED_USERS). Nothing was run.`;

export function createSlackBot(deps: Deps): SlackBot {
  const { config, log } = deps;
  const receiver = new HonoReceiver(log, deps.waitUntil);
  const token = config.SLACK_BOT_TOKEN!;
  const app = new App({
    receiver,
    // No auth.test round trip: one workspace, one bot token.
    authorize: async () => ({ botToken: token }),
    ignoreSelf: false,
    logLevel: LogLevel.ERROR,
    logger: {
      debug: () => undefined,
      info: () => undefined,
      warn: () => undefined,
      error: (...msg: unknown[]) => log("warn", "slack bolt", { detail: msg.map(String).join(" ") }),
      setLevel: () => undefined,
      getLevel: () => LogLevel.ERROR,
      setName: () => undefined,
    },
    clientOptions: { slackApiUrl: config.SLACK_API_URL, rejectRateLimitedCalls: true, retryConfig: { retries: 0 }, timeout: 10_000 },
  });
  app.error(async (err) => {
    log("error", "slack listener failed", { error: String((err as Error)?.stack ?? err) });
  });

  const allowed = (userId: string) => isAllowed(config.SLACK_ALLOWED_USERS, userId);

  /** Private reply to one user: chat.postEphemeral in the channel, else response_url. */
  async function ephemeral(client: WebClient, opts: { channel?: string; user: string; text: string; respond?: RespondFn }): Promise<void> {
    if (opts.channel) {
      try {
        await client.chat.postEphemeral({ channel: opts.channel, user: opts.user, text: opts.text });
        return;
      } catch (err) {
        log("warn", "chat.postEphemeral failed; answering through response_url", { error: String((err as Error)?.message ?? err) });
      }
    }
    if (opts.respond) await opts.respond({ response_type: "ephemeral", replace_original: false, text: opts.text }).catch((err: unknown) => log("warn", "slack response_url failed", { error: String(err) }));
  }

  const outcomeText = (run: RunRecord, action: ChatAction, user: ChatUser) => {
    const what = run.status === "failed" ? `failed again${run.error ? `: ${run.error.message}` : ""}` : run.status;
    return `${action === "retry" ? "Retry" : "Replay"} by ${mention(user)} — run ${run.id} ${esc(what)}`;
  };

  app.action<BlockButtonAction>({ action_id: ACTION_ID_RE }, async ({ ack, body, action, client, respond }) => {
    await ack();
    const user: ChatUser = { id: body.user.id, name: body.user.username ?? body.user.name };
    const channel = body.channel?.id ?? body.container?.channel_id;
    const decoded = decodeButton(action.value ?? "");
    if (!decoded) {
      await ephemeral(client, { channel, user: user.id, text: "This button is not one of mend's (or is from an older version).", respond });
      return;
    }
    if (!allowed(user.id)) {
      await ephemeral(client, { channel, user: user.id, text: notAllowed(user, `${decoded.action} runs`), respond });
      return;
    }
    // A message posted through an incoming webhook has no stored ts: adopt the clicked one so
    // chat.update can edit it (when the bot is in that channel).
    const messageTs = body.message?.ts ?? body.container?.message_ts;
    if (decoded.alertId && channel && messageTs) {
      await deps.chat.change(decoded.alertId, (a) => (a.kind === "slack" && !(a.ref as { ts?: string } | null)?.ts ? { ref: { channel, ts: messageTs } } : undefined), { edit: false });
    }
    const result: ClickResult = await deps.clicks.handle({
      platform: "slack",
      action: decoded.action,
      runId: decoded.runId,
      alertId: decoded.alertId || undefined,
      gen: decoded.gen,
      user,
      allowed: true,
      // Without an alert row (a /mend status list) the outcome goes back to the clicker.
      onEnd: decoded.alertId ? undefined : async (run) => void (await ephemeral(client, { channel, user: user.id, text: outcomeText(run, decoded.action, user), respond })),
    });
    if (result.reply) await ephemeral(client, { channel, user: user.id, text: esc(result.reply), respond });
    else if (!result.alert) await ephemeral(client, { channel, user: user.id, text: esc(result.summary), respond });
  });

  app.command("/mend", async ({ command, ack, respond }) => {
    const reply = (text: string, extra: Record<string, unknown> = {}) => ack({ response_type: "ephemeral", text, ...extra });
    const [sub = "", arg, ...rest] = command.text.trim().split(/\s+/).filter(Boolean);
    const user: ChatUser = { id: command.user_id, name: command.user_name };
    const verb = sub.toLowerCase();
    if (verb === "status" || verb === "") {
      await reply(...(await status()));
      return;
    }
    if ((verb === "retry" || verb === "replay") && arg && rest.length === 0) {
      if (!allowed(user.id)) {
        await reply(notAllowed(user, `${verb} runs`));
        return;
      }
      await ack(await runCommand(command, verb, arg, user, respond));
      return;
    }
    await reply("Usage: `/mend status` (recent failed runs), `/mend retry <run id>`, `/mend replay <run id>`");
  });

  async function status(): Promise<[string, Record<string, unknown>]> {
    const { runs } = await deps.runs.listRuns({ status: "failed", limit: 10 });
    const items = [];
    for (const run of runs) {
      const alert = await deps.alerts.latestForRun(run.id, "slack");
      const usable = alert && alert.state.target_run === run.id;
      items.push({ run, alertId: usable ? alert.id : "", gen: usable ? alert.state.gen : (run.finishedAt ?? run.updatedAt) });
    }
    const text = runs.length ? `Recent failed runs: ${runs.map((r) => `${r.flow} ${r.id}`).join(", ")}` : "No failed runs.";
    return [text, { blocks: statusBlocks(items, config.MEND_PUBLIC_URL) }];
  }

  async function runCommand(command: SlashCommand, action: "retry" | "replay", runId: string, user: ChatUser, respond: RespondFn): Promise<Record<string, unknown>> {
    // When the run has an alert in Slack, act through it so that message is edited too.
    const alert = await deps.alerts.latestForRun(runId, "slack");
    const usable = alert && alert.state.target_run === runId;
    const result = await deps.clicks.handle({
      platform: "slack",
      action,
      runId,
      alertId: usable ? alert.id : undefined,
      gen: usable ? alert.state.gen : undefined,
      user,
      allowed: true,
      onEnd: async (run) => void (await respond({ response_type: "in_channel", replace_original: false, text: outcomeText(run, action, user) }).catch((err: unknown) => log("warn", "slack response_url failed", { error: String(err) }))),
    });
    if (result.reply) return { response_type: "ephemeral", text: esc(result.reply) };
    const started = result.run ? ` (${action === "replay" ? `new run ${result.run.id}` : `run ${result.run.id}`}) — running…` : "";
    void command;
    return { response_type: "in_channel", text: `${action === "retry" ? "Retry" : "Replay"} by ${mention(user)} of run ${esc(runId)}${started}` };
  }

  return { app, receiver, dispatch: (body, meta) => receiver.dispatch(body, meta) };
}
