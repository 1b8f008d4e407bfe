//! wasserstein (to be written).
