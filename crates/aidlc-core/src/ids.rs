//! Newtype ids for the objects aidlc records, so a run id can never be passed where a model id is expected.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                Self(s)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(s.to_string())
            }
        }
    };
}

string_id!(
    /// A project, named in `[problem] name`.
    ProjectId
);
string_id!(
    /// One immutable version of a dataset (`name@version`), identified by a generated id.
    DatasetVersionId
);
string_id!(
    /// One training or tracking run (32 lowercase hex characters, as MLflow clients expect).
    RunId
);
string_id!(
    /// One registered model version.
    ModelVersionId
);
string_id!(
    /// A deployment (an endpoint name mapped to model versions).
    DeploymentId
);

string_id!(
    /// One alert: a rule's condition holding for an endpoint's signal, from opening to
    /// resolution (32 lowercase hex characters, time-ordered).
    AlertId
);

/// A content digest, always written `blake3:<64 hex>`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ContentHash(pub String);

impl ContentHash {
    /// Hashes a byte slice.
    pub fn of(bytes: &[u8]) -> Self {
        Self::from_blake3(blake3::hash(bytes))
    }

    pub fn from_blake3(h: blake3::Hash) -> Self {
        Self(format!("blake3:{}", h.to_hex()))
    }

    /// Parses `blake3:<hex>`; the hex part must be 64 lowercase hex digits.
    pub fn parse(s: &str) -> Option<Self> {
        let hex = s.strip_prefix("blake3:")?;
        (hex.len() == 64
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
        .then(|| Self(s.to_string()))
    }

    /// The hex digits without the algorithm prefix.
    pub fn hex(&self) -> &str {
        self.0.strip_prefix("blake3:").unwrap_or(&self.0)
    }
}

impl fmt::Display for ContentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_hash_round_trips() {
        let h = ContentHash::of(b"abc");
        assert!(h.0.starts_with("blake3:"));
        assert_eq!(ContentHash::parse(&h.0), Some(h.clone()));
        assert_eq!(h.hex().len(), 64);
        assert_eq!(ContentHash::parse("blake3:xyz"), None);
        assert_eq!(ContentHash::parse(h.hex()), None);
    }
}
