/**
 * Hashes for sets of millions of string keys, where keeping the strings would be most of a run's
 * memory: the journal's resume index and the batch requests of a run.
 */

/** A set of strings that holds a 64-bit hash of each key instead of the key. */
export interface KeySet {
  /** Adds `key`; false when it (or a key with the same hash) was already in. */
  add(key: string): boolean;
  has(key: string): boolean;
  readonly size: number;
}

/**
 * A `KeySet` in an open-addressed table of 32-bit pairs, never more than half full: at most 16
 * bytes a key, where a `Set` of 64-character keys takes about 110 (a million batch requests held
 * 110 MB in each of two sets). Two keys with the same hash count as one: at a million keys the
 * odds are about 3 in 100 million, so use it only where such a mix-up does no harm, or fails
 * loudly (a batch request asked online instead, a duplicate custom id refused).
 */
export function createKeySet(initialCapacity = 1024): KeySet {
  let capacity = 1 << Math.max(4, Math.ceil(Math.log2(initialCapacity * 2)));
  let table = new Uint32Array(capacity * 2);
  let size = 0;

  // The slot holding (h1, h2), or the empty slot where it would go. (0, 0) marks an empty slot.
  const slotOf = (h1: number, h2: number): number => {
    const mask = capacity - 1;
    for (let slot = h1 & mask; ; slot = (slot + 1) & mask) {
      const a = table[slot * 2];
      const b = table[slot * 2 + 1];
      if ((a === h1 && b === h2) || (a === 0 && b === 0)) return slot;
    }
  };
  const grow = () => {
    const old = table;
    capacity *= 2;
    table = new Uint32Array(capacity * 2);
    for (let i = 0; i < old.length; i += 2) {
      if (old[i] === 0 && old[i + 1] === 0) continue;
      const slot = slotOf(old[i], old[i + 1]);
      table[slot * 2] = old[i];
      table[slot * 2 + 1] = old[i + 1];
    }
  };

  return {
    add(key) {
      const h1 = hash64(key);
      const h2 = high || 1; // never (0, 0), the empty mark
      const slot = slotOf(h1, h2);
      if (table[slot * 2 + 1] !== 0) return false;
      table[slot * 2] = h1;
      table[slot * 2 + 1] = h2;
      size++;
      if (size * 2 > capacity) grow();
      return true;
    },
    has(key) {
      const h1 = hash64(key);
      return table[slotOf(h1, high || 1) * 2 + 1] !== 0;
    },
    get size() {
      return size;
    },
  };
}

/** cyrb53 (bryc, public domain): a fast 53-bit string hash, exact in a double. */
export function cyrb53(text: string): number {
  const low = hash64(text);
  return 4294967296 * (2097151 & high) + low;
}

/** The high 32 bits of the last `hash64`, so that hashing a key allocates nothing. */
let high = 0;

/** cyrb53's two 32-bit lanes, unsigned: returns the low one and leaves the high one in `high`. */
function hash64(text: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  high = h2 >>> 0;
  return h1 >>> 0;
}
