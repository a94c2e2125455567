// The in-memory part of the SQLite backend's lookup index: identities and search-term keys of the committed entries
// that are not yet merged into the on-disk index tables (sqlite.ts). Entries arrive in index order and leave from
// the front, a whole merged range at a time. Keys are the same short keys the tables use (`key16` of a term), held
// as latin1 strings, which are compact and hash fast as Map keys; identities are held whole, so a hit needs no
// confirmation against the entry.

interface PendingEntry {
  identity: string;
  terms: string[];
  /** The identity's filter key (key-filter.ts), handed on when the entry is dropped after its merge. */
  hi: number;
  lo: number;
}

export interface PendingIndex {
  /** Index of the first entry held (entries below it are in the on-disk index). */
  readonly start: number;
  /** Entries held. */
  readonly size: number;
  /** Adds the next entry (its index must be start + size), with its identity's filter key halves. */
  add(index: number, identity: Uint8Array, termKeys: Uint8Array[], hi: number, lo: number): void;
  /** Forgets the entries below `end` (they have been merged), handing each one's filter key to `onDrop`. */
  dropBelow(end: number, onDrop?: (hi: number, lo: number) => void): void;
  identity(identity: Uint8Array): number | undefined;
  /** Indices held under a term key, ascending. */
  term(termKey: Uint8Array): readonly number[];
}

const asKey = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');

export function pendingIndex(start: number): PendingIndex {
  const entries: PendingEntry[] = [];
  let head = 0; // entries[head] is the entry at index `first`
  let first = start;
  const identities = new Map<string, number>();
  const terms = new Map<string, number[]>();
  return {
    get start() {
      return first;
    },
    get size() {
      return entries.length - head;
    },
    add(index, identity, termKeys, hi, lo) {
      if (index !== first + entries.length - head) {
        throw new Error(`pending index expects entry ${first + entries.length - head}, got ${index}`);
      }
      const e: PendingEntry = { identity: asKey(identity), terms: termKeys.map(asKey), hi, lo };
      entries.push(e);
      identities.set(e.identity, index);
      for (const t of e.terms) {
        const list = terms.get(t);
        if (!list) terms.set(t, [index]);
        else if (list[list.length - 1] !== index) list.push(index);
      }
    },
    dropBelow(end, onDrop) {
      const touched = new Set<string>();
      while (first < end && head < entries.length) {
        const e = entries[head++];
        onDrop?.(e.hi, e.lo);
        if (identities.get(e.identity) === first) identities.delete(e.identity);
        for (const t of e.terms) touched.add(t);
        first++;
      }
      // Lists are ascending: each loses a prefix, cut once (a busy key's list can hold most of the entries).
      for (const t of touched) {
        const list = terms.get(t);
        if (!list) continue;
        let n = 0;
        while (n < list.length && list[n] < end) n++;
        if (n === list.length) terms.delete(t);
        else list.splice(0, n);
      }
      if (first < end) first = end;
      // Compact the array now and then rather than shifting it per entry.
      if (head > 4096 && head * 2 > entries.length) {
        entries.splice(0, head);
        head = 0;
      }
    },
    identity(identity) {
      return identities.get(asKey(identity));
    },
    term(termKey) {
      return terms.get(asKey(termKey)) ?? [];
    },
  };
}
