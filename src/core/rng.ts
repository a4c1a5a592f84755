/**
 * Seeded pseudo-random numbers: xoshiro128** seeded through splitmix32.
 *
 * Integer arithmetic only (`Math.imul`, shifts), so the same seed gives the same stream on every
 * platform. Normals use Box–Muller, whose `Math.log`/`Math.cos` are V8's fdlibm ports and so are
 * bit-identical wherever Deno runs.
 *
 * @module
 */

/** The largest accepted seed: seeds are unsigned 32-bit integers. */
export const MAX_SEED = 0xffffffff;

/** A xoshiro128** generator. Streams for different purposes come from {@linkcode deriveSeed}. */
export class Rng {
  #s = new Uint32Array(4);
  #spareNormal: number | null = null;

  /** Seeds the four state words from `seed` with splitmix32, so nearby seeds give unrelated streams. */
  constructor(seed: number) {
    let x = seed >>> 0;
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      this.#s[i] = z ^ (z >>> 16);
    }
  }

  /** A uniformly distributed unsigned 32-bit integer. */
  nextU32(): number {
    const s = this.#s;
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** A uniform double in [0, 1) with 53 random bits. */
  uniform(): number {
    const high = this.nextU32() >>> 5; // 27 bits
    const low = this.nextU32() >>> 6; // 26 bits
    return (high * 67108864 + low) / 9007199254740992;
  }

  /** A uniform integer in [0, n), without modulo bias. */
  below(n: number): number {
    const limit = 4294967296 - (4294967296 % n);
    let r = this.nextU32();
    while (r >= limit) r = this.nextU32();
    return r % n;
  }

  /** A standard normal sample (Box–Muller; the second value of each pair is kept for the next call). */
  normal(): number {
    if (this.#spareNormal !== null) {
      const spare = this.#spareNormal;
      this.#spareNormal = null;
      return spare;
    }
    const radius = Math.sqrt(-2 * Math.log(1 - this.uniform()));
    const angle = 2 * Math.PI * this.uniform();
    this.#spareNormal = radius * Math.sin(angle);
    return radius * Math.cos(angle);
  }

  /** Shuffles `order` in place (Fisher–Yates). */
  shuffle(order: Uint32Array): void {
    for (let i = order.length - 1; i > 0; i--) {
      const j = this.below(i + 1);
      const t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
  }
}

/**
 * A seed for one named purpose ("teacher", "init:source", "shuffle:target", ...) derived from the
 * run's seed, so that changing how one stream is used never shifts the numbers of another.
 */
export function deriveSeed(seed: number, purpose: string): number {
  let h = 0x811c9dc5 ^ (seed >>> 0); // FNV-1a over the purpose, started from the seed
  for (let i = 0; i < purpose.length; i++) {
    h = Math.imul(h ^ purpose.charCodeAt(i), 0x01000193);
  }
  return h >>> 0;
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
