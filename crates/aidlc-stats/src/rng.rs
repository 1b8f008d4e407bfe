//! The crate's only source of randomness: a small seedable xoshiro256** generator.
//!
//! Every randomised procedure in aidlc-stats (bootstrap resampling, the stratified shuffle
//! splits of the CBPE calibration decision, property tests) takes an explicit `u64` seed and
//! draws from an [`Rng`] built from it. There is no global or thread-local state, so the same
//! seed always gives the same integers and uniform doubles on every platform (normal draws go
//! through the platform's `ln`, `sin` and `cos`, which may differ in the last bit).
//!
//! The 64-bit seed is expanded into the 256-bit xoshiro state with SplitMix64, as recommended
//! by the xoshiro authors, which guarantees a non-zero state for every seed (including 0).

use serde::{Deserialize, Serialize};

/// 2^-53: converts the top 53 bits of a `u64` into a double in [0, 1).
const F64_UNIT: f64 = 1.0 / (1u64 << 53) as f64;

/// A seedable xoshiro256** pseudo-random number generator.
///
/// Not cryptographically secure; meant for statistical resampling where speed and
/// reproducibility matter. The state is serializable so that a long computation can be
/// checkpointed and resumed with the same stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rng {
    state: [u64; 4],
    /// The second value of the last Box–Muller pair, returned by the next normal draw so that
    /// no uniform draws are wasted.
    spare_normal: Option<u64>,
}

/// One step of SplitMix64, used only to expand the seed into the xoshiro state.
fn splitmix64(x: &mut u64) -> u64 {
    *x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *x;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Rng {
    /// Builds a generator whose whole stream is determined by `seed`.
    pub fn seed_from_u64(seed: u64) -> Self {
        let mut sm = seed;
        let state = [
            splitmix64(&mut sm),
            splitmix64(&mut sm),
            splitmix64(&mut sm),
            splitmix64(&mut sm),
        ];
        Rng {
            state,
            spare_normal: None,
        }
    }

    /// The next 64 uniformly distributed bits (xoshiro256**).
    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.state;
        let result = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// A uniform double in [0, 1) with 53 random bits (every value is a multiple of 2^-53).
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * F64_UNIT
    }

    /// A uniform integer in `0..n` without modulo bias (Lemire's multiply-and-reject method).
    ///
    /// Returns 0 when `n` is 0, because there is no value to draw from and callers use the
    /// result as an index only when `n > 0`.
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        let mut m = u128::from(self.next_u64()) * u128::from(n);
        let mut low = m as u64;
        if low < n {
            // The values of `low` below 2^64 mod n would make some outcomes more likely than
            // others; redrawing them leaves every outcome exactly equally likely.
            let threshold = n.wrapping_neg() % n;
            while low < threshold {
                m = u128::from(self.next_u64()) * u128::from(n);
                low = m as u64;
            }
        }
        (m >> 64) as u64
    }

    /// A uniform index in `0..n` for slices; see [`Rng::below`].
    pub fn below_usize(&mut self, n: usize) -> usize {
        self.below(n as u64) as usize
    }

    /// A standard normal draw (mean 0, variance 1) by the Box–Muller transform.
    ///
    /// Each transform yields two independent normals; the second is kept and returned by the
    /// next call.
    pub fn standard_normal(&mut self) -> f64 {
        if let Some(bits) = self.spare_normal.take() {
            return f64::from_bits(bits);
        }
        // 1 - U lies in (0, 1], so the logarithm is always finite.
        let u1 = 1.0 - self.next_f64();
        let u2 = self.next_f64();
        let radius = (-2.0 * u1.ln()).sqrt();
        let angle = std::f64::consts::TAU * u2;
        // The spare is stored as bits so that the state stays `Eq` and serializes exactly.
        self.spare_normal = Some((radius * angle.sin()).to_bits());
        radius * angle.cos()
    }

    /// A normal draw with the given mean and standard deviation.
    pub fn normal(&mut self, mean: f64, std_dev: f64) -> f64 {
        mean + std_dev * self.standard_normal()
    }

    /// Shuffles a slice in place (Fisher–Yates), every permutation equally likely.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below_usize(i + 1);
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream_and_different_seeds_differ() {
        let mut a = Rng::seed_from_u64(7);
        let mut b = Rng::seed_from_u64(7);
        let mut c = Rng::seed_from_u64(8);
        let xs: Vec<u64> = (0..16).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..16).map(|_| b.next_u64()).collect();
        let zs: Vec<u64> = (0..16).map(|_| c.next_u64()).collect();
        assert_eq!(xs, ys);
        assert_ne!(xs, zs);
    }

    #[test]
    fn splitmix_expansion_matches_published_reference() {
        // SplitMix64 seeded with 0 starts with 0xE220A8397B1DCDAF (Vigna's reference output).
        let mut x = 0u64;
        assert_eq!(splitmix64(&mut x), 0xE220_A839_7B1D_CDAF);
    }

    #[test]
    fn uniform_doubles_are_in_unit_interval_with_mean_one_half() {
        let mut rng = Rng::seed_from_u64(1);
        let n = 100_000;
        let mut sum = 0.0;
        for _ in 0..n {
            let u = rng.next_f64();
            assert!((0.0..1.0).contains(&u));
            sum += u;
        }
        // The standard error of the mean is sqrt(1/12/n) ≈ 0.0009; 0.005 is over 5 of them.
        assert!((sum / n as f64 - 0.5).abs() < 0.005);
    }

    #[test]
    fn below_stays_in_range_and_covers_every_value() {
        let mut rng = Rng::seed_from_u64(3);
        let mut seen = [0usize; 7];
        for _ in 0..7000 {
            let k = rng.below(7) as usize;
            seen[k] += 1;
        }
        // Each count has mean 1000 and sd ≈ 29; 150 is a five-sigma band.
        assert!(seen.iter().all(|&c| (850..1150).contains(&c)), "{seen:?}");
        assert_eq!(rng.below(0), 0);
        assert_eq!(rng.below(1), 0);
    }

    #[test]
    fn below_is_unbiased_for_a_range_near_two_to_the_63() {
        // With n = 3·2^62 plain modulo would put twice as much mass on the lower third;
        // rejection sampling must keep the three thirds equally likely.
        let n = 3u64 << 62;
        let third = 1u64 << 62;
        let mut rng = Rng::seed_from_u64(11);
        let mut counts = [0usize; 3];
        for _ in 0..30_000 {
            counts[(rng.below(n) / third) as usize] += 1;
        }
        assert!(
            counts.iter().all(|&c| (9_400..10_600).contains(&c)),
            "{counts:?}"
        );
    }

    #[test]
    fn standard_normal_has_unit_moments() {
        let mut rng = Rng::seed_from_u64(5);
        let n = 200_000;
        let (mut s1, mut s2) = (0.0, 0.0);
        for _ in 0..n {
            let z = rng.standard_normal();
            s1 += z;
            s2 += z * z;
        }
        let mean = s1 / n as f64;
        let var = s2 / n as f64 - mean * mean;
        assert!(mean.abs() < 0.015, "mean {mean}");
        assert!((var - 1.0).abs() < 0.02, "var {var}");
    }

    #[test]
    fn shuffle_is_a_permutation_and_state_round_trips_through_serde() {
        let mut rng = Rng::seed_from_u64(9);
        let mut v: Vec<u32> = (0..50).collect();
        rng.shuffle(&mut v);
        let mut sorted = v.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..50).collect::<Vec<_>>());
        assert_ne!(v, sorted);

        rng.standard_normal();
        let json = serde_json::to_string(&rng).unwrap();
        let mut restored: Rng = serde_json::from_str(&json).unwrap();
        assert_eq!(restored.standard_normal(), rng.standard_normal());
        assert_eq!(restored.next_u64(), rng.next_u64());
    }
}
