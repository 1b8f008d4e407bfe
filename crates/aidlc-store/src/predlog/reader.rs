//! A read-only view of a local prediction log folder, for processes that do not own it (the
//! CLI's `aidlc monitor` while `aidlc server` writes the folder).
//!
//! The writer holds an exclusive `flock` on `<dir>/LOCK`, so a second [`LocalPredictionLog`]
//! cannot open the folder; this reader takes no lock and never writes, truncates or deletes.
//! A scan lists the write-ahead segments first and the sealed Arrow files second, then reads:
//! - every segment, frame by frame, up to the first frame that is incomplete or fails its CRC
//!   (the writer's unacknowledged tail, or a write in progress; the owner cuts real torn tails
//!   when it reopens);
//! - the endpoint's Arrow files whose time range overlaps the window, except those of a segment
//!   that still exists (its conversion is unfinished: the segment holds the records).
//!
//! The converter renames a segment's Arrow files into place before it deletes the segment, so a
//! segment missing from the first listing has its Arrow files in the second. A file that
//! vanishes between listing and opening (a conversion finished meanwhile) restarts the scan.
//!
//! [`LocalPredictionLog`]: super::LocalPredictionLog

use super::codec::{self, SEGMENT_MAGIC};
use super::columnar::{self, FrameBuilder};
use super::local::parse_sealed_name;
use super::{
    PredictionFrame, PredictionLog, PredictionLogError, PredictionLogResult, PredictionLogStats,
    PredictionRecord, ScanQuery,
};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

/// How often a scan starts over when files move under it before giving up.
const SCAN_ATTEMPTS: usize = 5;

/// A read-only view of a local prediction log folder. `append` fails: it never writes.
#[derive(Debug, Clone)]
pub struct LocalLogReader {
    dir: PathBuf,
}

impl LocalLogReader {
    /// A reader of `dir`; the folder must exist (a server has logged to it).
    pub fn open(dir: impl Into<PathBuf>) -> PredictionLogResult<LocalLogReader> {
        let dir = dir.into();
        if !dir.is_dir() {
            return Err(PredictionLogError::Io {
                path: dir.clone(),
                source: std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "no prediction log folder here (has a server logged predictions?)",
                ),
            });
        }
        Ok(LocalLogReader { dir })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn scan_blocking(&self, query: &ScanQuery) -> PredictionLogResult<PredictionFrame> {
        let mut last_error = None;
        for _ in 0..SCAN_ATTEMPTS {
            match self.try_scan(query) {
                Ok(frame) => return Ok(frame),
                Err(PredictionLogError::Io { path, source })
                    if source.kind() == std::io::ErrorKind::NotFound =>
                {
                    last_error = Some(PredictionLogError::Io { path, source });
                }
                Err(e) => return Err(e),
            }
        }
        Err(last_error.expect("at least one attempt"))
    }

    fn try_scan(&self, query: &ScanQuery) -> PredictionLogResult<PredictionFrame> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| PredictionLogError::Io { path, source }
        };
        let mut wals: BTreeMap<u64, PathBuf> = BTreeMap::new();
        for entry in std::fs::read_dir(&self.dir).map_err(io(&self.dir))? {
            let entry = entry.map_err(io(&self.dir))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(seq) = name
                .strip_prefix("wal-")
                .and_then(|s| s.strip_suffix(".log"))
                .and_then(|s| s.parse::<u64>().ok())
            {
                wals.insert(seq, entry.path());
            }
        }
        let sealed_dir = self.dir.join("sealed");
        let mut sources: Vec<(u64, Source)> = Vec::new();
        if sealed_dir.is_dir() {
            for entry in std::fs::read_dir(&sealed_dir).map_err(io(&sealed_dir))? {
                let entry = entry.map_err(io(&sealed_dir))?;
                let name = entry.file_name().to_string_lossy().into_owned();
                if let Some((seq, min_ms, max_ms, endpoint)) = parse_sealed_name(&name)
                    && !wals.contains_key(&seq)
                    && endpoint == query.endpoint
                    && query.overlaps(min_ms, max_ms)
                {
                    let path = entry.path();
                    let file = File::open(&path).map_err(io(&path))?;
                    sources.push((seq, Source::Arrow(file, path)));
                }
            }
        }
        for (seq, path) in wals {
            let file = File::open(&path).map_err(io(&path))?;
            sources.push((seq, Source::Wal(file, path)));
        }
        sources.sort_by_key(|(seq, _)| *seq);
        let mut out = FrameBuilder::default();
        for (_, source) in sources {
            match source {
                Source::Arrow(file, path) => {
                    columnar::scan_arrow_file(file, &path, query, &mut out)?
                }
                Source::Wal(mut file, path) => {
                    let mut bytes = Vec::new();
                    file.read_to_end(&mut bytes).map_err(io(&path))?;
                    scan_acknowledged_prefix(&bytes, &path, query, &mut out)?;
                }
            }
        }
        Ok(out.finish())
    }
}

enum Source {
    Arrow(File, PathBuf),
    Wal(File, PathBuf),
}

/// Reads the frames of a segment up to the first one that is incomplete or fails its checksum.
fn scan_acknowledged_prefix(
    bytes: &[u8],
    path: &Path,
    query: &ScanQuery,
    out: &mut FrameBuilder,
) -> PredictionLogResult<()> {
    if bytes.len() < SEGMENT_MAGIC.len() || bytes[..SEGMENT_MAGIC.len()] != SEGMENT_MAGIC[..] {
        // A segment being created: nothing acknowledged in it yet.
        return Ok(());
    }
    let mut pos = SEGMENT_MAGIC.len();
    while pos < bytes.len() {
        let Ok((payload, used)) = codec::next_frame(&bytes[pos..]) else {
            break;
        };
        let corrupt = |reason| PredictionLogError::Corrupt {
            path: path.to_path_buf(),
            offset: pos as u64,
            reason,
        };
        let key = codec::decode_key(payload).map_err(corrupt)?;
        if key.endpoint == query.endpoint
            && query.matches(key.time_ms, key.model, key.version, key.variant)
        {
            out.push_record(codec::decode_record(payload).map_err(corrupt)?);
        }
        pos += used;
    }
    Ok(())
}

impl PredictionLog for LocalLogReader {
    async fn append(&self, batch: Vec<PredictionRecord>) -> PredictionLogResult<()> {
        Err(PredictionLogError::InvalidRecord {
            request_id: batch
                .first()
                .map(|r| r.request_id.clone())
                .unwrap_or_default(),
            reason: format!(
                "{} is opened read-only; only the process that owns it appends",
                self.dir.display()
            ),
        })
    }

    async fn scan(&self, query: &ScanQuery) -> PredictionLogResult<PredictionFrame> {
        let reader = self.clone();
        let query = query.clone();
        tokio::task::spawn_blocking(move || reader.scan_blocking(&query))
            .await
            .map_err(|_| PredictionLogError::Closed)?
    }

    fn stats(&self) -> PredictionLogStats {
        PredictionLogStats::default()
    }
}
