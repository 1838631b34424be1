// The Slack bot without Bolt (Bolt needs Node): routes a verified, parsed Slack body to the same
// interactions as the Bolt bot (./interactions.ts) and answers with the same acks. Used on
// Workers; the Web API goes through a fetch SlackApi and response_url through fetch.
//
//   block_actions on mend_<table id> (button or select)  → 200 at once, the click runs in waitUntil
//   view_submission of mend_replay (./replay-modal.ts)    → response_action errors, or 200 and the replay
//   the /mend command                                     → its ack payload (or 200 after 2.5 s)
//   anything else (events, other commands, shortcuts)     → 200
import type { Deps } from "../../deps";
import type { SlackApi } from "./api";
import { ACTION_ID_RE } from "./blocks";
import {
  ACK_DEADLINE_MS,
  slackInteractions,
  type SlackActionElement,
  type SlackAnswer,
  type SlackBlockActionBody,
  type SlackCommandBody,
  type SlackDispatcher,
  type SlackRespond,
} from "./interactions";
import { REPLAY_CALLBACK_ID, type SlackViewSubmissionBody } from "./replay-modal";

export function createSlackFetchBot(deps: Deps, api: SlackApi): SlackDispatcher {
  const ix = slackInteractions(deps);
  const { log } = deps;

  const responder = (url: unknown): SlackRespond | undefined => {
    if (typeof url !== "string" || !/^https?:\/\//.test(url)) return undefined;
    return async (message) => {
      const res = await deps.fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(message),
        signal: AbortSignal.timeout(10_000),
      });
      await res.body?.cancel().catch(() => undefined);
      if (!res.ok) throw new Error(`response_url answered HTTP ${res.status}`);
    };
  };

  async function dispatch(body: Record<string, unknown>): Promise<SlackAnswer> {
    if (body.type === "block_actions") {
      const action = (Array.isArray(body.actions) ? body.actions[0] : undefined) as SlackActionElement | undefined;
      if (!action?.action_id || !ACTION_ID_RE.test(action.action_id)) return { status: 200 };
      const task = ix
        .blockAction(body as unknown as SlackBlockActionBody, action, {
          api,
          respond: responder(body.response_url),
        })
        .catch((err: unknown) =>
          log("error", "slack listener failed", { error: String((err as Error)?.stack ?? err) }),
        );
      deps.waitUntil(task);
      return { status: 200 };
    }
    if (body.type === "view_submission") {
      const view = body.view as SlackViewSubmissionBody["view"] | undefined;
      if (view?.callback_id !== REPLAY_CALLBACK_ID) return { status: 200 };
      try {
        const ack = await ix.viewSubmission(body as unknown as SlackViewSubmissionBody, { api });
        return ack ? { status: 200, body: ack } : { status: 200 };
      } catch (err) {
        log("error", "slack view submission failed", { error: String((err as Error)?.stack ?? err) });
        return { status: 500, body: { error: "internal error" } };
      }
    }
    if (typeof body.command === "string") {
      if (body.command !== "/mend") return { status: 200 };
      const work = ix.command(
        {
          text: String(body.text ?? ""),
          user_id: String(body.user_id ?? ""),
          user_name: String(body.user_name ?? ""),
        } satisfies SlackCommandBody,
        { respond: responder(body.response_url) },
      );
      let timer: ReturnType<typeof setTimeout> | undefined;
      const deadline = new Promise<undefined>(
        (resolve) => (timer = setTimeout(() => resolve(undefined), ACK_DEADLINE_MS)),
      );
      deps.waitUntil(work.catch(() => undefined));
      try {
        const answer = await Promise.race([work, deadline]);
        return answer ? { status: 200, body: answer } : { status: 200 };
      } catch (err) {
        log("error", "slack command failed", { error: String((err as Error)?.stack ?? err) });
        return { status: 500, body: { error: "internal error" } };
      } finally {
        clearTimeout(timer);
      }
    }
    return { status: 200 };
  }

  return { dispatch };
}
