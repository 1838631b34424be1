// The environment as a typed config. Only entries read process.env and pass it here.
import { z } from "zod";
import { parseUsers } from "./auth/people";
import { WEBHOOK_SECRET_HINT, WEBHOOK_SECRET_RE } from "./hub/secret-format";

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

const bool = z.enum(["true", "false", "1", "0", ""]).transform((v) => v === "true" || v === "1");
const list = z.string().transform((v) => v.split(",").map((s) => s.trim()).filter(Boolean));
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const envSchema = z.object({
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
  MEND_LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).default("info"),
  MEND_RETENTION_DAYS: z.coerce.number().min(0).max(36_500).default(30),
  MEND_SCRIPTS_DIR: z.string().min(1).optional(),
  MEND_GROUP_WINDOW_S: int(0, 86_400 * 30).default(300),
  MEND_WEBHOOK_SECRET: z.string().regex(WEBHOOK_SECRET_RE, WEBHOOK_SECRET_HINT).optional(),
  MEND_BLOCK_PRIVATE_URLS: bool.default(false),
  MEND_PUBLIC_URL: z.url().optional(),
  SLACK_BOT_TOKEN: z.string().min(1).optional(),
  SLACK_SIGNING_SECRET: z.string().min(1).optional(),
  SLACK_API_URL: z.url().default("https://slack.com/api/"),
  SLACK_ALLOWED_USERS: list.default([]),
  DISCORD_BOT_TOKEN: z.string().min(1).optional(),
  DISCORD_PUBLIC_KEY: z.string().regex(/^[0-9a-fA-F]{64}$/, "must be 64 hex characters").optional(),
  DISCORD_APPLICATION_ID: z.string().min(1).optional(),
  DISCORD_API_URL: z.url().default("https://discord.com/api"),
  DISCORD_GATEWAY: bool.default(false),
  DISCORD_ALLOWED_USERS: list.default([]),
  DISCORD_ALLOWED_ROLES: list.default([]),
});

export type Config = z.infer<typeof envSchema> & { secrets: Record<string, string> };

const PAIRS: [string, string[]][] = [
  ["Slack", ["SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"]],
  ["Discord", ["DISCORD_BOT_TOKEN", "DISCORD_PUBLIC_KEY", "DISCORD_APPLICATION_ID"]],
];

/** Parses the environment; throws ConfigError with one line naming the variable. */
export function parseEnv(raw: Record<string, string | undefined>): Config {
  const cleaned = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw new ConfigError(`${i.path.join(".")}: ${i.message}`);
  }
  for (const [what, names] of PAIRS) {
    const set = names.filter((n) => cleaned[n] !== undefined);
    if (set.length > 0 && set.length < names.length) {
      const missing = names.filter((n) => !set.includes(n));
      throw new ConfigError(`${missing.join(", ")}: must be set together with ${set.join(", ")} (${what} stays off until all are set)`);
    }
  }
  const secrets: Record<string, string> = {};
  for (const [k, v] of Object.entries(cleaned)) if (k.startsWith("MEND_SECRET_") && v) secrets[k.slice("MEND_SECRET_".length)] = v;
  return { ...parsed.data, secrets };
}
