// The checkpoint thread's code, run with `new Worker(src, { eval: true })`: plain CommonJS in a string,
// so it needs no file of its own next to a bundle (dist/, the bench's builds) and no TypeScript loader.
// It opens its own connection to the database and copies WAL frames into it with PASSIVE checkpoints,
// which never wait for the serving connection nor make it wait.
//
// A PASSIVE checkpoint copies the frames committed before it began; the serving connection starts the
// WAL over from its beginning only when a write finds every frame copied. Under steady writes a commit
// lands during nearly every checkpoint, so the WAL would grow without end. Hence the gate: once the
// WAL is past `restartBytes`, the worker raises HOLD, waits for the serving connection's transaction
// in progress (BUSY) to end, copies the last frames, and lowers HOLD. Writes through batch() wait for
// HOLD in a timer, never blocking the event loop; the first one after it restarts the WAL.

/** Int32 slots of the shared gate. */
export const HOLD = 0;
export const BUSY = 1;

/** What the thread is given (workerData). */
export interface CheckpointWorkerData {
  /** better-sqlite3's resolved path: an eval'd worker resolves bare names from the working folder. */
  driver: string;
  file: string;
  /** Between checkpoints. */
  everyMs: number;
  /** Past this many bytes of frames, the checkpoint holds writes for its last frames. */
  restartBytes: number;
  gate: Int32Array;
}

/** What it posts after each checkpoint: PRAGMA wal_checkpoint's row, plus the frames this one copied. */
export interface CheckpointReport {
  busy: number;
  log: number;
  checkpointed: number;
  copied: number;
  /** This one held writes to let the WAL start over. */
  held: boolean;
}

export const CHECKPOINT_WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const { driver, file, everyMs, restartBytes, gate } = workerData;
const Database = require(driver);
const db = new Database(file, { fileMustExist: true });
db.pragma("busy_timeout = 0");
const frameBytes = db.pragma("page_size", { simple: true }) + 24;
let last = { log: 0, checkpointed: 0 };
let timer;
function passive(held) {
  const r = db.pragma("wal_checkpoint(PASSIVE)")[0];
  // After the serving connection restarted the WAL, the counts begin again from 0.
  const copied = r.log >= last.log && r.checkpointed >= last.checkpointed ? r.checkpointed - last.checkpointed : r.checkpointed;
  last = r;
  parentPort.postMessage({ busy: r.busy, log: r.log, checkpointed: r.checkpointed, copied, held });
  return r;
}
function checkpoint() {
  const r = passive(false);
  if (r.log * frameBytes >= restartBytes) {
    Atomics.store(gate, ${HOLD}, 1);
    try {
      for (let i = 0; i < 200 && Atomics.load(gate, ${BUSY}) === 1; i++) Atomics.wait(gate, ${BUSY}, 1, 5);
      passive(true);
    } finally {
      Atomics.store(gate, ${HOLD}, 0);
    }
  }
  timer = setTimeout(checkpoint, everyMs);
}
timer = setTimeout(checkpoint, 0);
parentPort.on("message", (m) => {
  if (m !== "stop") return;
  clearTimeout(timer);
  db.close();
  parentPort.close();
});
`;
