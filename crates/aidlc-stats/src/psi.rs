//! psi (to be written).
