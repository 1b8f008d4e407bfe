//! Small streaming sketches used by the profiler: a HyperLogLog distinct-count estimator, value
//! hashes, and a seeded row reservoir.
//!
//! The HyperLogLog follows Flajolet et al. (2007) with precision 14 (16,384 one-byte registers,
//! standard error about 1.04 / sqrt(16384) ≈ 0.8 %), and uses linear counting while more than
//! 7 % of the registers are still empty, where the raw estimate is biased.

use std::hash::{Hash, Hasher};

/// Register-index bits; 2^14 registers keep the sketch at 16 KiB per column.
const PRECISION: u32 = 14;
const REGISTERS: usize = 1 << PRECISION;

/// A HyperLogLog sketch over 64-bit value hashes.
#[derive(Debug, Clone)]
pub struct HyperLogLog {
    registers: Vec<u8>,
}

impl Default for HyperLogLog {
    fn default() -> Self {
        HyperLogLog::new()
    }
}

impl HyperLogLog {
    pub fn new() -> HyperLogLog {
        HyperLogLog {
            registers: vec![0; REGISTERS],
        }
    }

    /// Adds one value, given as a well-mixed 64-bit hash.
    #[inline]
    pub fn insert_hash(&mut self, hash: u64) {
        let index = (hash >> (64 - PRECISION)) as usize;
        // The remaining bits with a sentinel one, so the rank is at most 64 - PRECISION + 1.
        let rest = (hash << PRECISION) | (1 << (PRECISION - 1));
        let rank = rest.leading_zeros() as u8 + 1;
        if rank > self.registers[index] {
            self.registers[index] = rank;
        }
    }

    /// The estimated number of distinct values added.
    pub fn estimate(&self) -> u64 {
        let m = REGISTERS as f64;
        let alpha = 0.7213 / (1.0 + 1.079 / m);
        let mut sum = 0.0;
        let mut zeros = 0usize;
        for &r in &self.registers {
            sum += 2f64.powi(-(r as i32));
            if r == 0 {
                zeros += 1;
            }
        }
        let raw = alpha * m * m / sum;
        let estimate = if raw <= 2.5 * m && zeros > 0 {
            m * (m / zeros as f64).ln()
        } else {
            raw
        };
        estimate.round() as u64
    }
}

/// A well-mixed 64-bit hash of a number (SplitMix64's finaliser over its bits; -0 counts as 0).
#[inline]
pub fn hash_number(value: f64) -> u64 {
    let bits = if value == 0.0 { 0 } else { value.to_bits() };
    mix64(bits)
}

/// A well-mixed 64-bit hash of a text value (std's SipHash with fixed keys, so it is the same
/// in every run, then mixed once more).
#[inline]
pub fn hash_text(value: &str) -> u64 {
    let mut hasher = std::hash::DefaultHasher::new();
    value.hash(&mut hasher);
    mix64(hasher.finish())
}

#[inline]
fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce5_e9b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Uniform row sampling without replacement (Vitter's algorithm R) with an explicit seed: the
/// caller asks, row by row, which slot (if any) the row takes.
#[derive(Debug, Clone)]
pub struct RowReservoir {
    capacity: usize,
    seen: u64,
    rng: aidlc_stats::rng::Rng,
}

impl RowReservoir {
    pub fn new(capacity: usize, seed: u64) -> RowReservoir {
        RowReservoir {
            capacity,
            seen: 0,
            rng: aidlc_stats::rng::Rng::seed_from_u64(seed),
        }
    }

    /// The slot the next row goes to: `Some(i)` with `i == len` means append, a smaller `i`
    /// replaces that slot, `None` skips the row.
    #[inline]
    pub fn offer(&mut self) -> Option<usize> {
        let index = self.seen;
        self.seen += 1;
        if (index as usize) < self.capacity {
            return Some(index as usize);
        }
        let j = self.rng.below(index + 1);
        ((j as usize) < self.capacity).then_some(j as usize)
    }

    /// Rows offered so far.
    pub fn seen(&self) -> u64 {
        self.seen
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hyperloglog_is_exact_for_small_sets_and_close_for_large_ones() {
        let mut small = HyperLogLog::new();
        for i in 0..100 {
            small.insert_hash(hash_number(i as f64));
            small.insert_hash(hash_number(i as f64));
        }
        assert!((small.estimate() as i64 - 100).abs() <= 1);
        let mut large = HyperLogLog::new();
        for i in 0..1_000_000u64 {
            large.insert_hash(hash_text(&format!("id-{i}")));
        }
        let relative = (large.estimate() as f64 - 1e6).abs() / 1e6;
        assert!(relative < 0.03, "relative error {relative}");
    }

    #[test]
    fn reservoir_fills_then_samples_uniformly() {
        let mut reservoir = RowReservoir::new(10, 7);
        for i in 0..10 {
            assert_eq!(reservoir.offer(), Some(i));
        }
        let kept = (0..10_000).filter(|_| reservoir.offer().is_some()).count();
        // Row n is kept with probability 10 / n: about 10 * ln(10010 / 10) ≈ 69 rows.
        assert!((30..130).contains(&kept), "kept {kept}");
    }
}
