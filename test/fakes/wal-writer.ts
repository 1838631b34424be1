// A process that writes rows through the store while the checkpoint worker runs (for the kill -9 test):
// `node --import tsx test/fakes/wal-writer.ts FILE`. After each committed batch it prints
// `committed <rows> <worker checkpoints> <holds>`; it writes until killed.
import { settings } from "../../db/schema";
import { openSqlite } from "../../src/store/sqlite-node";

const KiB = 1024;
const d = openSqlite(process.argv[2]!, {
  mode: "worker",
  startBytes: 64 * KiB,
  restartBytes: 256 * KiB,
  checkMs: 5,
  everyMs: 5,
});
const row = "x".repeat(1000);
for (let n = 0; ; n += 4) {
  await d.batch([0, 1, 2, 3].map((i) => ({ query: d.db.insert(settings).values({ key: `k${n + i}`, value: row }) })));
  const s = d.checkpoints!.stats;
  process.stdout.write(`committed ${n + 4} ${s.workerCheckpoints} ${s.holds}\n`);
  await new Promise((r) => setTimeout(r, 1));
}
