//! The audit log's domain: entries, the hash chain that makes edits evident, and its verification.
//!
//! Each entry's hash covers its own fields and the previous entry's hash, so editing, deleting or
//! reordering rows directly in the database breaks the chain at the first entry touched. The chain
//! head (last sequence number and hash) is stored separately so a deleted tail is detected too.

use serde::{Deserialize, Serialize};

/// The hash that the first entry points back to.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Who made a change, when, and why: passed to every store method that changes state, which writes
/// the audit entry in the same transaction as the change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditContext {
    /// The OS user (CLI) or the token subject (server).
    pub actor: String,
    /// Milliseconds since the Unix epoch; the caller reads the clock.
    pub at_ms: i64,
    /// Why, when the user gave a reason (required for overrides).
    pub reason: Option<String>,
}

/// An entry before it is appended: what happened to which object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewAuditEntry {
    pub actor: String,
    pub at_ms: i64,
    /// A dotted verb such as `dataset.create`, `spec.override`, `alias.set`.
    pub action: String,
    /// The kind of object: `project`, `dataset_version`, `run`, `model_version`, `deployment`.
    pub object_kind: String,
    pub object_id: String,
    pub reason: Option<String>,
    /// Evidence and parameters of the change, as JSON.
    pub details: serde_json::Value,
}

impl NewAuditEntry {
    pub fn new(
        ctx: &AuditContext,
        action: &str,
        object_kind: &str,
        object_id: &str,
        details: serde_json::Value,
    ) -> Self {
        Self {
            actor: ctx.actor.clone(),
            at_ms: ctx.at_ms,
            action: action.to_string(),
            object_kind: object_kind.to_string(),
            object_id: object_id.to_string(),
            reason: ctx.reason.clone(),
            details,
        }
    }
}

/// An appended entry with its place in the chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// 1-based, gap-free sequence number.
    pub seq: i64,
    #[serde(flatten)]
    pub entry: NewAuditEntry,
    pub prev_hash: String,
    pub hash: String,
}

/// The hash of an entry: BLAKE3 over a length-prefixed encoding of every field and the previous
/// hash. Length prefixes make the encoding unambiguous, so no two different entries share an input.
pub fn entry_hash(seq: i64, e: &NewAuditEntry, prev_hash: &str) -> String {
    let mut h = blake3::Hasher::new();
    let mut field = |bytes: &[u8]| {
        h.update(&(bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    };
    field(prev_hash.as_bytes());
    field(&seq.to_le_bytes());
    field(&e.at_ms.to_le_bytes());
    field(e.actor.as_bytes());
    field(e.action.as_bytes());
    field(e.object_kind.as_bytes());
    field(e.object_id.as_bytes());
    match &e.reason {
        Some(r) => {
            field(b"1");
            field(r.as_bytes());
        }
        None => field(b"0"),
    }
    // serde_json writes object keys in sorted order (no `preserve_order` feature), so the text
    // of a value is canonical and survives a round trip through either database.
    field(e.details.to_string().as_bytes());
    h.finalize().to_hex().to_string()
}

/// Chains new entries onto a head `(last_seq, last_hash)`.
pub fn chain(head: (i64, String), entries: Vec<NewAuditEntry>) -> Vec<AuditEntry> {
    let (mut seq, mut prev) = head;
    entries
        .into_iter()
        .map(|entry| {
            seq += 1;
            let hash = entry_hash(seq, &entry, &prev);
            let e = AuditEntry {
                seq,
                entry,
                prev_hash: prev.clone(),
                hash: hash.clone(),
            };
            prev = hash;
            e
        })
        .collect()
}

/// The first place where the chain does not hold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AuditBreak {
    /// The entry's fields no longer produce its stored hash: it was edited.
    Edited { seq: i64 },
    /// The entry does not point at its predecessor's hash: an entry before it was deleted,
    /// replaced or moved.
    BrokenLink { seq: i64 },
    /// Sequence numbers jump: entries between were deleted.
    Gap { after: i64, next: i64 },
    /// The stored head does not match the last entry: entries at the end were deleted.
    HeadMismatch { head_seq: i64, last_seq: i64 },
}

impl std::fmt::Display for AuditBreak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AuditBreak::Edited { seq } => {
                write!(
                    f,
                    "audit entry {seq} was edited: its content does not match its hash"
                )
            }
            AuditBreak::BrokenLink { seq } => write!(
                f,
                "audit entry {seq} does not link to entry {}: an entry was deleted, replaced or reordered",
                seq - 1
            ),
            AuditBreak::Gap { after, next } => write!(
                f,
                "audit entries {}..{} are missing (sequence jumps from {after} to {next})",
                after + 1,
                next - 1
            ),
            AuditBreak::HeadMismatch { head_seq, last_seq } => write!(
                f,
                "the audit log ends at entry {last_seq} but {head_seq} entries were written: entries at the end were deleted"
            ),
        }
    }
}

/// Result of verifying the whole chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditVerification {
    pub entries: i64,
    pub ok: bool,
    pub first_break: Option<AuditBreak>,
}

/// Streaming verifier: feed entries in sequence order, then `finish` with the stored head.
#[derive(Debug)]
pub struct Verifier {
    last_seq: i64,
    last_hash: String,
    count: i64,
    first_break: Option<AuditBreak>,
}

impl Default for Verifier {
    fn default() -> Self {
        Self {
            last_seq: 0,
            last_hash: GENESIS_HASH.to_string(),
            count: 0,
            first_break: None,
        }
    }
}

impl Verifier {
    pub fn push(&mut self, e: &AuditEntry) {
        self.count += 1;
        if self.first_break.is_none() {
            if e.seq != self.last_seq + 1 {
                self.first_break = Some(AuditBreak::Gap {
                    after: self.last_seq,
                    next: e.seq,
                });
            } else if entry_hash(e.seq, &e.entry, &e.prev_hash) != e.hash {
                self.first_break = Some(AuditBreak::Edited { seq: e.seq });
            } else if e.prev_hash != self.last_hash {
                self.first_break = Some(AuditBreak::BrokenLink { seq: e.seq });
            }
        }
        self.last_seq = e.seq;
        self.last_hash = e.hash.clone();
    }

    /// `head` is the stored `(last_seq, last_hash)`.
    pub fn finish(mut self, head: (i64, &str)) -> AuditVerification {
        if self.first_break.is_none() && (head.0 != self.last_seq || head.1 != self.last_hash) {
            self.first_break = Some(AuditBreak::HeadMismatch {
                head_seq: head.0,
                last_seq: self.last_seq,
            });
        }
        AuditVerification {
            entries: self.count,
            ok: self.first_break.is_none(),
            first_break: self.first_break,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(n: usize) -> Vec<AuditEntry> {
        let ctx = AuditContext {
            actor: "ana".into(),
            at_ms: 1_700_000_000_000,
            reason: None,
        };
        let news = (0..n)
            .map(|i| {
                NewAuditEntry::new(
                    &ctx,
                    "run.create",
                    "run",
                    &format!("r{i}"),
                    serde_json::json!({"i": i}),
                )
            })
            .collect();
        chain((0, GENESIS_HASH.to_string()), news)
    }

    fn verify(entries: &[AuditEntry], head: (i64, &str)) -> AuditVerification {
        let mut v = Verifier::default();
        entries.iter().for_each(|e| v.push(e));
        v.finish(head)
    }

    #[test]
    fn intact_chain_verifies() {
        let es = sample(5);
        let r = verify(&es, (5, &es[4].hash));
        assert!(r.ok, "{r:?}");
        assert_eq!(r.entries, 5);
    }

    #[test]
    fn edit_delete_reorder_and_truncation_are_named() {
        let es = sample(5);
        let head = (5, es[4].hash.as_str());

        let mut edited = es.clone();
        edited[2].entry.actor = "mallory".into();
        assert_eq!(
            verify(&edited, head).first_break,
            Some(AuditBreak::Edited { seq: 3 })
        );

        let mut deleted = es.clone();
        deleted.remove(1);
        assert_eq!(
            verify(&deleted, head).first_break,
            Some(AuditBreak::Gap { after: 1, next: 3 })
        );

        // Swapping the content of two rows while keeping their sequence numbers.
        let mut reordered = es.clone();
        let (a, b) = (reordered[1].clone(), reordered[2].clone());
        reordered[1] = AuditEntry { seq: 2, ..b };
        reordered[2] = AuditEntry { seq: 3, ..a };
        assert_eq!(
            verify(&reordered, head).first_break,
            Some(AuditBreak::Edited { seq: 2 })
        );

        let truncated = &es[..4];
        assert_eq!(
            verify(truncated, head).first_break,
            Some(AuditBreak::HeadMismatch {
                head_seq: 5,
                last_seq: 4
            })
        );
    }
}
