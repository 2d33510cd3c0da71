/**
 * One worker's unanswered attempts, in send order, found by correlation key.
 *
 * Why not a Map: V8 allocates a Map's replacement table in the generation of the table it
 * replaces, and a Map under constant insert and delete replaces its table every few dozen
 * inserts. Once the table is in the old generation, every dead table it leaves behind
 * still points at the attempts that were in flight, and the scavenger counts those
 * pointers as live until the next full GC: whole requests (hono's context, Node's request
 * and response, the pool's call) got promoted, 3-4 KB per request and 5-8 ms scavenges
 * under load (docs/benchmarks.md). Here the slots live in one array whose length never
 * changes except when it doubles, every vacated slot is cleared at once, and an array that
 * is outgrown is cleared before it is dropped.
 *
 * Keys are handed out in increasing order (CorrelationIds), and each attempt is added when
 * it is sent, so the list is sorted by key and lookups are a binary search.
 */
export interface Keyed {
  readonly key: number;
}

export class Outstanding<T extends Keyed> implements Iterable<T> {
  private slots: (T | undefined)[];
  private count = 0;

  constructor(initialCapacity = 16) {
    this.slots = new Array<T | undefined>(Math.max(1, initialCapacity)).fill(undefined);
  }

  get size(): number {
    return this.count;
  }

  /** The earliest sent, undefined when none. */
  first(): T | undefined {
    return this.slots[0];
  }

  /** Appends an attempt; its key must be above every key already held. */
  add(entry: T): void {
    const last = this.count > 0 ? this.slots[this.count - 1] : undefined;
    if (last && entry.key <= last.key) throw new RangeError(`keys must increase: ${entry.key} after ${last.key}`);
    if (this.count === this.slots.length) {
      const grown = new Array<T | undefined>(this.slots.length * 2).fill(undefined);
      for (let i = 0; i < this.count; i++) grown[i] = this.slots[i];
      this.slots.fill(undefined);
      this.slots = grown;
    }
    this.slots[this.count++] = entry;
  }

  get(key: number): T | undefined {
    const index = this.indexOf(key);
    return index < 0 ? undefined : this.slots[index];
  }

  /** Removes the attempt with this key; false when none. */
  delete(key: number): boolean {
    const index = this.indexOf(key);
    if (index < 0) return false;
    for (let i = index; i < this.count - 1; i++) this.slots[i] = this.slots[i + 1];
    this.slots[--this.count] = undefined;
    return true;
  }

  /** A copy, in send order: safe to iterate while deleting. */
  toArray(): T[] {
    return this.slots.slice(0, this.count) as T[];
  }

  *[Symbol.iterator](): Iterator<T> {
    for (let i = 0; i < this.count; i++) yield this.slots[i]!;
  }

  private indexOf(key: number): number {
    let low = 0;
    let high = this.count - 1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      const found = this.slots[middle]!.key;
      if (found === key) return middle;
      if (found < key) low = middle + 1;
      else high = middle - 1;
    }
    return -1;
  }
}
