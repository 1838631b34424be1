// Discord interaction signing: X-Signature-Ed25519 = hex(Ed25519(private key, timestamp + raw body)),
// checked with the application's public key (DISCORD_PUBLIC_KEY: 32 bytes, hex). WebCrypto only,
// so it runs on Node and Workers alike. Discord sends deliberately bad signatures to check that an
// endpoint refuses them (and removes the endpoint if it does not): anything but a valid signature
// over exactly these bytes is refused. Discord documents no freshness window; like Slack's, ours
// refuses a timestamp more than 5 minutes from now, so a captured click cannot be replayed later.
// Pure: the clock is passed in.
import { freshSignature, type SignedHeaders, type SignedParts, type VerifyResult } from "../signed-route";

export const DISCORD_HEADERS: SignedHeaders = { signature: "X-Signature-Ed25519", timestamp: "X-Signature-Timestamp" };

const HEX = /^(?:[0-9a-fA-F]{2})+$/;

function hexBytes(hex: string): Uint8Array<ArrayBuffer> | undefined {
  if (!HEX.test(hex)) return undefined;
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

const keys = new Map<string, Promise<CryptoKey>>();

/** Imports a raw 32-byte Ed25519 public key given in hex (cached per key). */
export function importPublicKey(hex: string): Promise<CryptoKey> {
  let key = keys.get(hex);
  if (!key) {
    const raw = hexBytes(hex);
    if (!raw || raw.length !== 32)
      return Promise.reject(new Error("DISCORD_PUBLIC_KEY must be 64 hex characters (a raw Ed25519 public key)"));
    key = crypto.subtle.importKey("raw", raw, { name: "Ed25519" }, false, ["verify"]);
    key.catch(() => keys.delete(hex));
    keys.set(hex, key);
  }
  return key;
}

/** signature: X-Signature-Ed25519 (hex); timestamp: X-Signature-Timestamp. */
export interface DiscordSignedRequest extends SignedParts {
  publicKey: string;
}

export async function verifyDiscordRequest(r: DiscordSignedRequest): Promise<VerifyResult> {
  const signed = freshSignature(r, DISCORD_HEADERS);
  if (!signed.ok) return signed;
  const sig = hexBytes(signed.signature);
  if (!sig || sig.length !== 64) return { ok: false, reason: "bad X-Signature-Ed25519 (expected 128 hex characters)" };
  let key: CryptoKey;
  try {
    key = await importPublicKey(r.publicKey);
  } catch (err) {
    return { ok: false, reason: (err as Error).message };
  }
  const message = new TextEncoder().encode(signed.timestamp + r.body);
  let ok = false;
  try {
    ok = await crypto.subtle.verify({ name: "Ed25519" }, key, sig, message);
  } catch {
    ok = false;
  }
  return ok ? { ok: true } : { ok: false, reason: "bad X-Signature-Ed25519 signature" };
}
