//! The embedded prediction log: write-ahead segments in one folder, sealed into Arrow IPC files.
//!
//! Layout of the folder:
//! - `wal-<seq>.log`: write-ahead segments (framed records after an 8-byte magic). The one with
//!   the highest sequence number is the active segment; the others are sealed and wait for
//!   conversion.
//! - `sealed/<seq>.<min_ms>.<max_ms>.<endpoint>.arrow`: the columnar copy of a sealed segment,
//!   one file per endpoint, with the time range of its records in the name (the endpoint is
//!   escaped, see `escape_name`). A window scan opens only the files of its endpoint whose range
//!   overlaps the window.
//!
//! Threads (plain OS threads, so no fsync or disk write ever runs on an async worker):
//! - the writer owns the active segment. It takes every pending append off the queue, writes them
//!   with one `write(2)` (group commit), then acknowledges them, and seals the segment when it
//!   reaches [`LocalLogConfig::segment_max_bytes`] or [`LocalLogConfig::segment_max_age`];
//! - the syncer fsyncs the active segment every [`LocalLogConfig::sync_interval`] when it has
//!   unsynced bytes, concurrently with the writer's appends;
//! - the converter turns sealed segments into Arrow files: it writes them under a temporary name,
//!   fsyncs and renames them, and only then deletes the segment. A segment that still exists on
//!   reopen was not converted completely: its Arrow files are removed and it is converted again.

use super::codec::{self, FrameError, SEGMENT_MAGIC};
use super::columnar::{self, FrameBuilder};
use super::{
    PredictionFrame, PredictionLog, PredictionLogError, PredictionLogResult, PredictionLogStats,
    PredictionRecord, ScanQuery, escape_name, now_ms, unescape_name,
};
use std::collections::{BTreeMap, HashMap};
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

/// When `append` resolves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AckPolicy {
    /// After the group's `write(2)`: survives kill -9; a power loss may lose the last
    /// `sync_interval` of acknowledged records.
    #[default]
    Written,
    /// After the group's `fdatasync`: survives a power loss too.
    Synced,
}

/// Settings of a [`LocalPredictionLog`].
#[derive(Debug, Clone)]
pub struct LocalLogConfig {
    pub dir: PathBuf,
    pub ack: AckPolicy,
    /// How often the active segment is fsynced when it has unsynced bytes.
    pub sync_interval: Duration,
    /// A segment is sealed once it holds this many bytes.
    pub segment_max_bytes: u64,
    /// A segment is sealed once its first record is this old (so idle endpoints still get
    /// columnar files).
    pub segment_max_age: Duration,
    /// Appends waiting for the writer before `append` waits for room (back-pressure).
    pub queue_capacity: usize,
}

impl LocalLogConfig {
    /// Defaults: acknowledge on write, fsync every 100 ms, seal at 32 MiB or 10 minutes.
    pub fn new(dir: impl Into<PathBuf>) -> LocalLogConfig {
        LocalLogConfig {
            dir: dir.into(),
            ack: AckPolicy::Written,
            sync_interval: Duration::from_millis(100),
            segment_max_bytes: 32 << 20,
            segment_max_age: Duration::from_secs(600),
            queue_capacity: 16_384,
        }
    }
}

/// The most bytes one group write gathers before writing.
const GROUP_MAX_BYTES: usize = 4 << 20;

enum Command {
    Append {
        bytes: Vec<u8>,
        records: u64,
        ack: oneshot::Sender<PredictionLogResult<()>>,
    },
    /// Fsync the active segment now.
    Flush(oneshot::Sender<PredictionLogResult<()>>),
    /// Seal the active segment; acknowledged once its Arrow files are in place.
    Seal(oneshot::Sender<PredictionLogResult<()>>),
    /// Sent by the syncer so an idle writer still seals old segments.
    Tick,
}

/// A columnar file of a sealed segment.
#[derive(Debug, Clone)]
struct SealedFile {
    seq: u64,
    min_ms: i64,
    max_ms: i64,
    endpoint: String,
    path: PathBuf,
}

/// What a scan can read, kept consistent under one lock.
struct Catalogue {
    active_seq: u64,
    active_path: PathBuf,
    active_file: Arc<File>,
    /// Sealed segments not converted yet.
    unconverted: BTreeMap<u64, PathBuf>,
    sealed: Vec<SealedFile>,
}

struct Shared {
    dir: PathBuf,
    catalogue: Mutex<Catalogue>,
    /// Bytes of the active segment that were written and acknowledged (a scan reads up to here).
    active_len: AtomicU64,
    written_total: AtomicU64,
    synced_total: AtomicU64,
    records_appended: AtomicU64,
    pending_records: AtomicU64,
    last_flush_ms: AtomicI64,
    segments_sealed: AtomicU64,
    stopped: AtomicBool,
    stop_lock: Mutex<()>,
    stop_signal: Condvar,
    /// Held (flock) while the log is open, so a second process cannot write the same folder.
    _lock: File,
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> PredictionLogError + '_ {
    move |source| PredictionLogError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn wal_path(dir: &Path, seq: u64) -> PathBuf {
    dir.join(format!("wal-{seq:016}.log"))
}

fn sync_dir(dir: &Path) -> PredictionLogResult<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(dir))
}

/// The local prediction log. Cheap to share behind an `Arc`; dropping it stops the writer after
/// the queued appends (and fsyncs); [`LocalPredictionLog::close`] also waits for that.
pub struct LocalPredictionLog {
    shared: Arc<Shared>,
    tx: mpsc::Sender<Command>,
    threads: Mutex<Vec<std::thread::JoinHandle<()>>>,
}

impl LocalPredictionLog {
    /// Opens (or creates) the log in `config.dir`: cuts torn tails, queues unconverted segments
    /// for conversion and starts a fresh active segment. Blocking; call it before serving.
    pub fn open(config: LocalLogConfig) -> PredictionLogResult<LocalPredictionLog> {
        let dir = config.dir.clone();
        let sealed_dir = dir.join("sealed");
        std::fs::create_dir_all(&sealed_dir).map_err(io_err(&sealed_dir))?;
        let lock_path = dir.join("LOCK");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io_err(&lock_path))?;
        lock.try_lock().map_err(|e| PredictionLogError::Io {
            path: lock_path.clone(),
            source: std::io::Error::new(
                std::io::ErrorKind::WouldBlock,
                format!("the prediction log is open in another process or handle ({e})"),
            ),
        })?;

        let mut max_seq = 0u64;
        let mut wals = BTreeMap::new();
        for entry in std::fs::read_dir(&dir).map_err(io_err(&dir))? {
            let entry = entry.map_err(io_err(&dir))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(seq) = name
                .strip_prefix("wal-")
                .and_then(|s| s.strip_suffix(".log"))
                .and_then(|s| s.parse::<u64>().ok())
            {
                max_seq = max_seq.max(seq);
                let path = entry.path();
                if recover_segment(&path)? {
                    wals.insert(seq, path);
                } else {
                    std::fs::remove_file(&path).map_err(io_err(&path))?;
                }
            }
        }
        let mut sealed = Vec::new();
        for entry in std::fs::read_dir(&sealed_dir).map_err(io_err(&sealed_dir))? {
            let entry = entry.map_err(io_err(&sealed_dir))?;
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            match parse_sealed_name(&name) {
                Some((seq, min_ms, max_ms, endpoint)) if !wals.contains_key(&seq) => {
                    max_seq = max_seq.max(seq);
                    sealed.push(SealedFile {
                        seq,
                        min_ms,
                        max_ms,
                        endpoint,
                        path,
                    });
                }
                // A conversion that did not finish (its segment still exists), or its
                // temporary files: the segment is converted again below.
                _ => std::fs::remove_file(&path).map_err(io_err(&path))?,
            }
        }
        sealed.sort_by_key(|f| f.seq);

        let active_seq = max_seq + 1;
        let active_path = wal_path(&dir, active_seq);
        let active_file = create_segment(&active_path)?;
        sync_dir(&dir)?;
        let active_file = Arc::new(active_file);

        let shared = Arc::new(Shared {
            dir: dir.clone(),
            catalogue: Mutex::new(Catalogue {
                active_seq,
                active_path: active_path.clone(),
                active_file: active_file.clone(),
                unconverted: wals.clone(),
                sealed,
            }),
            active_len: AtomicU64::new(SEGMENT_MAGIC.len() as u64),
            written_total: AtomicU64::new(0),
            synced_total: AtomicU64::new(0),
            records_appended: AtomicU64::new(0),
            pending_records: AtomicU64::new(0),
            last_flush_ms: AtomicI64::new(i64::MIN),
            segments_sealed: AtomicU64::new(0),
            stopped: AtomicBool::new(false),
            stop_lock: Mutex::new(()),
            stop_signal: Condvar::new(),
            _lock: lock,
        });

        let (tx, rx) = mpsc::channel(config.queue_capacity.max(1));
        let (convert_tx, convert_rx) = std::sync::mpsc::channel::<Conversion>();
        for (seq, path) in wals {
            let _ = convert_tx.send(Conversion {
                seq,
                path: Some(path),
                done: None,
            });
        }
        let mut threads = Vec::new();
        let spawn_err = io_err(&dir);
        {
            let shared = shared.clone();
            threads.push(
                std::thread::Builder::new()
                    .name("predlog-convert".into())
                    .spawn(move || convert_loop(&shared, convert_rx))
                    .map_err(spawn_err)?,
            );
        }
        {
            let shared = shared.clone();
            let writer = Writer {
                shared: shared.clone(),
                config: config.clone(),
                seq: active_seq,
                path: active_path,
                file: active_file,
                len: SEGMENT_MAGIC.len() as u64,
                opened: Instant::now(),
                failed: None,
                convert_tx,
            };
            threads.push(
                std::thread::Builder::new()
                    .name("predlog-writer".into())
                    .spawn(move || writer.run(rx))
                    .map_err(io_err(&dir))?,
            );
        }
        {
            let shared = shared.clone();
            let ticks = tx.downgrade();
            let interval = config.sync_interval;
            threads.push(
                std::thread::Builder::new()
                    .name("predlog-sync".into())
                    .spawn(move || sync_loop(&shared, interval, ticks))
                    .map_err(io_err(&dir))?,
            );
        }
        Ok(LocalPredictionLog {
            shared,
            tx,
            threads: Mutex::new(threads),
        })
    }

    /// Fsyncs everything acknowledged so far.
    pub async fn flush(&self) -> PredictionLogResult<()> {
        let (ack, done) = oneshot::channel();
        self.tx
            .send(Command::Flush(ack))
            .await
            .map_err(|_| PredictionLogError::Closed)?;
        done.await.map_err(|_| PredictionLogError::Closed)?
    }

    /// Seals the active segment and resolves once its Arrow files are written.
    pub async fn seal(&self) -> PredictionLogResult<()> {
        let (ack, done) = oneshot::channel();
        self.tx
            .send(Command::Seal(ack))
            .await
            .map_err(|_| PredictionLogError::Closed)?;
        done.await.map_err(|_| PredictionLogError::Closed)?
    }

    /// Deletes the sealed files whose newest record is older than `cutoff_ms` (a retention
    /// policy); returns how many files were deleted. Scans already running keep their files.
    pub async fn drop_before(&self, cutoff_ms: i64) -> PredictionLogResult<usize> {
        let shared = self.shared.clone();
        tokio::task::spawn_blocking(move || {
            let expired: Vec<SealedFile> = {
                let mut cat = shared.catalogue.lock().expect("catalogue lock");
                let (expired, kept) = std::mem::take(&mut cat.sealed)
                    .into_iter()
                    .partition(|f| f.max_ms < cutoff_ms);
                cat.sealed = kept;
                expired
            };
            for f in &expired {
                std::fs::remove_file(&f.path).map_err(io_err(&f.path))?;
            }
            if !expired.is_empty() {
                sync_dir(&shared.dir.join("sealed"))?;
            }
            Ok(expired.len())
        })
        .await
        .map_err(|_| PredictionLogError::Closed)?
    }

    /// Stops the writer after the queued appends, fsyncs, and waits for pending conversions.
    pub async fn close(self) -> PredictionLogResult<()> {
        let LocalPredictionLog {
            shared,
            tx,
            threads,
        } = self;
        drop(tx);
        let threads = std::mem::take(&mut *threads.lock().expect("threads lock"));
        tokio::task::spawn_blocking(move || {
            for t in threads {
                let _ = t.join();
            }
        })
        .await
        .map_err(|_| PredictionLogError::Closed)?;
        drop(shared);
        Ok(())
    }

    fn scan_blocking(shared: &Shared, query: &ScanQuery) -> PredictionLogResult<PredictionFrame> {
        // Open every file the scan needs under the lock, so a conversion that deletes a segment
        // afterwards cannot take its records away from this scan (an open file stays readable).
        let mut sources: Vec<(u64, Source)> = Vec::new();
        {
            let cat = shared.catalogue.lock().expect("catalogue lock");
            for f in &cat.sealed {
                if f.endpoint == query.endpoint && query.overlaps(f.min_ms, f.max_ms) {
                    let file = File::open(&f.path).map_err(io_err(&f.path))?;
                    sources.push((f.seq, Source::Arrow(file, f.path.clone())));
                }
            }
            for (&seq, path) in &cat.unconverted {
                let file = File::open(path).map_err(io_err(path))?;
                sources.push((seq, Source::Wal(file, path.clone(), u64::MAX)));
            }
            let len = shared.active_len.load(Ordering::Acquire);
            let file = File::open(&cat.active_path).map_err(io_err(&cat.active_path))?;
            sources.push((
                cat.active_seq,
                Source::Wal(file, cat.active_path.clone(), len),
            ));
        }
        sources.sort_by_key(|(seq, _)| *seq);
        let mut out = FrameBuilder::default();
        for (_, source) in sources {
            match source {
                Source::Arrow(file, path) => {
                    columnar::scan_arrow_file(file, &path, query, &mut out)?
                }
                Source::Wal(file, path, len) => scan_wal(file, &path, len, query, &mut out)?,
            }
        }
        Ok(out.finish())
    }
}

enum Source {
    Arrow(File, PathBuf),
    /// A segment file and how many of its bytes are acknowledged records.
    Wal(File, PathBuf, u64),
}

impl PredictionLog for LocalPredictionLog {
    async fn append(&self, batch: Vec<PredictionRecord>) -> PredictionLogResult<()> {
        if batch.is_empty() {
            return Ok(());
        }
        // Encoding runs on the caller's task, so concurrent requests encode in parallel and the
        // writer only copies bytes.
        let mut bytes = Vec::with_capacity(batch.len() * 256);
        for r in &batch {
            codec::encode_frame(r, &mut bytes);
        }
        let records = batch.len() as u64;
        drop(batch);
        let (ack, done) = oneshot::channel();
        self.shared
            .pending_records
            .fetch_add(records, Ordering::Relaxed);
        let sent = self
            .tx
            .send(Command::Append {
                bytes,
                records,
                ack,
            })
            .await;
        if sent.is_err() {
            self.shared
                .pending_records
                .fetch_sub(records, Ordering::Relaxed);
            return Err(PredictionLogError::Closed);
        }
        done.await.map_err(|_| PredictionLogError::Closed)?
    }

    async fn scan(&self, query: &ScanQuery) -> PredictionLogResult<PredictionFrame> {
        let shared = self.shared.clone();
        let query = query.clone();
        tokio::task::spawn_blocking(move || Self::scan_blocking(&shared, &query))
            .await
            .map_err(|_| PredictionLogError::Closed)?
    }

    fn stats(&self) -> PredictionLogStats {
        let s = &self.shared;
        let written = s.written_total.load(Ordering::Relaxed);
        let synced = s.synced_total.load(Ordering::Relaxed);
        let last = s.last_flush_ms.load(Ordering::Relaxed);
        PredictionLogStats {
            records_appended: s.records_appended.load(Ordering::Relaxed),
            bytes_appended: written,
            pending_records: s.pending_records.load(Ordering::Relaxed),
            unsynced_bytes: written.saturating_sub(synced),
            last_flush_ms: (last != i64::MIN).then_some(last),
            segments_sealed: s.segments_sealed.load(Ordering::Relaxed),
            segments_unconverted: s
                .catalogue
                .lock()
                .expect("catalogue lock")
                .unconverted
                .len() as u64,
        }
    }
}

/// Creates a segment file with its magic, fsynced.
fn create_segment(path: &Path) -> PredictionLogResult<File> {
    let mut file = OpenOptions::new()
        .create_new(true)
        .append(true)
        .open(path)
        .map_err(io_err(path))?;
    file.write_all(SEGMENT_MAGIC).map_err(io_err(path))?;
    file.sync_all().map_err(io_err(path))?;
    Ok(file)
}

/// Cuts a segment after its last complete, checksummed record. Returns whether it holds any.
fn recover_segment(path: &Path) -> PredictionLogResult<bool> {
    let mut bytes = Vec::new();
    File::open(path)
        .and_then(|mut f| f.read_to_end(&mut bytes))
        .map_err(io_err(path))?;
    if bytes.len() < SEGMENT_MAGIC.len() {
        return Ok(false);
    }
    if &bytes[..SEGMENT_MAGIC.len()] != SEGMENT_MAGIC {
        return Err(PredictionLogError::Corrupt {
            path: path.to_path_buf(),
            offset: 0,
            reason: "not a prediction log segment (wrong magic)".into(),
        });
    }
    let mut pos = SEGMENT_MAGIC.len();
    let mut records = 0usize;
    while pos < bytes.len() {
        match codec::next_frame(&bytes[pos..]) {
            Ok((_, used)) => {
                pos += used;
                records += 1;
            }
            Err(FrameError::Incomplete | FrameError::Checksum) => break,
        }
    }
    if pos < bytes.len() {
        let file = OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(io_err(path))?;
        file.set_len(pos as u64).map_err(io_err(path))?;
        file.sync_all().map_err(io_err(path))?;
    }
    Ok(records > 0)
}

pub(super) fn parse_sealed_name(name: &str) -> Option<(u64, i64, i64, String)> {
    let mut parts = name.split('.');
    let seq = parts.next()?.parse().ok()?;
    let min_ms = parts.next()?.parse().ok()?;
    let max_ms = parts.next()?.parse().ok()?;
    let endpoint = unescape_name(parts.next()?)?;
    (parts.next()? == "arrow" && parts.next().is_none()).then_some((seq, min_ms, max_ms, endpoint))
}

/// Reads the records of a segment (up to `len` bytes) that match the query.
fn scan_wal(
    mut file: File,
    path: &Path,
    len: u64,
    query: &ScanQuery,
    out: &mut FrameBuilder,
) -> PredictionLogResult<()> {
    let mut bytes = Vec::new();
    if len == u64::MAX {
        file.read_to_end(&mut bytes).map_err(io_err(path))?;
    } else {
        (&mut file)
            .take(len)
            .read_to_end(&mut bytes)
            .map_err(io_err(path))?;
    }
    for_each_frame(&bytes, path, |payload, offset| {
        let corrupt = |reason| PredictionLogError::Corrupt {
            path: path.to_path_buf(),
            offset,
            reason,
        };
        let key = codec::decode_key(payload).map_err(corrupt)?;
        if key.endpoint == query.endpoint
            && query.matches(key.time_ms, key.model, key.version, key.variant)
        {
            out.push_record(codec::decode_record(payload).map_err(corrupt)?);
        }
        Ok(())
    })
}

/// Calls `f` with each frame's payload and offset. The bytes come from a recovered segment or
/// the acknowledged prefix of the active one, so a bad frame is corruption, not a torn tail.
fn for_each_frame(
    bytes: &[u8],
    path: &Path,
    mut f: impl FnMut(&[u8], u64) -> PredictionLogResult<()>,
) -> PredictionLogResult<()> {
    let mut pos = SEGMENT_MAGIC.len().min(bytes.len());
    while pos < bytes.len() {
        let (payload, used) =
            codec::next_frame(&bytes[pos..]).map_err(|e| PredictionLogError::Corrupt {
                path: path.to_path_buf(),
                offset: pos as u64,
                reason: format!("bad frame ({e:?})"),
            })?;
        f(payload, pos as u64)?;
        pos += used;
    }
    Ok(())
}

struct Writer {
    shared: Arc<Shared>,
    config: LocalLogConfig,
    seq: u64,
    path: PathBuf,
    file: Arc<File>,
    len: u64,
    opened: Instant,
    /// Set when the segment could not be restored after a failed write: later appends fail.
    failed: Option<String>,
    convert_tx: std::sync::mpsc::Sender<Conversion>,
}

struct Conversion {
    seq: u64,
    /// `None`: no segment, only a marker answered after the conversions queued before it.
    path: Option<PathBuf>,
    done: Option<oneshot::Sender<PredictionLogResult<()>>>,
}

impl Writer {
    fn run(mut self, mut rx: mpsc::Receiver<Command>) {
        let mut buf: Vec<u8> = Vec::with_capacity(GROUP_MAX_BYTES);
        let mut acks: Vec<(oneshot::Sender<PredictionLogResult<()>>, u64)> = Vec::new();
        let mut flushes = Vec::new();
        let mut seals = Vec::new();
        while let Some(first) = rx.blocking_recv() {
            let mut next = Some(first);
            while let Some(cmd) = next.take() {
                match cmd {
                    Command::Append {
                        bytes,
                        records,
                        ack,
                    } => {
                        buf.extend_from_slice(&bytes);
                        acks.push((ack, records));
                    }
                    Command::Flush(ack) => flushes.push(ack),
                    Command::Seal(ack) => seals.push(ack),
                    Command::Tick => {}
                }
                if buf.len() < GROUP_MAX_BYTES {
                    next = rx.try_recv().ok();
                }
            }
            let result = self.write_group(&buf);
            let records: u64 = acks.iter().map(|(_, n)| n).sum();
            if result.is_ok() {
                self.shared
                    .records_appended
                    .fetch_add(records, Ordering::Relaxed);
            }
            self.shared
                .pending_records
                .fetch_sub(records, Ordering::Relaxed);
            for (ack, _) in acks.drain(..) {
                let _ = ack.send(result.as_ref().map(|_| ()).map_err(clone_err));
            }
            buf.clear();

            let full = self.len >= self.config.segment_max_bytes
                || (self.opened.elapsed() >= self.config.segment_max_age
                    && self.len > SEGMENT_MAGIC.len() as u64);
            if full || !seals.is_empty() {
                let result = self.rotate(std::mem::take(&mut seals));
                if let Err(e) = result {
                    self.failed = Some(e.to_string());
                }
            }
            for ack in flushes.drain(..) {
                let _ = ack.send(self.sync());
            }
        }
        // Every sender is gone: make the acknowledged records durable before stopping.
        let _ = self.sync();
        self.shared.stopped.store(true, Ordering::Release);
        let _guard = self.shared.stop_lock.lock();
        self.shared.stop_signal.notify_all();
    }

    fn write_group(&mut self, buf: &[u8]) -> PredictionLogResult<()> {
        if let Some(reason) = &self.failed {
            return Err(PredictionLogError::Io {
                path: self.path.clone(),
                source: std::io::Error::other(reason.clone()),
            });
        }
        if buf.is_empty() {
            return Ok(());
        }
        let mut file: &File = &self.file;
        if let Err(source) = file.write_all(buf) {
            // Cut the partial write so later records do not follow a torn frame, which recovery
            // would take for the end of the segment.
            if let Err(e) = self.file.set_len(self.len) {
                self.failed = Some(format!("cannot cut a failed write: {e}"));
            }
            return Err(PredictionLogError::Io {
                path: self.path.clone(),
                source,
            });
        }
        if self.len == SEGMENT_MAGIC.len() as u64 {
            // A segment's age counts from its first record.
            self.opened = Instant::now();
        }
        self.len += buf.len() as u64;
        let total = self
            .shared
            .written_total
            .fetch_add(buf.len() as u64, Ordering::AcqRel)
            + buf.len() as u64;
        self.shared.active_len.store(self.len, Ordering::Release);
        if self.config.ack == AckPolicy::Synced {
            // The records are in the segment either way; an error here only means they are not
            // known to be on stable storage, which is what this policy acknowledges.
            self.file.sync_data().map_err(io_err(&self.path))?;
            self.shared.synced_total.fetch_max(total, Ordering::AcqRel);
            self.shared.last_flush_ms.store(now_ms(), Ordering::Relaxed);
        }
        Ok(())
    }

    fn sync(&self) -> PredictionLogResult<()> {
        let total = self.shared.written_total.load(Ordering::Acquire);
        self.file.sync_data().map_err(io_err(&self.path))?;
        self.shared.synced_total.fetch_max(total, Ordering::AcqRel);
        self.shared.last_flush_ms.store(now_ms(), Ordering::Relaxed);
        Ok(())
    }

    /// Seals the active segment (if it holds records) and starts the next one.
    fn rotate(
        &mut self,
        seals: Vec<oneshot::Sender<PredictionLogResult<()>>>,
    ) -> PredictionLogResult<()> {
        if self.len <= SEGMENT_MAGIC.len() as u64 {
            // Nothing to seal; the acknowledgement still waits for earlier conversions.
            if !seals.is_empty() {
                let (done, waiter) = oneshot::channel();
                let _ = self.convert_tx.send(Conversion {
                    seq: self.seq,
                    path: None,
                    done: Some(done),
                });
                acknowledge_seals(waiter, seals);
            }
            return Ok(());
        }
        self.sync()?;
        let seq = self.seq + 1;
        let path = wal_path(&self.shared.dir, seq);
        let file = Arc::new(create_segment(&path)?);
        sync_dir(&self.shared.dir)?;
        let old_seq = self.seq;
        let old_path = std::mem::replace(&mut self.path, path.clone());
        self.file = file.clone();
        self.seq = seq;
        self.len = SEGMENT_MAGIC.len() as u64;
        self.opened = Instant::now();
        {
            let mut cat = self.shared.catalogue.lock().expect("catalogue lock");
            cat.unconverted.insert(old_seq, old_path.clone());
            cat.active_seq = seq;
            cat.active_path = path;
            cat.active_file = file;
            self.shared.active_len.store(self.len, Ordering::Release);
        }
        // One conversion per seal; every waiting `seal()` learns when it is done.
        let (done, waiter) = oneshot::channel();
        let _ = self.convert_tx.send(Conversion {
            seq: old_seq,
            path: Some(old_path),
            done: Some(done),
        });
        acknowledge_seals(waiter, seals);
        Ok(())
    }
}

/// Answers the `seal()` calls once the converter reports (without blocking the writer).
fn acknowledge_seals(
    waiter: oneshot::Receiver<PredictionLogResult<()>>,
    seals: Vec<oneshot::Sender<PredictionLogResult<()>>>,
) {
    if seals.is_empty() {
        return;
    }
    std::thread::spawn(move || {
        let result = waiter
            .blocking_recv()
            .unwrap_or(Err(PredictionLogError::Closed));
        for ack in seals {
            let _ = ack.send(result.as_ref().map(|_| ()).map_err(clone_err));
        }
    });
}

/// Errors are not `Clone` (they hold `io::Error`); acknowledgements of one group share one.
fn clone_err(e: &PredictionLogError) -> PredictionLogError {
    match e {
        PredictionLogError::Io { path, source } => PredictionLogError::Io {
            path: path.clone(),
            source: std::io::Error::new(source.kind(), source.to_string()),
        },
        PredictionLogError::Corrupt {
            path,
            offset,
            reason,
        } => PredictionLogError::Corrupt {
            path: path.clone(),
            offset: *offset,
            reason: reason.clone(),
        },
        PredictionLogError::Closed => PredictionLogError::Closed,
        other => PredictionLogError::JetStream {
            operation: "acknowledge",
            message: other.to_string(),
        },
    }
}

fn sync_loop(shared: &Shared, interval: Duration, ticks: mpsc::WeakSender<Command>) {
    loop {
        {
            let guard = shared.stop_lock.lock().expect("stop lock");
            if shared.stopped.load(Ordering::Acquire) {
                return;
            }
            let _ = shared
                .stop_signal
                .wait_timeout(guard, interval)
                .expect("stop lock");
        }
        if shared.stopped.load(Ordering::Acquire) {
            return;
        }
        let total = shared.written_total.load(Ordering::Acquire);
        if total > shared.synced_total.load(Ordering::Acquire) {
            // Snapshot the total before taking the file: the bytes counted are all in this file
            // or in a sealed one, which the writer fsynced when sealing it.
            let file = shared
                .catalogue
                .lock()
                .expect("catalogue lock")
                .active_file
                .clone();
            if file.sync_data().is_ok() {
                shared.synced_total.fetch_max(total, Ordering::AcqRel);
                shared.last_flush_ms.store(now_ms(), Ordering::Relaxed);
            }
        }
        match ticks.upgrade() {
            Some(tx) => {
                let _ = tx.try_send(Command::Tick);
            }
            None => return,
        }
    }
}

fn convert_loop(shared: &Shared, rx: std::sync::mpsc::Receiver<Conversion>) {
    while let Ok(job) = rx.recv() {
        let Some(path) = job.path else {
            if let Some(done) = job.done {
                let _ = done.send(Ok(()));
            }
            continue;
        };
        let result = convert(shared, job.seq, &path);
        if result.is_ok() {
            shared.segments_sealed.fetch_add(1, Ordering::Relaxed);
        }
        // A failed conversion leaves the segment in place: scans keep reading it, and the next
        // open converts it again.
        if let Some(done) = job.done {
            let _ = done.send(result);
        }
    }
}

/// Writes the Arrow files of a sealed segment, swaps them into the catalogue and deletes it.
fn convert(shared: &Shared, seq: u64, path: &Path) -> PredictionLogResult<()> {
    let mut bytes = Vec::new();
    File::open(path)
        .and_then(|mut f| f.read_to_end(&mut bytes))
        .map_err(io_err(path))?;
    let mut by_endpoint: HashMap<String, (FrameBuilder, i64, i64)> = HashMap::new();
    for_each_frame(&bytes, path, |payload, offset| {
        let r = codec::decode_record(payload).map_err(|reason| PredictionLogError::Corrupt {
            path: path.to_path_buf(),
            offset,
            reason,
        })?;
        if !by_endpoint.contains_key(&r.endpoint) {
            by_endpoint.insert(
                r.endpoint.clone(),
                (FrameBuilder::default(), i64::MAX, i64::MIN),
            );
        }
        let entry = by_endpoint.get_mut(&r.endpoint).expect("inserted above");
        entry.1 = entry.1.min(r.time_ms);
        entry.2 = entry.2.max(r.time_ms);
        entry.0.push_record(r);
        Ok(())
    })?;
    drop(bytes);
    let sealed_dir = shared.dir.join("sealed");
    let mut files = Vec::new();
    for (endpoint, (builder, min_ms, max_ms)) in by_endpoint {
        if builder.len() == 0 {
            continue;
        }
        let name = format!(
            "{seq:016}.{min_ms}.{max_ms}.{}.arrow",
            escape_name(&endpoint)
        );
        let final_path = sealed_dir.join(&name);
        let tmp_path = sealed_dir.join(format!("{name}.tmp"));
        columnar::write_arrow_file(&tmp_path, &builder.finish(), &endpoint)?;
        std::fs::rename(&tmp_path, &final_path).map_err(io_err(&final_path))?;
        files.push(SealedFile {
            seq,
            min_ms,
            max_ms,
            endpoint,
            path: final_path,
        });
    }
    sync_dir(&sealed_dir)?;
    {
        let mut cat = shared.catalogue.lock().expect("catalogue lock");
        cat.unconverted.remove(&seq);
        cat.sealed.extend(files);
        cat.sealed.sort_by_key(|f| f.seq);
    }
    std::fs::remove_file(path).map_err(io_err(path))?;
    sync_dir(&shared.dir)
}
