// DNS for the URL checks on Node (node:dns); the Workers entry passes none.
import { lookup } from "node:dns/promises";
import type { Lookup } from "./url-safety";

export const nodeLookup: Lookup = async (hostname) =>
  (await lookup(hostname, { all: true, verbatim: true })).map((a) => a.address);
