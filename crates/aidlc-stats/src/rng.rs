//! rng (to be written).
