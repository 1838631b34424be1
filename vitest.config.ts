import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    setupFiles: ["test/setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
    // One module graph per worker, not per file: importing src/ again for each of ~90 files cost
    // ~70 s of CPU on 2 cores (docs/decisions.md, "Test suite speed"). Files share no module state.
    isolate: false,
  },
});
