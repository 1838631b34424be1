// ChatAlerts: the platform-neutral part of delivering and editing alert messages. One instance
// lives in deps.chat (built in src/services.ts) and holds every connected platform.
//
//   chat.sender(kind)  the Sender for handler kind `slack`, `discord`, … (outbox rows and
//     `script:` steps). It checks the config (ChatConnection.target) and calls deliver().
//
//   chat.deliver({ kind, config, payload, deliveryId, fetch })
//     Under a per-group lock it finds the open alert of (target, flow+step+error type) created
//     inside MEND_GROUP_WINDOW_S. If there is none it creates an alert row and posts the message
//     (ChatConnection.post; its ids are stored as alert.ref). Otherwise it bumps the count (once
//     per run, and once per deliveryId: a redelivery after a 429 never counts twice), shows the new
//     failure's run with fresh buttons and edits the message in place. A message that cannot be
//     edited (a Slack incoming webhook) is only counted. Errors propagate (DeliveryError, with
//     retryAfterMs for a 429): the outbox retries, and the row's state makes the retry post or
//     edit exactly what is missing. Returns { alert, action: "posted" | "updated" | "counted" }.
//
//   chat.change(alertId, fn, { edit = true })
//     Read-modify-write of one alert with compare-and-set: fn(alert) returns an AlertPatch, or
//     undefined to change nothing. Serialized per alert with the message edit that follows, so
//     edits reach the platform in order. Returns { alert, changed }.
//
//   chat.edit(alert)   redraws the alert's message (a failed edit is retried a few times).
//
//   Groups are per destination (targetKey in ./target.ts): a Sender is not told which handler it
//   serves, so two handlers posting to one channel share one message per group.
import type { Clock, AlertPayload, RunRecord } from "../engine/ports";
import type { Log } from "../deps";
import { DeliveryError, type DeliveryContext, type Sender } from "../handlers/types";
import { type AlertPatch, type AlertRecord, type AlertRepo, groupKeyOf, type RunFacts } from "../store/alerts";
import type { Read } from "../store/database";
import { alertFromRecord, type AlertModel } from "./model";
import { oncallOf } from "./oncall-config";
import type { ChatConnection, ChatPlatform } from "./platform";
import { parseTarget, targetKey, type ChatTarget } from "./target";

const MAX_DELIVERIES = 50;
const EDIT_RETRIES = 3;

export interface DeliverOptions {
  kind: string;
  config: Record<string, unknown>;
  payload: AlertPayload;
  deliveryId: string;
  /** Outbound fetch (URL-checked) for webhook URLs. */
  fetch: typeof fetch;
  /** The outbox row's delivery, committed with a new alert's row (DeliveryContext.delivered). */
  delivered?: DeliveryContext["delivered"];
}

/** A platform and its connection for these services. */
export interface Connected {
  platform: Pick<ChatPlatform, "kind" | "name" | "limits" | "channel">;
  conn: ChatConnection;
}

export interface ChatAlertsDeps {
  alerts: AlertRepo;
  clock: Clock;
  newId: () => string;
  log: Log;
  /** MEND_GROUP_WINDOW_S in milliseconds; 0 turns grouping off. */
  windowMs: number;
  publicUrl?: string;
  /** MEND_ENV, in every alert's title. */
  env?: string;
  platforms: Connected[];
  /** Outbound fetch (URL-checked) for edits through webhook URLs. */
  fetch: typeof fetch;
  /** An alert was just closed (fixed, or its run succeeded after a click). */
  onClosed?: (a: AlertRecord) => Promise<void>;
  /** A run's read, to join the delivery's batch. */
  runRead: (runId: string) => Read<RunRecord | undefined>;
  /** The facts of a run (src/chat/facts.ts), stored with its message. */
  facts: (run: RunRecord) => Promise<RunFacts>;
}

/** Messages older than this are not edited (or threaded into) any more. */
export const LOOKBACK_MS = 30 * 86_400_000;

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

export class ChatAlerts {
  readonly alerts: AlertRepo;
  private readonly byKind = new Map<string, Connected>();
  private readonly groupLock = new KeyedLock();
  private readonly alertLock = new KeyedLock();
  private readonly pausedUntil = new Map<string, number>();
  /** Whether an alert row exists: undefined until asked, true once one was seen or made. */
  private known: boolean | undefined;

  constructor(readonly deps: ChatAlertsDeps) {
    this.alerts = deps.alerts;
    for (const c of deps.platforms) this.byKind.set(c.platform.kind, c);
  }

  /**
   * Runs one call to platform `kind`. A rate limit (DeliveryError.rateLimited) pauses every call to
   * that platform until its Retry-After has passed: calls meanwhile fail at once the same way,
   * without reaching the platform, and their callers try again later.
   */
  async call<T>(kind: string, fn: () => Promise<T>): Promise<T> {
    const wait = this.pausedFor(kind);
    if (wait > 0)
      throw new DeliveryError(`${kind} is rate limited for ${wait} ms more`, wait, { status: 429 }, false, true);
    try {
      return await fn();
    } catch (err) {
      if (err instanceof DeliveryError && err.rateLimited) {
        const until = this.deps.clock.now() + (err.retryAfterMs ?? 1000);
        this.pausedUntil.set(kind, Math.max(until, this.pausedUntil.get(kind) ?? 0));
      }
      throw err;
    }
  }

  /** How long platform `kind` is still paused by a rate limit (ms; 0 when it is not). */
  pausedFor(kind: string): number {
    return Math.max(0, (this.pausedUntil.get(kind) ?? 0) - this.deps.clock.now());
  }

  /** Whether any alert row exists (cached once true): nothing to edit before the first. */
  async hasAlerts(): Promise<boolean> {
    // Rows are only made by deliver() here, which sets it; other processes have their own services.
    this.known ??= await this.alerts.any();
    return this.known;
  }

  /**
   * Posts `text` in the thread of the alert's message. A rate limit is waited out (a few times);
   * a failure is logged, never thrown.
   */
  async reply(alert: AlertRecord, text: string, attempt = 0): Promise<void> {
    const conn = this.connection(alert.kind);
    if (!conn || !alert.ref) return;
    try {
      await this.call(alert.kind, () => conn.reply(alert.ref!, text));
    } catch (err) {
      const e = err as { message?: string; retryAfterMs?: number; rateLimited?: boolean };
      const again = e?.rateLimited === true && attempt < EDIT_RETRIES;
      this.deps.log("warn", `could not post in the chat alert's thread${again ? "; trying again" : ""}`, {
        alert: alert.id,
        kind: alert.kind,
        error: String(e?.message ?? err),
      });
      if (again)
        this.deps.clock.setTimer(
          e.retryAfterMs ?? 1000,
          () => void this.reply(alert, text, attempt + 1).catch(() => undefined),
        );
    }
  }

  /** The connected platforms, in PLATFORMS order. */
  get platforms(): Connected[] {
    return this.deps.platforms;
  }

  connection(kind: string): ChatConnection | undefined {
    return this.byKind.get(kind)?.conn;
  }

  /** The alert as its platform draws it. */
  model(alert: AlertRecord): AlertModel {
    const limit = this.byKind.get(alert.kind)?.platform.limits.message ?? 2000;
    return alertFromRecord(alert, { messageLimit: limit, publicUrl: this.deps.publicUrl, env: this.deps.env });
  }

  /** The Sender of handler kind `kind` (outbox deliveries and `script:` steps). */
  sender(kind: string): Sender {
    return async (config, payload, ctx) => {
      const { alert, action } = await this.deliver({
        kind,
        config,
        payload,
        deliveryId: ctx.deliveryId,
        fetch: ctx.fetch,
        delivered: ctx.delivered,
      });
      return senderAnswer(alert, action);
    };
  }

  async deliver(
    o: DeliverOptions,
  ): Promise<{ alert: AlertRecord; action: "posted" | "updated" | "counted" | "threaded" }> {
    const c = this.byKind.get(o.kind);
    if (!c) throw new Error(`no chat platform '${o.kind}'`);
    const conn = c.conn;
    const where = parseTarget(c.platform, o.config);
    if (where.channel && !conn.bot)
      throw new DeliveryError(
        `${o.kind} handler with \`${c.platform.channel.field}\` needs the bot token (${c.platform.name}), or use \`webhook_url\``,
        undefined,
        undefined,
        true,
      );
    const target = targetKey(o.kind, where);
    const runId = o.payload.run.id;
    const { show_input, links } = oncallOf(o.config);
    const display = show_input || links ? { show_input, links } : undefined;
    const groupKey = groupKeyOf(o.payload);
    return this.groupLock.run(`${target}\u0000${groupKey}`, async () => {
      const now = this.deps.clock.now();
      // One batch (one D1 round trip): the messages about the run, the group's open alert, the run.
      const [about, open, run] = await this.alerts.read([
        this.known === false ? undefined : this.alerts.aboutRead(runId, now - LOOKBACK_MS),
        this.deps.windowMs > 0 ? this.alerts.findOpenRead(target, groupKey, now - this.deps.windowMs) : undefined,
        this.deps.runRead(runId),
      ]);
      // A run started from a message (a retry or replay) that fails again is told in that message's
      // thread (src/chat/updates.ts), never counted into its group or posted anew.
      const origin = about?.find((a) => a.target === target && a.state.follow?.includes(runId));
      if (origin) return { alert: origin, action: "threaded" as const };
      const facts = run ? await this.deps.facts(run) : undefined;
      if (!open) {
        // A failed post stores the alert unposted: a redelivery of the failure finds it here and
        // posts it, unless the window closed meanwhile (then the outbox row gets its own message).
        const fresh: AlertRecord = {
          id: this.deps.newId(),
          target,
          kind: o.kind,
          runId: o.payload.run.id,
          groupKey,
          count: 1,
          ref: null,
          state: {
            payload: o.payload,
            gen: 1,
            target_run: runId,
            deliveries: [o.deliveryId],
            runs: [runId],
            facts,
            display,
          },
          createdAt: now,
          updatedAt: now,
        };
        return this.alertLock.run(fresh.id, () => this.postNew(fresh, o, conn, where));
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
              facts: facts ?? s.facts,
              display: display ?? s.display,
            },
          };
        });
        if (!alert) throw new Error(`alert ${id} disappeared`);
        return this.postOrUpdate(alert, o, conn, where);
      });
    });
  }

  /**
   * Posts a new alert, then stores it with its message ids, in one transaction with the outbox
   * row's delivery when the dispatcher offers it (one D1 round trip). The group lock is held
   * meanwhile, so this process's next failure of the group finds the row.
   */
  private async postNew(
    alert: AlertRecord,
    o: DeliverOptions,
    conn: ChatConnection,
    where: ChatTarget,
  ): Promise<{ alert: AlertRecord; action: "posted" }> {
    let ref: Record<string, unknown>;
    try {
      ref = await this.call(o.kind, () => conn.post(where, this.model(alert), { alertId: alert.id, fetch: o.fetch }));
    } catch (err) {
      await this.alerts.create(alert);
      this.known = true;
      throw err;
    }
    const posted = { ...alert, ref };
    await this.alerts.create(posted, o.delivered ? [o.delivered(senderAnswer(posted, "posted"))] : []);
    this.known = true;
    return { alert: posted, action: "posted" };
  }

  private async postOrUpdate(
    alert: AlertRecord,
    o: DeliverOptions,
    conn: ChatConnection,
    where: ChatTarget,
  ): Promise<{ alert: AlertRecord; action: "posted" | "updated" | "counted" | "threaded" }> {
    if (!alert.ref) {
      const ref = await this.call(o.kind, () =>
        conn.post(where, this.model(alert), { alertId: alert.id, fetch: o.fetch }),
      );
      const { alert: saved } = await this.mutate(alert.id, () => ({ ref }));
      return { alert: saved ?? { ...alert, ref }, action: "posted" };
    }
    if (!conn.canEdit(alert.ref, where)) return { alert, action: "counted" };
    await this.call(o.kind, () => conn.edit(alert.ref!, this.model(alert), { target: where, fetch: o.fetch }));
    return { alert, action: "updated" };
  }

  async change(
    alertId: string,
    fn: (a: AlertRecord) => AlertPatch | undefined,
    opts: { edit?: boolean } = {},
  ): Promise<{ alert: AlertRecord | undefined; changed: boolean }> {
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
    const conn = this.connection(alert.kind);
    if (!conn || !alert.ref || !conn.canEdit(alert.ref)) return;
    try {
      await this.call(alert.kind, () => conn.edit(alert.ref!, this.model(alert), { fetch: this.deps.fetch }));
    } catch (err) {
      const e = err as { message?: string; retryAfterMs?: number; permanent?: boolean };
      const again = !e?.permanent && attempt < EDIT_RETRIES;
      this.deps.log("warn", `could not edit chat alert${again ? "; trying again" : ""}`, {
        alert: alert.id,
        kind: alert.kind,
        error: String(e?.message ?? err),
      });
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

  private async mutate(
    alertId: string,
    fn: (a: AlertRecord) => AlertPatch | undefined,
  ): Promise<{ alert: AlertRecord | undefined; changed: boolean }> {
    for (let i = 0; i < 20; i++) {
      const a = await this.alerts.get(alertId);
      if (!a) return { alert: undefined, changed: false };
      const patch = fn(a);
      if (!patch) return { alert: a, changed: false };
      const saved = await this.alerts.update(alertId, a.updatedAt, patch, this.deps.clock.now());
      if (saved && saved.state.closed && !a.state.closed && this.deps.onClosed)
        await this.deps
          .onClosed(saved)
          .catch((err: unknown) =>
            this.deps.log("warn", "a closed alert's follow-up failed", { alert: alertId, error: String(err) }),
          );
      if (saved) return { alert: saved, changed: true };
    }
    throw new Error(`alert ${alertId} keeps changing; giving up`);
  }
}

/** What a chat Sender answers (recorded in the outbox row). */
function senderAnswer(alert: AlertRecord, action: string): Record<string, unknown> {
  return { alert_id: alert.id, action, count: alert.count, ...(alert.ref ?? {}) };
}
