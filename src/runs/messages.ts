// The chat messages about a run, as GET /api/runs/:id lists them: { platform, channel, message_id }.
import type { AlertRepo } from "../store/alerts";

export interface RunMessage {
  platform: string;
  channel: string | null;
  message_id: string | null;
}

const str = (v: unknown) => (typeof v === "string" && v ? v : null);

export async function messagesOf(alerts: Pick<AlertRepo, "forRun">, runId: string): Promise<RunMessage[]> {
  const out: RunMessage[] = [];
  for (const a of await alerts.forRun(runId)) {
    const ref = a.ref ?? {};
    // Slack keeps { channel, ts }, Discord { channel_id, message_id }; unposted alerts have no ref yet.
    const messageId = str(ref.ts) ?? str(ref.message_id);
    if (messageId)
      out.push({ platform: a.kind, channel: str(ref.channel) ?? str(ref.channel_id), message_id: messageId });
  }
  return out;
}
