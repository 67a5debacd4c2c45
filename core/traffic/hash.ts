/**
 * One 32-bit hash of a 128-bit address, shared by the host tables (bucket choice) and the
 * distinct-count sketches (register choice and rank). Murmur3's mixing and finaliser: no
 * allocation, and a good spread on the low bits (the tables mask them) as well as the high bits
 * (the sketches read them). Callers pass a seed so that two uses of the same address do not
 * correlate, and a random one in production so attackers cannot aim at collisions.
 */
export function hashWords(w0: number, w1: number, w2: number, w3: number, seed: number): number {
  let h = seed;
  h = mixWord(h, w0);
  h = mixWord(h, w1);
  h = mixWord(h, w2);
  h = mixWord(h, w3);
  h ^= 16;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function mixWord(h: number, word: number): number {
  let k = Math.imul(word, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  let x = h ^ k;
  x = (x << 13) | (x >>> 19);
  return (Math.imul(x, 5) + 0xe6546b64) | 0;
}
