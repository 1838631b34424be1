// `npm run discord:register [-- --guild <guild id>]`: registers the /mend command for the Discord
// application in DISCORD_APPLICATION_ID with DISCORD_BOT_TOKEN (DISCORD_API_URL is honoured;
// DISCORD_GUILD_ID works like --guild). Prints one line; exits 1 with one line on failure.
import { registerMendCommand } from "../chat/discord/register";

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  if (i >= 0) return process.argv[i + 1];
  const eq = process.argv.find((a) => a.startsWith(`${name}=`));
  return eq?.slice(name.length + 1);
}

async function main(): Promise<void> {
  const token = process.env.DISCORD_BOT_TOKEN?.trim();
  const applicationId = process.env.DISCORD_APPLICATION_ID?.trim();
  const missing = [!token && "DISCORD_BOT_TOKEN", !applicationId && "DISCORD_APPLICATION_ID"].filter(Boolean);
  if (missing.length) throw new Error(`${missing.join(", ")}: must be set to register the /mend command`);
  const guildId = arg("--guild") ?? (process.env.DISCORD_GUILD_ID?.trim() || undefined);
  const apiUrl = process.env.DISCORD_API_URL?.trim() || undefined;
  const commands = await registerMendCommand({ token: token!, applicationId: applicationId!, apiUrl, guildId });
  const mend = commands.find((c) => c.name === "mend");
  console.log(
    `Registered /mend (command id ${mend?.id ?? "?"}) for application ${applicationId} ${guildId ? `in guild ${guildId}` : "globally"}.`,
  );
}

main().catch((err: unknown) => {
  const e = err as { status?: number; message?: string };
  console.error(
    `discord:register: ${e?.status ? `Discord answered HTTP ${e.status}: ` : ""}${e?.message ?? String(err)}`,
  );
  process.exit(1);
});
