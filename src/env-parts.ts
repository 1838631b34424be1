// Zod pieces for environment variables (strings in, typed values out), shared by src/env.ts and
// the chat platforms' own variables.
import { z } from "zod";

export const bool = z.enum(["true", "false", "1", "0", ""]).transform((v) => v === "true" || v === "1");
export const list = z.string().transform((v) =>
  v
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean),
);
export const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
