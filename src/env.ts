// The environment as a typed config. Only entries read process.env and pass it here.
// Each chat platform adds its own variables (src/chat/<kind>/index.ts `env`).
import { z } from "zod";
import { parseUsers } from "./auth/people";
import { WEBHOOK_SECRET_HINT, WEBHOOK_SECRET_RE } from "./hub/secret-format";
import { PLATFORMS } from "./chat/platforms";
import { bool, int } from "./env-parts";

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

const coreSchema = {
  PORT: int(0, 65535).default(8787),
  HOST: z.string().min(1).default("127.0.0.1"),
  MEND_DB: z.string().min(1).default("./data/mend.db"),
  MEND_FLOWS_DIR: z.string().min(1).default("./flows"),
  MEND_API_TOKEN: z.string().min(16, "must be at least 16 characters (a guessable token is no token)").optional(),
  MEND_USERS: z
    .string()
    .transform((v, ctx) => {
      try {
        return parseUsers(v);
      } catch (err) {
        ctx.addIssue({ code: "custom", message: (err as Error).message });
        return z.NEVER;
      }
    })
    .default([]),
  MEND_MAX_BODY: int(1, 1024 * 1024 * 1024).default(1_048_576),
  MEND_MAX_RESPONSE: int(1, 1024 * 1024 * 1024).default(10 * 1024 * 1024),
  /** Node: who copies the SQLite WAL into the database file (src/store/wal-checkpoints.ts). */
  MEND_WAL_CHECKPOINT: z.enum(["worker", "inline"]).default("worker"),
  MEND_LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).default("info"),
  MEND_RETENTION_DAYS: z.coerce.number().min(0).max(36_500).default(30),
  MEND_SCRIPTS_DIR: z.string().min(1).optional(),
  MEND_GROUP_WINDOW_S: int(0, 86_400 * 30).default(300),
  MEND_WEBHOOK_SECRET: z.string().regex(WEBHOOK_SECRET_RE, WEBHOOK_SECRET_HINT).optional(),
  MEND_BLOCK_PRIVATE_URLS: bool.default(false),
  MEND_PUBLIC_URL: z.url().optional(),
  /** The environment's name (e.g. prod), shown in every alert's title. */
  MEND_ENV: z.string().trim().min(1).max(32).optional(),
};

/** The variables every part of mend reads (chat platforms add theirs to Config). */
export type CoreConfig = z.infer<z.ZodObject<typeof coreSchema>> & { secrets: Record<string, string> };

type Intersect<U> = (U extends unknown ? (k: U) => void : never) extends (k: infer I) => void ? I : never;
type EnvOf<P> = P extends { env: infer E extends z.ZodRawShape } ? z.infer<z.ZodObject<E>> : never;
/** Every platform's variables, typed (SLACK_BOT_TOKEN, DISCORD_API_URL, …). */
type PlatformConfig = Intersect<EnvOf<(typeof PLATFORMS)[number]>>;

export type Config = CoreConfig & PlatformConfig;

const envSchema = z.object(Object.assign({}, coreSchema, ...PLATFORMS.map((p) => p.env)) as typeof coreSchema);

/** Parses the environment; throws ConfigError with one line naming the variable. */
export function parseEnv(raw: Record<string, string | undefined>): Config {
  const cleaned = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw new ConfigError(`${i.path.join(".")}: ${i.message}`);
  }
  for (const p of PLATFORMS) {
    const names: readonly string[] = p.credentials;
    const set = names.filter((n) => cleaned[n] !== undefined);
    if (set.length > 0 && set.length < names.length) {
      const missing = names.filter((n) => !set.includes(n));
      throw new ConfigError(
        `${missing.join(", ")}: must be set together with ${set.join(", ")} (${p.name} stays off until all are set)`,
      );
    }
  }
  const secrets: Record<string, string> = {};
  for (const [k, v] of Object.entries(cleaned))
    if (k.startsWith("MEND_SECRET_") && v) secrets[k.slice("MEND_SECRET_".length)] = v;
  return { ...parsed.data, secrets } as Config;
}
