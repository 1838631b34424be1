// The browser tests find Chromium the way a fresh machine has it: MEND_CHROMIUM, then PATH.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { findChromium } from "./chromium";

const dir = mkdtempSync(join(tmpdir(), "mend-chromium-path-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function fakeBinary(name: string): string {
  const file = join(dir, name);
  writeFileSync(file, "#!/bin/sh\n");
  chmodSync(file, 0o755);
  return file;
}

describe("finding Chromium", () => {
  it("takes MEND_CHROMIUM first, then chromium, chromium-browser, google-chrome on PATH, else none", () => {
    expect(findChromium({ PATH: dir })).toBeUndefined();
    const chrome = fakeBinary("google-chrome");
    expect(findChromium({ PATH: `/nonexistent:${dir}` })).toBe(chrome);
    const browser = fakeBinary("chromium-browser");
    expect(findChromium({ PATH: dir })).toBe(browser);
    const chromium = fakeBinary("chromium");
    expect(findChromium({ PATH: dir })).toBe(chromium);
    expect(findChromium({ PATH: dir, MEND_CHROMIUM: "/opt/chrome/chrome" })).toBe("/opt/chrome/chrome");
  });
});
