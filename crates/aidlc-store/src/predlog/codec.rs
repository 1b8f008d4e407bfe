//! The binary form of a prediction record in the write-ahead segments, and its framing.
//!
//! A frame is `u32 length | u32 CRC-32 of the payload | payload`, little-endian. The payload
//! holds the record's fields in declaration order; strings and lists are length-prefixed. The
//! form is private to this crate: sealed segments are Arrow files, and JetStream carries JSON.

use super::{FeatureValue, PredictionOutputs, PredictionRecord, Variant};

/// First bytes of every write-ahead segment (the format's name and version).
pub(crate) const SEGMENT_MAGIC: &[u8; 8] = b"AIDLCPL1";
pub(crate) const FRAME_HEADER: usize = 8;
/// A frame longer than this is taken for garbage (a torn length field), not a record.
pub(crate) const MAX_FRAME: usize = 64 << 20;

/// Appends the framed record to `out`.
pub(crate) fn encode_frame(record: &PredictionRecord, out: &mut Vec<u8>) {
    let start = out.len();
    out.extend_from_slice(&[0u8; FRAME_HEADER]);
    encode_payload(record, out);
    let payload = &out[start + FRAME_HEADER..];
    let len = payload.len() as u32;
    let crc = crc32fast::hash(payload);
    out[start..start + 4].copy_from_slice(&len.to_le_bytes());
    out[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn encode_payload(r: &PredictionRecord, out: &mut Vec<u8>) {
    put_str(out, &r.request_id);
    out.extend_from_slice(&r.time_ms.to_le_bytes());
    put_str(out, &r.endpoint);
    put_str(out, &r.model);
    out.extend_from_slice(&r.version.to_le_bytes());
    out.push(r.variant.code());
    out.extend_from_slice(&r.latency_us.to_le_bytes());
    out.extend_from_slice(&(r.features.len() as u32).to_le_bytes());
    for (name, value) in &r.features {
        put_str(out, name);
        match value {
            FeatureValue::Missing => out.push(0),
            FeatureValue::Number(x) => {
                out.push(1);
                out.extend_from_slice(&x.to_le_bytes());
            }
            FeatureValue::Text(s) => {
                out.push(2);
                put_str(out, s);
            }
        }
    }
    match &r.outputs.label {
        None => out.push(0),
        Some(label) => {
            out.push(1);
            put_str(out, label);
        }
    }
    match r.outputs.value {
        None => out.push(0),
        Some(v) => {
            out.push(1);
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
    out.extend_from_slice(&(r.outputs.probabilities.len() as u32).to_le_bytes());
    for p in &r.outputs.probabilities {
        out.extend_from_slice(&p.to_le_bytes());
    }
    // The entity came last, after the first segments were written: a payload that ends before
    // it is a record without an entity, so older segments still read.
    if let Some(entity) = &r.entity {
        out.push(1);
        put_str(out, entity);
    }
}

/// What is wrong with a frame at the end of a segment.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum FrameError {
    /// Fewer bytes than the header or the announced length: a write cut short.
    Incomplete,
    /// The length is impossible or the checksum does not match.
    Checksum,
}

/// The payload of the frame starting at `buf[0]`, and the frame's total length.
pub(crate) fn next_frame(buf: &[u8]) -> Result<(&[u8], usize), FrameError> {
    if buf.len() < FRAME_HEADER {
        return Err(FrameError::Incomplete);
    }
    let len = u32::from_le_bytes(buf[0..4].try_into().expect("4 bytes")) as usize;
    let crc = u32::from_le_bytes(buf[4..8].try_into().expect("4 bytes"));
    if len > MAX_FRAME {
        return Err(FrameError::Checksum);
    }
    if buf.len() < FRAME_HEADER + len {
        return Err(FrameError::Incomplete);
    }
    let payload = &buf[FRAME_HEADER..FRAME_HEADER + len];
    if crc32fast::hash(payload) != crc {
        return Err(FrameError::Checksum);
    }
    Ok((payload, FRAME_HEADER + len))
}

/// Reads a checksummed payload; a failure means a bug or a format mismatch, since the frame's
/// CRC already matched.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.buf.len())
            .ok_or_else(|| format!("record ends early at payload byte {}", self.pos))?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }
    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }
    fn i64(&mut self) -> Result<i64, String> {
        Ok(i64::from_le_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }
    fn f64(&mut self) -> Result<f64, String> {
        Ok(f64::from_le_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }
    fn str(&mut self) -> Result<&'a str, String> {
        let n = self.u32()? as usize;
        let at = self.pos;
        std::str::from_utf8(self.take(n)?)
            .map_err(|_| format!("invalid UTF-8 at payload byte {at}"))
    }
}

/// The fields a scan filters on, read without decoding the rest.
pub(crate) struct RecordKey<'a> {
    pub time_ms: i64,
    pub endpoint: &'a str,
    pub model: &'a str,
    pub version: i64,
    pub variant: Variant,
}

pub(crate) fn decode_key(payload: &[u8]) -> Result<RecordKey<'_>, String> {
    let mut r = Reader {
        buf: payload,
        pos: 0,
    };
    r.str()?;
    let time_ms = r.i64()?;
    let endpoint = r.str()?;
    let model = r.str()?;
    let version = r.i64()?;
    let code = r.u8()?;
    let variant = Variant::from_code(code).ok_or_else(|| format!("unknown variant code {code}"))?;
    Ok(RecordKey {
        time_ms,
        endpoint,
        model,
        version,
        variant,
    })
}

pub(crate) fn decode_record(payload: &[u8]) -> Result<PredictionRecord, String> {
    let mut r = Reader {
        buf: payload,
        pos: 0,
    };
    let request_id = r.str()?.to_owned();
    let time_ms = r.i64()?;
    let endpoint = r.str()?.to_owned();
    let model = r.str()?.to_owned();
    let version = r.i64()?;
    let code = r.u8()?;
    let variant = Variant::from_code(code).ok_or_else(|| format!("unknown variant code {code}"))?;
    let latency_us = r.u32()?;
    let n = r.u32()? as usize;
    let mut features = Vec::with_capacity(n.min(4096));
    for _ in 0..n {
        let name = r.str()?.to_owned();
        let value = match r.u8()? {
            0 => FeatureValue::Missing,
            1 => FeatureValue::Number(r.f64()?),
            2 => FeatureValue::Text(r.str()?.to_owned()),
            tag => return Err(format!("unknown feature tag {tag} for `{name}`")),
        };
        features.push((name, value));
    }
    let label = match r.u8()? {
        0 => None,
        _ => Some(r.str()?.to_owned()),
    };
    let value = match r.u8()? {
        0 => None,
        _ => Some(r.f64()?),
    };
    let np = r.u32()? as usize;
    let mut probabilities = Vec::with_capacity(np.min(4096));
    for _ in 0..np {
        probabilities.push(r.f64()?);
    }
    let entity = if r.pos == payload.len() {
        None
    } else {
        match r.u8()? {
            1 => Some(r.str()?.to_owned()),
            tag => return Err(format!("unknown entity tag {tag}")),
        }
    };
    if r.pos != payload.len() {
        return Err(format!(
            "{} trailing bytes after the record",
            payload.len() - r.pos
        ));
    }
    Ok(PredictionRecord {
        request_id,
        time_ms,
        endpoint,
        model,
        version,
        variant,
        features,
        outputs: PredictionOutputs {
            label,
            probabilities,
            value,
        },
        latency_us,
        entity,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> PredictionRecord {
        PredictionRecord {
            request_id: "r-1".into(),
            time_ms: 1_700_000_000_123,
            endpoint: "churn".into(),
            model: "churn-gbm".into(),
            version: 3,
            variant: Variant::Canary,
            features: vec![
                ("age".into(), FeatureValue::Number(41.5)),
                ("plan".into(), FeatureValue::Text("pro".into())),
                ("region".into(), FeatureValue::Missing),
            ],
            outputs: PredictionOutputs {
                label: Some("stays".into()),
                probabilities: vec![0.8, 0.2],
                value: None,
            },
            latency_us: 87,
            entity: Some("customer-17".into()),
        }
    }

    #[test]
    fn a_frame_decodes_to_the_record_it_encodes() {
        let mut buf = Vec::new();
        encode_frame(&record(), &mut buf);
        let (payload, used) = next_frame(&buf).unwrap();
        assert_eq!(used, buf.len());
        assert_eq!(decode_record(payload).unwrap(), record());
        let key = decode_key(payload).unwrap();
        assert_eq!((key.endpoint, key.version), ("churn", 3));
    }

    #[test]
    fn a_record_written_before_entities_existed_reads_without_one() {
        let old = PredictionRecord {
            entity: None,
            ..record()
        };
        let mut buf = Vec::new();
        encode_frame(&old, &mut buf);
        let (payload, _) = next_frame(&buf).unwrap();
        assert_eq!(decode_record(payload).unwrap(), old);
        // An entity-less payload is byte for byte what the first format wrote: it ends right
        // after the probabilities (8 bytes each, preceded by their count).
        let np = old.outputs.probabilities.len();
        let count_at = payload.len() - 8 * np - 4;
        assert_eq!(
            u32::from_le_bytes(payload[count_at..count_at + 4].try_into().unwrap()) as usize,
            np
        );
    }

    #[test]
    fn a_cut_or_flipped_frame_is_rejected() {
        let mut buf = Vec::new();
        encode_frame(&record(), &mut buf);
        assert_eq!(
            next_frame(&buf[..buf.len() - 1]).unwrap_err(),
            FrameError::Incomplete
        );
        let last = buf.len() - 1;
        buf[last] ^= 0x40;
        assert_eq!(next_frame(&buf).unwrap_err(), FrameError::Checksum);
    }
}
