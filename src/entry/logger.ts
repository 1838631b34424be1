// The Node log: pino, one JSON object per line (pretty only on a terminal), secrets replaced.
import { createRequire } from "node:module";
import pino, { type DestinationStream, type Logger } from "pino";
import type { Log, LogLevel } from "../deps";
import { makeRedactor } from "../engine/redact";

export interface NodeLogOptions {
  level: LogLevel;
  /** Values never written: MEND_SECRET_*, tokens, signing secrets. */
  secrets: Record<string, string>;
  destination?: DestinationStream;
  pretty?: boolean;
}

// Field names whose values are never written, wherever they sit in a log line.
const SECRET_KEYS = ["authorization", "cookie", "token", "secret", "password", "signature"];

/** pino-pretty is a dev dependency: without it (production install), lines stay JSON. */
function prettyStream(): DestinationStream | undefined {
  try {
    const pretty = createRequire(import.meta.url)("pino-pretty") as (o: object) => DestinationStream;
    return pretty({ colorize: true, sync: true, translateTime: "SYS:HH:MM:ss.l", ignore: "pid,hostname" });
  } catch {
    return undefined;
  }
}

export function createNodeLog(o: NodeLogOptions): { log: Log; logger: Logger } {
  const pretty = (o.pretty ?? Boolean(process.stdout.isTTY)) ? prettyStream() : undefined;
  const logger = pino(
    {
      level: o.level,
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: SECRET_KEYS.flatMap((k) => [k, `*.${k}`]), censor: "[redacted]" },
    },
    o.destination ?? pretty ?? pino.destination({ dest: 1, sync: false }),
  );
  const redact = makeRedactor(o.secrets);
  const log: Log = (level, msg, fields) => {
    if (!logger.isLevelEnabled(level)) return;
    logger[level](fields ? redact(fields) : {}, redact(msg));
  };
  return { log, logger };
}

/** Every secret of the configuration, for the log's redactor. */
export function configSecrets(
  config: { secrets: Record<string, string> } & Record<string, unknown>,
): Record<string, string> {
  const out: Record<string, string> = { ...config.secrets };
  for (const name of [
    "MEND_API_TOKEN",
    "MEND_WEBHOOK_SECRET",
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "DISCORD_BOT_TOKEN",
  ]) {
    const v = config[name];
    if (typeof v === "string" && v) out[name] = v;
  }
  return out;
}
