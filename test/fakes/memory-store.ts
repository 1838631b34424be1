// The engine's in-memory RunStore (src/engine/memory-store.ts), as the unit tests use it.
export { MemoryStore } from "../../src/engine/memory-store";
