// The chat messages about a run, as GET /api/runs/:id lists them: { platform, channel, message_id }.
// "About" is what the chat layer edits on a change (AlertRepo.about): the message whose buttons act
// on the run, a group message that counted it, and the message a retry or replay of it was started from.
import { LOOKBACK_MS } from "../chat/deliver";
import type { AlertRepo } from "../store/alerts";

export interface RunMessage {
  platform: string;
  channel: string | null;
  message_id: string | null;
}

const str = (v: unknown) => (typeof v === "string" && v ? v : null);

export async function messagesOf(
  alerts: Pick<AlertRepo, "about">,
  run: { id: string; createdAt: number },
): Promise<RunMessage[]> {
  const out: RunMessage[] = [];
  // A message about a run is never older than the run by more than the lookback (it is not edited after).
  for (const a of await alerts.about(run.id, run.createdAt - LOOKBACK_MS)) {
    const ref = a.ref ?? {};
    // Slack keeps { channel, ts }, Discord { channel_id, message_id }; unposted alerts have no ref yet.
    const messageId = str(ref.ts) ?? str(ref.message_id);
    if (messageId)
      out.push({ platform: a.kind, channel: str(ref.channel) ?? str(ref.channel_id), message_id: messageId });
  }
  return out;
}
