// Group commit: writes that arrive in the same turn of the event loop share one
// transaction (one fsync-free WAL commit instead of many). Each caller still
// waits until its own writes are committed.
import type { BatchItem, Database } from "./database";

const defer: (fn: () => void) => void =
  typeof setImmediate === "function" ? (fn) => void setImmediate(fn) : (fn) => void setTimeout(fn, 0);

interface Waiting {
  items: BatchItem[];
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class GroupCommitter {
  private queue: Waiting[] = [];

  constructor(private readonly d: Database) {}

  commit(items: BatchItem[]): Promise<void> {
    if (items.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.queue.push({ items, resolve, reject });
      if (this.queue.length === 1) defer(() => void this.drain());
    });
  }

  private async drain(): Promise<void> {
    const group = this.queue;
    this.queue = [];
    try {
      await this.d.batch(group.flatMap((g) => g.items));
      for (const g of group) g.resolve();
    } catch (err) {
      if (group.length === 1) return group[0]!.reject(err);
      // One bad write must not sink its neighbours: commit them one by one.
      for (const g of group) {
        try {
          await this.d.batch(g.items);
          g.resolve();
        } catch (e) {
          g.reject(e);
        }
      }
    }
  }
}
