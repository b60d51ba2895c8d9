//! numpy's legacy random generator (`np.random.seed`, `uniform`, `permutation`), bit for bit,
//! so that bptui starts and shuffles exactly as the course homework does.

/// MT19937 as seeded by `np.random.seed(int)`.
pub struct NumpyRandomState {
    mt: [u32; 624],
    index: usize,
}

impl NumpyRandomState {
    /// `np.random.seed(seed)` for an integer seed in 0 ..= 2³² − 1 (init_genrand).
    pub fn new(seed: u32) -> Self {
        let mut mt = [0u32; 624];
        mt[0] = seed;
        for i in 1..624 {
            mt[i] = 1812433253u32.wrapping_mul(mt[i - 1] ^ (mt[i - 1] >> 30)).wrapping_add(i as u32);
        }
        NumpyRandomState { mt, index: 624 }
    }

    fn twist(&mut self) {
        const UPPER: u32 = 0x8000_0000;
        const LOWER: u32 = 0x7fff_ffff;
        for i in 0..624 {
            let y = (self.mt[i] & UPPER) | (self.mt[(i + 1) % 624] & LOWER);
            let mut v = self.mt[(i + 397) % 624] ^ (y >> 1);
            if y & 1 != 0 {
                v ^= 0x9908_b0df;
            }
            self.mt[i] = v;
        }
        self.index = 0;
    }

    /// The next 32-bit output.
    pub fn next_u32(&mut self) -> u32 {
        if self.index >= 624 {
            self.twist();
        }
        let mut y = self.mt[self.index];
        self.index += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^= y >> 18;
        y
    }

    /// A double in [0, 1) with 53 random bits, as `np.random.random_sample`.
    pub fn next_f64(&mut self) -> f64 {
        let a = (self.next_u32() >> 5) as f64;
        let b = (self.next_u32() >> 6) as f64;
        (a * 67108864.0 + b) / 9007199254740992.0
    }

    /// `np.random.uniform(lo, hi)`: lo + (hi − lo)·U.
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.next_f64()
    }

    /// A uniform integer in 0 ..= max by masked rejection, as numpy's legacy `random_interval`.
    pub fn interval(&mut self, max: u64) -> u64 {
        if max == 0 {
            return 0;
        }
        let mut mask = max;
        for shift in [1, 2, 4, 8, 16, 32] {
            mask |= mask >> shift;
        }
        if max <= 0xffff_ffff {
            loop {
                let v = (self.next_u32() as u64) & mask;
                if v <= max {
                    return v;
                }
            }
        } else {
            loop {
                let hi = self.next_u32() as u64;
                let lo = self.next_u32() as u64;
                let v = ((hi << 32) | lo) & mask;
                if v <= max {
                    return v;
                }
            }
        }
    }

    /// `np.random.permutation(n)`: a Fisher–Yates shuffle of 0..n from the last index down.
    pub fn permutation(&mut self, n: usize) -> Vec<usize> {
        let mut order: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            let j = self.interval(i as u64) as usize;
            order.swap(i, j);
        }
        order
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected values printed by numpy 2.x:
    //   np.random.seed(640); np.random.uniform(-0.1, 0.1, (2, 3)).ravel()
    //   np.random.seed(1); np.random.permutation(10)
    //   np.random.seed(0); np.random.permutation(9000)[:8]
    #[test]
    fn uniform_matches_numpy() {
        let mut r = NumpyRandomState::new(640);
        let got: Vec<f64> = (0..6).map(|_| r.uniform(-0.1, 0.1)).collect();
        let want = [
            -0.0019064135346233968,
            -0.05751906029945304,
            0.028054424923163873,
            -0.0171914127804981,
            -0.09740723363292268,
            0.05612944577171966,
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn permutation_matches_numpy() {
        assert_eq!(NumpyRandomState::new(1).permutation(10), [2, 9, 6, 4, 0, 3, 1, 7, 8, 5]);
        assert_eq!(NumpyRandomState::new(0).permutation(9000)[..8], [4424, 1726, 7895, 7586, 1986, 3018, 1467, 7968]);
    }
}
