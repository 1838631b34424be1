// Editable chat alerts and click idempotency (tables `alerts` and `actions`).
//
// AlertRepo — one row per chat message that mend may edit later:
//   handler_id  the destination key `<kind>:<channel or webhook url>` (targetKey in src/chat/target.ts)
//   kind        platform (`slack`, `discord`)
//   run_id      the run the message's buttons act on (the latest failure of the group)
//   group_key   flow + step + error type (groupKeyOf); same key inside MEND_GROUP_WINDOW_S → same message
//   count       failed runs in the group (1, 2, 3 …)
//   ref         the platform's message ids, e.g. Slack { channel, ts }, Discord { channel_id, message_id };
//               null until the message is posted
//   state       AlertState (below): everything needed to re-render the message from the row alone
//
//   findOpen(target, groupKey, since)   newest open alert of that group created at or after `since`
//   create(row)                          insert
//   get(id) / latestForRun(runId) / forRun(runId)   read
//   update(id, expectedUpdatedAt, patch, now)  compare-and-set on updated_at; undefined when someone
//                                        else changed the row first (re-read and try again)
//   following()                          alerts whose activity is `running` (a clicked retry/replay)
//   laterSuccesses(since)                posted, not closed alerts whose flow succeeded after them
//   mutesEnded(now) / nextMuteEnd()      alerts saying "Muted … until" a time now past / the earliest such time
//
// ActionRepo — exactly-once for clicks: claim(key, runId, now) inserts the key and returns true only
// for the first caller; setResult(key, result) records what happened; get(key) reads it back.
import { and, desc, eq, gte, isNotNull, sql } from "drizzle-orm";
import { actions, alerts, runs } from "../../db/schema";
import type { AlertPayload, RunStatus } from "../engine/ports";
import type { ErrorContext } from "../engine/errors";
import { type BatchItem, type Database, type Read, readTogether } from "./database";

/** A button's action (src/chat/actions.ts) or a run action taken elsewhere (API, pages). */
export type ChatAction = string;

export interface ChatUser {
  id: string;
  name?: string;
}

/** What happened after a click (the line under the alert). */
export interface AlertActivity {
  action: ChatAction;
  by: ChatUser;
  at: number;
  /** retry: the same run; replay: the new run; mute: the alert's run. */
  run_id: string;
  phase: "running" | "done";
  /** Set when phase is done: the followed run's final status. */
  outcome?: RunStatus;
  error?: ErrorContext;
  /** For a click that could not run (e.g. the run is not failed any more). */
  note?: string;
}

/** A silence's matchers (src/store/silences.ts): null matches anything. */
export interface MuteScope {
  flow: string | null;
  step: string | null;
  error_type: string | null;
}

/** The alert's main run as last seen: what decides the message's tone and its buttons. */
export interface RunFacts {
  status: RunStatus;
  /** External failure: whether it has a retry_url / replay_url. */
  external?: { source: string; job: string; retry: boolean; replay: boolean };
  acked?: { by: string; at: number };
  resolved?: { by: string; at: number; note: string | null };
  /** An active silence covers it; `scope`: what it covers (null: any), absent on rows written before it. */
  muted?: { by: string; until: number | null; scope?: MuteScope };
  /** The flow's latest version, when it is newer than the run's (Retry on latest). */
  newer?: number;
}

export interface AlertState {
  /** The latest failure of the group (already redacted by the engine). */
  payload: AlertPayload;
  /** Increases whenever fresh buttons are shown; a click carries the generation it was rendered with. */
  gen: number;
  /** The run the buttons act on (normally payload.run.id; after "failed again" the followed run). */
  target_run: string;
  activity?: AlertActivity;
  muted?: { by: ChatUser; until: number; silence_id: string };
  /** Outbox deliveries already applied (redeliveries after a 429 never count twice). */
  deliveries: string[];
  /** Runs counted in `count` (the latest 50). */
  runs?: string[];
  /** Set when the run ended outside the engine (e.g. an external job reported success). */
  resolved?: { status: RunStatus; at: number; note: string };
  /** A resolved group (its run succeeded after a click) takes no new failures. */
  closed?: boolean;
  /** The escalation was posted in the thread (src/chat/escalation.ts). */
  escalated?: { at: number; mention: string[] };
  /** resolve_on_success: a later run of the flow succeeded (src/chat/fixed.ts). */
  fixed?: { run_id: string; at: number };
  /** The handler said `resolve_on_success: false`: a later success leaves this alert open. */
  keep_open?: boolean;
  /** The main run (target_run) as last seen; absent on rows written before it existed. */
  facts?: RunFacts;
  /** Runs started from this message (retries, replays): their ends go to its thread, never into its count. */
  follow?: string[];
  /** Followed runs whose end was told in the thread already (a run's end is told once). */
  told?: string[];
  /** The handler's `show_input` and `links` (src/chat/context.ts), kept so every redraw shows them. */
  display?: { show_input?: string[]; links?: { text: string; url: string }[] };
}

export interface AlertRecord {
  id: string;
  target: string;
  kind: string;
  runId: string;
  groupKey: string;
  count: number;
  ref: Record<string, unknown> | null;
  state: AlertState;
  createdAt: number;
  updatedAt: number;
}

export type AlertPatch = Partial<Pick<AlertRecord, "runId" | "count" | "ref" | "state">>;

type Row = typeof alerts.$inferSelect;

/** When the message's mute ends (null: not muted, or until resolved); its rows are in the index alerts_muted. */
const MUTED_UNTIL = sql`json_extract(${alerts.state}, '$.facts.muted.until')`;

function toAlert(r: Row): AlertRecord {
  return {
    id: r.id,
    target: r.handlerId ?? "",
    kind: r.kind,
    runId: r.runId,
    groupKey: r.groupKey,
    count: r.count,
    ref: (r.ref as Record<string, unknown> | null) ?? null,
    state: r.state as AlertState,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}

/** flow + failed step + error type: failures with the same key are grouped. */
export function groupKeyOf(p: AlertPayload): string {
  return JSON.stringify([p.run.flow, p.error.step ?? "", p.error.type]);
}

export class AlertRepo {
  constructor(private readonly d: Database) {}

  async get(id: string): Promise<AlertRecord | undefined> {
    const row = await this.d.db.select().from(alerts).where(eq(alerts.id, id)).get();
    return row ? toAlert(row) : undefined;
  }

  async findOpen(target: string, groupKey: string, since: number): Promise<AlertRecord | undefined> {
    return this.readOne(this.findOpenRead(target, groupKey, since));
  }

  findOpenRead(target: string, groupKey: string, since: number): Read<AlertRecord | undefined> {
    const query = this.d.db
      .select()
      .from(alerts)
      .where(and(eq(alerts.handlerId, target), eq(alerts.groupKey, groupKey), gte(alerts.createdAt, since)))
      .orderBy(desc(alerts.createdAt))
      .limit(1);
    return {
      item: { query, returning: true },
      parse: (rows) => {
        const a = rows[0] ? toAlert(rows[0] as Row) : undefined;
        return a && !a.state.closed ? a : undefined;
      },
    };
  }

  /** Reads of this and other repos in one batch (one D1 round trip). */
  read<T extends unknown[]>(reads: { [K in keyof T]: Read<T[K]> | undefined }) {
    return readTogether<T>(this.d, reads);
  }

  private async readOne<T>(r: Read<T>): Promise<T> {
    return r.parse((await r.item.query.all()) as unknown[]);
  }

  async latestForRun(runId: string, kind?: string): Promise<AlertRecord | undefined> {
    const row = await this.d.db
      .select()
      .from(alerts)
      .where(kind ? and(eq(alerts.runId, runId), eq(alerts.kind, kind)) : eq(alerts.runId, runId))
      .orderBy(desc(alerts.updatedAt))
      .limit(1)
      .get();
    return row ? toAlert(row) : undefined;
  }

  /** Inserts the alert; `with`: writes committed in the same transaction (the outbox row's delivery). */
  async create(a: Omit<AlertRecord, "updatedAt">, withWrites: BatchItem[] = []): Promise<AlertRecord> {
    const row = {
      id: a.id,
      handlerId: a.target,
      kind: a.kind,
      runId: a.runId,
      groupKey: a.groupKey,
      count: a.count,
      ref: a.ref,
      state: a.state,
      createdAt: a.createdAt,
      updatedAt: a.createdAt,
    };
    const insert = this.d.db.insert(alerts).values(row);
    if (withWrites.length) await this.d.batch([{ query: insert }, ...withWrites]);
    else await insert.run();
    return toAlert(row);
  }

  /** Compare-and-set on updated_at; the new updated_at is strictly larger. */
  async update(
    id: string,
    expectedUpdatedAt: number,
    patch: AlertPatch,
    now: number,
  ): Promise<AlertRecord | undefined> {
    const set: Partial<typeof alerts.$inferInsert> = { updatedAt: Math.max(now, expectedUpdatedAt + 1) };
    if (patch.runId !== undefined) set.runId = patch.runId;
    if (patch.count !== undefined) set.count = patch.count;
    if (patch.ref !== undefined) set.ref = patch.ref;
    if (patch.state !== undefined) set.state = patch.state;
    const [rows] = await this.d.batch([
      {
        query: this.d.db
          .update(alerts)
          .set(set)
          .where(and(eq(alerts.id, id), eq(alerts.updatedAt, expectedUpdatedAt)))
          .returning(),
        returning: true,
      },
    ]);
    const row = (rows as Row[] | undefined)?.[0];
    return row ? toAlert(row) : undefined;
  }

  async forRun(runId: string): Promise<AlertRecord[]> {
    return (await this.d.db.select().from(alerts).where(eq(alerts.runId, runId)).orderBy(alerts.createdAt).all()).map(
      toAlert,
    );
  }

  /**
   * Alerts about `runId` created since `since`: it is their main run, one of their group, or a run
   * started from them. Pre-filtered in SQL on the row, checked exactly here.
   */
  async about(runId: string, since: number): Promise<AlertRecord[]> {
    return this.readOne(this.aboutRead(runId, since));
  }

  aboutRead(runId: string, since: number): Read<AlertRecord[]> {
    const quoted = JSON.stringify(runId);
    const query = this.d.db
      .select()
      .from(alerts)
      .where(
        and(gte(alerts.createdAt, since), sql`(${alerts.runId} = ${runId} OR instr(${alerts.state}, ${quoted}) > 0)`),
      )
      .orderBy(alerts.createdAt)
      .limit(200);
    return { item: { query, returning: true }, parse: (rows) => this.aboutOf(runId, rows as Row[]) };
  }

  private aboutOf(runId: string, rows: Row[]): AlertRecord[] {
    return rows
      .map(toAlert)
      .filter(
        (a) =>
          a.runId === runId ||
          a.state.target_run === runId ||
          a.state.runs?.includes(runId) ||
          a.state.follow?.includes(runId) ||
          a.state.activity?.run_id === runId,
      );
  }

  /** True when at least one alert row exists (a cheap check before looking for messages to edit). */
  async any(): Promise<boolean> {
    return (await this.d.db.select({ id: alerts.id }).from(alerts).limit(1).get()) !== undefined;
  }

  /**
   * Posted alerts created since `since`, neither closed nor kept open, each with its flow's latest
   * run that succeeded after the alert was created (resolve_on_success). Driven from the alerts:
   * one lookup in the partial index runs_succeeded per alert, never a scan of the runs.
   */
  async laterSuccesses(
    since: number,
    limit = 200,
  ): Promise<{ id: string; runId: string; flow: string; finishedAt: number | null }[]> {
    const open = sql`coalesce(json_extract(${alerts.state}, '$.closed'), 0) = 0 and coalesce(json_extract(${alerts.state}, '$.keep_open'), 0) = 0`;
    const latest = sql`(select s.id from runs s where s.status = 'succeeded'
      and s.flow = json_extract(${alerts.groupKey}, '$[0]') and s.finished_at > ${alerts.createdAt}
      order by s.finished_at desc limit 1)`;
    return this.d.db
      .select({ id: alerts.id, runId: runs.id, flow: runs.flow, finishedAt: runs.finishedAt })
      .from(alerts)
      .innerJoin(runs, sql`${runs.id} = ${latest}`)
      .where(and(gte(alerts.createdAt, since), isNotNull(alerts.ref), open))
      .orderBy(desc(runs.finishedAt))
      .limit(limit)
      .all();
  }

  /** Open (not closed) alerts of `flow` created since `since`: a new version of the flow may change their buttons. */
  async openOfFlow(flow: string, since: number, limit = 200): Promise<AlertRecord[]> {
    const rows = await this.d.db
      .select()
      .from(alerts)
      .where(
        and(
          gte(alerts.createdAt, since),
          sql`json_extract(${alerts.groupKey}, '$[0]') = ${flow}`,
          sql`coalesce(json_extract(${alerts.state}, '$.closed'), 0) = 0`,
        ),
      )
      .orderBy(alerts.createdAt)
      .limit(limit)
      .all();
    return rows.map(toAlert);
  }

  /** Messages saying "Muted … until" a time at or before `now`: the silence has ended since (alerts_muted). */
  async mutesEnded(now: number, limit = 100): Promise<AlertRecord[]> {
    const rows = await this.d.db
      .select()
      .from(alerts)
      .where(and(sql`${MUTED_UNTIL} is not null`, sql`${MUTED_UNTIL} <= ${now}`))
      .orderBy(alerts.updatedAt)
      .limit(limit)
      .all();
    return rows.map(toAlert);
  }

  /** The earliest "Muted … until" a message shows, if any does. */
  async nextMuteEnd(): Promise<number | null> {
    const row = await this.d.db
      .select({ at: sql<number | null>`min(${MUTED_UNTIL})` })
      .from(alerts)
      .where(sql`${MUTED_UNTIL} is not null`)
      .get();
    return row?.at ?? null;
  }

  /** Alerts following a clicked retry/replay that has not been reported yet. */
  async following(limit = 100): Promise<AlertRecord[]> {
    const rows = await this.d.db
      .select()
      .from(alerts)
      .where(sql`json_extract(${alerts.state}, '$.activity.phase') = 'running'`)
      .orderBy(alerts.updatedAt)
      .limit(limit)
      .all();
    return rows.map(toAlert);
  }
}

export class ActionRepo {
  constructor(private readonly d: Database) {}

  /** True for the first claim of `key`; false when it was claimed before. */
  async claim(key: string, runId: string, now: number): Promise<boolean> {
    const [rows] = await this.d.batch([
      {
        query: this.d.db
          .insert(actions)
          .values({ key, runId, result: null, createdAt: now })
          .onConflictDoNothing()
          .returning({ key: actions.key }),
        returning: true,
      },
    ]);
    return (rows?.length ?? 0) > 0;
  }

  async setResult(key: string, result: unknown): Promise<void> {
    await this.d.db.update(actions).set({ result }).where(eq(actions.key, key)).run();
  }

  async get(key: string): Promise<{ key: string; runId: string; result: unknown; createdAt: number } | undefined> {
    return (await this.d.db.select().from(actions).where(eq(actions.key, key)).get()) ?? undefined;
  }
}
