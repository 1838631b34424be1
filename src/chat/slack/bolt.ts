// The Slack bot: a real @slack/bolt App (action routing, ack, respond, WebClient) whose requests
// come from the Hono route POST /slack/events through HonoReceiver instead of Bolt's own server.
//
//   const bot = createSlackBot(deps);
//   const { status, body } = await bot.dispatch(parsedBody, { retryNum, retryReason });
//
// Listeners (their logic lives in ./interactions.ts, shared with the Workers bot ./fetch-bot.ts):
//   - block_actions with action_id mend_<table id> (buttons and selects drawn by blocks.ts):
//     ack at once, check SLACK_ALLOWED_USERS (others get an ephemeral "not allowed" and nothing runs),
//     then deps.clicks.handle(…) — which runs the action exactly once and edits the alert through the
//     Slack editor (chat.update on the alert's channel + ts).
//   - view_submission of the "Replay with input…" modal (callback_id mend_replay, ./replay-modal.ts):
//     acked with response_action errors when the input is bad, else empty, and the replay runs.
//   - the /mend slash command: `status`, `retry <run>`, `replay <run>` (same allow-list).
import {
  App,
  LogLevel,
  type BlockAction,
  type Receiver,
  type ReceiverEvent,
  type ViewResponseAction,
  type ViewSubmitAction,
} from "@slack/bolt";
import type { Deps, Log } from "../../deps";
import { ACTION_ID_RE } from "./blocks";
import { ACK_DEADLINE_MS, slackInteractions, type SlackActionElement, type SlackAnswer } from "./interactions";
import { REPLAY_CALLBACK_ID } from "./replay-modal";
import { webClientApi } from "./web-client";

export { isAllowed, type SlackAnswer } from "./interactions";

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
  dispatch(
    body: Record<string, unknown>,
    meta: { retryNum?: number; retryReason?: string } = {},
  ): Promise<SlackAnswer> {
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
    clientOptions: {
      slackApiUrl: config.SLACK_API_URL,
      rejectRateLimitedCalls: true,
      retryConfig: { retries: 0 },
      timeout: 10_000,
    },
  });
  app.error(async (err) => {
    log("error", "slack listener failed", { error: String((err as Error)?.stack ?? err) });
  });

  const ix = slackInteractions(deps);

  app.action<BlockAction>({ action_id: ACTION_ID_RE }, async ({ ack, body, action, client, respond }) => {
    await ack();
    await ix.blockAction(body, action as SlackActionElement, { api: webClientApi(client), respond });
  });

  app.view<ViewSubmitAction>(REPLAY_CALLBACK_ID, async ({ ack, body, client }) => {
    await ack((await ix.viewSubmission(body, { api: webClientApi(client) })) as ViewResponseAction | undefined);
  });

  app.command("/mend", async ({ command, ack, respond }) => {
    await ack(await ix.command(command, { respond }));
  });

  return { app, receiver, dispatch: (body, meta) => receiver.dispatch(body, meta) };
}
