/**
 * numpy.random.RandomState(seed).permutation(n), bit for bit: MT19937 seeded as numpy's
 * legacy seeding does (init_genrand), and the legacy Fisher-Yates shuffle drawing each swap
 * index by masked rejection sampling (numpy's random_interval). scikit-learn's
 * train_test_split and KFold(shuffle=True) take their row order from exactly this
 * permutation, so a split made with it holds the same rows as the Python stack's split
 * for the same random_state: figures compare row for row. Pure 32-bit integer arithmetic.
 */
const N = 624;
const M = 397;

export class Mt19937 {
  private readonly mt = new Uint32Array(N);
  private pos = N;

  constructor(seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff)
      throw new RangeError(`seed must be an integer in 0..2^32-1, got ${seed}`);
    const mt = this.mt;
    mt[0] = seed >>> 0;
    for (let i = 1; i < N; i++) {
      const prev = mt[i - 1] ^ (mt[i - 1] >>> 30);
      mt[i] = (Math.imul(1812433253, prev) + i) >>> 0;
    }
  }

  /** Next 32-bit unsigned integer (genrand_int32). */
  nextUint32(): number {
    const mt = this.mt;
    if (this.pos >= N) {
      for (let k = 0; k < N; k++) {
        const y = (mt[k] & 0x80000000) | (mt[(k + 1) % N] & 0x7fffffff);
        mt[k] = mt[(k + M) % N] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
      }
      this.pos = 0;
    }
    let y = mt[this.pos++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** Uniform integer in [0, max] (numpy's legacy random_interval, max < 2^32). */
  interval(max: number): number {
    if (max === 0) return 0;
    let mask = max;
    mask |= mask >>> 1;
    mask |= mask >>> 2;
    mask |= mask >>> 4;
    mask |= mask >>> 8;
    mask |= mask >>> 16;
    mask >>>= 0;
    let v: number;
    while ((v = (this.nextUint32() & mask) >>> 0) > max);
    return v;
  }
}

/** numpy.random.RandomState(seed).permutation(n). */
export function numpyPermutation(n: number, seed: number): Uint32Array {
  const rng = new Mt19937(seed);
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.interval(i);
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}
