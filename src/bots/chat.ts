// ChatAlerts: the chat-neutral part of delivering and editing alert messages. Slack uses it now;
// Discord reuses it unchanged. One instance lives in deps.chat (built in src/services.ts).
//
//   chat.deliver({ kind, target, payload, deliveryId, post, update? })
//     Called by a platform Sender for one outbox row (or one `script:` call). Under a per-group
//     lock it finds the open alert of (target, flow+step+error type) created inside
//     MEND_GROUP_WINDOW_S. If there is none it creates an alert row and calls post(alert), which
//     must post the message and return its platform ids (stored as alert.ref). Otherwise it bumps
//     the count (once per run, and once per deliveryId: a redelivery after a 429 never counts
//     twice), shows the new failure's run with fresh buttons and calls update(alert) to edit the
//     message in place. A platform that cannot edit (incoming webhooks) omits update: grouped
//     failures are then only counted. Errors from post/update propagate (throw DeliveryError with
//     retryAfterMs for a 429): the outbox retries, and the row's state makes the retry post or
//     edit exactly what is missing. Returns { alert, action: "posted" | "updated" | "counted" }.
//
//   chat.registerEditor(kind, edit)   edit(alert) re-renders the alert (alertFromRecord) and edits
//     its message using alert.ref. Used after clicks and when a followed run ends; a failed edit
//     is retried a few times (after retryAfterMs when the error carries one).
//
//   chat.change(alertId, fn, { edit = true })
//     Read-modify-write of one alert with compare-and-set: fn(alert) returns an AlertPatch, or
//     undefined to change nothing. Serialized per alert with the message edit that follows, so
//     edits reach the platform in order. Returns { alert, changed }.
//
//   targetKey(kind, config)  the alerts.handler_id value for a sender call: `<kind>:<channel id>`
//     or `<kind>:webhook:<hash of the url>`. A Sender is not told which handler it serves, so
//     groups are per destination: two handlers posting to one channel share one message per group.
//
// Adding a platform (the Slack files are the worked example):
//   1. src/handlers/<kind>.ts: a Sender that calls chat.deliver with post/update drawing
//      alertFromRecord(alert, { messageLimit, publicUrl }) (see createSlackHandler), and an
//      Editor for chat.registerEditor(kind, …); register both in src/services.ts.
//   2. the platform's interaction endpoint: verify the signature, decodeButton(custom id), decide
//      the allow-list, call deps.clicks.handle({ platform: kind, … }) and answer result.reply
//      privately when it is set (src/bots/clicks.ts).
import type { Clock, AlertPayload } from "../engine/ports";
import type { Log } from "../deps";
import { type AlertPatch, type AlertRecord, type AlertRepo, groupKeyOf } from "../store/alerts";

const MAX_DELIVERIES = 50;
const EDIT_RETRIES = 3;

export type Editor = (alert: AlertRecord) => Promise<void>;

export interface DeliverOptions {
  kind: string;
  target: string;
  payload: AlertPayload;
  deliveryId: string;
  post(alert: AlertRecord): Promise<Record<string, unknown>>;
  update?(alert: AlertRecord): Promise<void>;
}

export interface ChatAlertsDeps {
  alerts: AlertRepo;
  clock: Clock;
  newId: () => string;
  log: Log;
  /** MEND_GROUP_WINDOW_S in milliseconds; 0 turns grouping off. */
  windowMs: number;
  publicUrl?: string;
}

/** Runs async sections one at a time per key (in this process). */
export class KeyedLock {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const tail = prev.then(() => mine);
    this.tails.set(key, tail);
    await prev;
    try {
      return await fn();
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}

export function targetKey(kind: string, config: Record<string, unknown>): string {
  const channel = config.channel ?? config.channel_id;
  if (typeof channel === "string" && channel) return `${kind}:${channel}`;
  // A webhook URL is a credential: only a hash of it is stored.
  return `${kind}:webhook:${fnv1a(String(config.webhook_url ?? ""))}`;
}

function fnv1a(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, "0");
}

export class ChatAlerts {
  readonly alerts: AlertRepo;
  private readonly editors = new Map<string, Editor>();
  private readonly groupLock = new KeyedLock();
  private readonly alertLock = new KeyedLock();

  constructor(readonly deps: ChatAlertsDeps) {
    this.alerts = deps.alerts;
  }

  registerEditor(kind: string, edit: Editor): void {
    this.editors.set(kind, edit);
  }

  async deliver(o: DeliverOptions): Promise<{ alert: AlertRecord; action: "posted" | "updated" | "counted" }> {
    const groupKey = groupKeyOf(o.payload);
    return this.groupLock.run(`${o.target}\u0000${groupKey}`, async () => {
      const now = this.deps.clock.now();
      let open = this.deps.windowMs > 0 ? await this.alerts.findOpen(o.target, groupKey, now - this.deps.windowMs) : undefined;
      if (!open) {
        // A redelivery of the failure that created a (still unposted) alert finds it here too,
        // unless the window closed meanwhile: then the outbox row simply gets its own message.
        open = await this.alerts.create({
          id: this.deps.newId(),
          target: o.target,
          kind: o.kind,
          runId: o.payload.run.id,
          groupKey,
          count: 1,
          ref: null,
          state: { payload: o.payload, gen: 1, target_run: o.payload.run.id, deliveries: [o.deliveryId], runs: [o.payload.run.id] },
          createdAt: now,
        });
        return this.alertLock.run(open.id, () => this.postOrUpdate(open!, o));
      }
      const id = open.id;
      return this.alertLock.run(id, async () => {
        const { alert } = await this.mutate(id, (a) => {
          const s = a.state;
          if (s.deliveries.includes(o.deliveryId)) return undefined;
          // The count is of runs: the same run again (a retry that failed again, or a `script:`
          // step and a handler both sending its failure) refreshes the message without counting.
          const runs = s.runs ?? [a.runId];
          const newRun = !runs.includes(o.payload.run.id);
          const sameFailure = s.activity?.run_id === o.payload.run.id;
          const keepActivity = s.activity && (s.activity.phase === "running" || sameFailure);
          return {
            runId: o.payload.run.id,
            count: newRun ? a.count + 1 : a.count,
            state: {
              ...s,
              payload: o.payload,
              gen: newRun ? s.gen + 1 : s.gen,
              target_run: o.payload.run.id,
              activity: keepActivity ? s.activity : undefined,
              deliveries: [...s.deliveries, o.deliveryId].slice(-MAX_DELIVERIES),
              runs: newRun ? [...runs, o.payload.run.id].slice(-MAX_DELIVERIES) : runs,
            },
          };
        });
        if (!alert) throw new Error(`alert ${id} disappeared`);
        return this.postOrUpdate(alert, o);
      });
    });
  }

  private async postOrUpdate(alert: AlertRecord, o: DeliverOptions): Promise<{ alert: AlertRecord; action: "posted" | "updated" | "counted" }> {
    if (!alert.ref) {
      const ref = await o.post(alert);
      const { alert: saved } = await this.mutate(alert.id, () => ({ ref }));
      return { alert: saved ?? { ...alert, ref }, action: "posted" };
    }
    if (!o.update) return { alert, action: "counted" };
    await o.update(alert);
    return { alert, action: "updated" };
  }

  async change(alertId: string, fn: (a: AlertRecord) => AlertPatch | undefined, opts: { edit?: boolean } = {}): Promise<{ alert: AlertRecord | undefined; changed: boolean }> {
    return this.alertLock.run(alertId, async () => {
      const r = await this.mutate(alertId, fn);
      if (r.changed && r.alert && opts.edit !== false) await this.edit(r.alert);
      return r;
    });
  }

  /**
   * Re-renders the alert's message through its platform's editor. A failed edit is logged and
   * tried again a few times (after Retry-After when the platform gave one), with the alert's
   * state as it is then; a permanent error (DeliveryError.permanent) is not retried.
   */
  async edit(alert: AlertRecord, attempt = 0): Promise<void> {
    const editor = this.editors.get(alert.kind);
    if (!editor || !alert.ref) return;
    try {
      await editor(alert);
    } catch (err) {
      const e = err as { message?: string; retryAfterMs?: number; permanent?: boolean };
      const again = !e?.permanent && attempt < EDIT_RETRIES;
      this.deps.log("warn", `could not edit chat alert${again ? "; trying again" : ""}`, { alert: alert.id, kind: alert.kind, error: String(e?.message ?? err) });
      if (!again) return;
      const wait = Math.max(e.retryAfterMs ?? 0, 1000 * 2 ** attempt);
      this.deps.clock.setTimer(wait, () => {
        void this.alertLock
          .run(alert.id, async () => {
            const latest = await this.alerts.get(alert.id);
            if (latest && latest.updatedAt === alert.updatedAt) await this.edit(latest, attempt + 1);
          })
          .catch(() => undefined);
      });
    }
  }

  private async mutate(alertId: string, fn: (a: AlertRecord) => AlertPatch | undefined): Promise<{ alert: AlertRecord | undefined; changed: boolean }> {
    for (let i = 0; i < 20; i++) {
      const a = await this.alerts.get(alertId);
      if (!a) return { alert: undefined, changed: false };
      const patch = fn(a);
      if (!patch) return { alert: a, changed: false };
      const saved = await this.alerts.update(alertId, a.updatedAt, patch, this.deps.clock.now());
      if (saved) return { alert: saved, changed: true };
    }
    throw new Error(`alert ${alertId} keeps changing; giving up`);
  }
}
