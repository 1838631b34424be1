// The chat platforms mend knows: one line each (a platform is a folder, src/chat/<kind>/, whose
// index.ts exports a ChatPlatform; docs/chat-platforms.md).
import { discord } from "./discord";
import { slack } from "./slack";

export const PLATFORMS = [slack, discord] as const;
