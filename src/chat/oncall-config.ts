// The on-call part of a slack/discord handler config (SPEC §11), beside its channel or webhook_url:
//
//   mention: ["U0123", "S0456", "here"]             mentioned in the alert's first post
//   escalate: { after_minutes: 15, mention: [...] }  a thread reply pinging them when the alert is
//                                                    neither acked, resolved nor fixed by then
//   resolve_on_success: true                         (default) a later successful run of the flow
//                                                    marks the open alerts "fixed by run <id>"
//   show_input: ["customer.id", …]                   input fields shown in the alert
//   links: [{ text, url }]                           link buttons; url templated with run/error/input
//
// A mention is written the platform's way or plainly: Slack `U…`/`W…` (a user), `S…` (a user group),
// `here`/`channel`, or `<@U…>`, `<!subteam^S…>`, `<!here>`; Discord `123…` (a user), `&123…` or
// `role:123…` (a role), or `<@123…>`, `<@&123…>`. mentionsFor() turns them into the text to post
// and, on Discord, the `allowed_mentions` that lets exactly those ping.
import { z } from "zod";
import { parsePath, templatePaths } from "../engine/template";

const mentionList = z.array(z.string().trim().min(1).max(100)).max(20);

export const oncallFields = {
  mention: mentionList.optional(),
  escalate: z
    .strictObject({
      after_minutes: z
        .number()
        .positive()
        .max(7 * 24 * 60),
      mention: mentionList.min(1),
    })
    .optional(),
  resolve_on_success: z.boolean().optional(),
  show_input: z
    .array(z.string().trim().min(1).max(200).refine(inputPath, "must be a path in the input, e.g. customer.id"))
    .max(10)
    .optional(),
  links: z
    .array(
      z.strictObject({
        text: z.string().trim().min(1).max(75),
        url: z
          .string()
          .trim()
          .min(1)
          .max(2000)
          .regex(/^https?:\/\//i, "must start with http:// or https://")
          .refine(linkTemplate, "templates may only read {{ run.* }}, {{ error.* }} and {{ input.* }}"),
      }),
    )
    .max(5)
    .optional(),
};

function inputPath(path: string): boolean {
  try {
    parsePath(`input.${path}`);
    return true;
  } catch {
    return false;
  }
}

function linkTemplate(url: string): boolean {
  try {
    return templatePaths(url).every((p) => ["run", "error", "input"].includes(parsePath(p)[0]!));
  } catch {
    return false;
  }
}

export interface OncallConfig {
  mention?: string[];
  escalate?: { after_minutes: number; mention: string[] };
  resolve_on_success?: boolean;
  show_input?: string[];
  links?: { text: string; url: string }[];
}

/** The on-call fields of a handler config that passed the schema (anything else is ignored). */
export function oncallOf(config: Record<string, unknown>): OncallConfig {
  const r = z.object(oncallFields).safeParse(config);
  return r.success ? r.data : {};
}

export interface Mentions {
  /** The mentions as the platform writes them, space-separated ("" when none). */
  text: string;
  /** Discord: exactly the ids allowed to ping. */
  allowed?: { parse: never[]; users: string[]; roles: string[] };
}

/** Slack: `<@U…>`, `<!subteam^S…>`, `<!here>`/`<!channel>`; unknown shapes are dropped. */
export function slackMentions(list: readonly string[]): Mentions {
  const out: string[] = [];
  for (const raw of list) {
    const m = raw.replace(/^@/, "");
    if (/^<(@[UW][A-Z0-9]+|!subteam\^S[A-Z0-9]+|!here|!channel|!everyone)>$/.test(raw)) out.push(raw);
    else if (/^[UW][A-Z0-9]{2,}$/.test(m)) out.push(`<@${m}>`);
    else if (/^S[A-Z0-9]{2,}$/.test(m)) out.push(`<!subteam^${m}>`);
    else if (/^(here|channel|everyone)$/.test(m)) out.push(`<!${m}>`);
  }
  return { text: [...new Set(out)].join(" ") };
}

/** Discord: `<@id>` and `<@&role>`, with allowed_mentions naming exactly those ids. */
export function discordMentions(list: readonly string[]): Mentions {
  const users: string[] = [];
  const roles: string[] = [];
  for (const raw of list) {
    const user = /^(?:<@!?(\d{5,25})>|(\d{5,25}))$/.exec(raw);
    const role = /^(?:<@&(\d{5,25})>|&(\d{5,25})|role:(\d{5,25}))$/.exec(raw);
    if (user) users.push(user[1] ?? user[2]!);
    else if (role) roles.push(role[1] ?? role[2] ?? role[3]!);
  }
  const u = [...new Set(users)];
  const r = [...new Set(roles)];
  return {
    text: [...u.map((id) => `<@${id}>`), ...r.map((id) => `<@&${id}>`)].join(" "),
    allowed: { parse: [], users: u, roles: r },
  };
}
