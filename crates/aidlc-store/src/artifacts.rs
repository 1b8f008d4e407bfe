//! The artifact store: files addressed by their BLAKE3 hash.
//!
//! A write goes to a temporary file in the same folder, is fsynced and then renamed into place,
//! so a reader never sees a partial artifact and a crash leaves at most a stray temporary file.
//! Every read re-hashes the bytes: a corrupted file is reported, never served.

use aidlc_core::ids::ContentHash;
use std::future::Future;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ArtifactError {
    #[error("artifact {0} not found")]
    NotFound(ContentHash),
    #[error("artifact {hash} is corrupt: its bytes hash to {actual}")]
    Corrupt {
        hash: ContentHash,
        actual: ContentHash,
    },
    #[error("artifact store I/O error on {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> ArtifactError + '_ {
    move |source| ArtifactError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Content-addressed blob storage. The local folder implements it now; an object-store backend
/// (S3-compatible, through the `object_store` crate) implements the same four operations.
pub trait ArtifactStore: Send + Sync {
    /// Stores bytes and returns their hash; storing the same bytes again is a no-op.
    fn put_bytes(
        &self,
        bytes: Vec<u8>,
    ) -> impl Future<Output = Result<ContentHash, ArtifactError>> + Send;
    /// Streams a local file into the store without loading it whole.
    fn put_file(
        &self,
        path: &Path,
    ) -> impl Future<Output = Result<ContentHash, ArtifactError>> + Send;
    /// Reads and verifies an artifact.
    fn get_bytes(
        &self,
        hash: &ContentHash,
    ) -> impl Future<Output = Result<Vec<u8>, ArtifactError>> + Send;
    /// Copies a verified artifact to a local file (written atomically).
    fn get_to_file(
        &self,
        hash: &ContentHash,
        dest: &Path,
    ) -> impl Future<Output = Result<(), ArtifactError>> + Send;
    fn exists(
        &self,
        hash: &ContentHash,
    ) -> impl Future<Output = Result<bool, ArtifactError>> + Send;
}

/// Artifacts under a local folder (`.aidlc/artifacts/` by default), sharded by the first two hex
/// digits so no folder grows too large.
#[derive(Debug, Clone)]
pub struct LocalArtifactStore {
    root: PathBuf,
}

impl LocalArtifactStore {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where an artifact lives (whether or not it exists).
    pub fn path_of(&self, hash: &ContentHash) -> PathBuf {
        let hex = hash.hex();
        self.root.join(&hex[..2]).join(hex)
    }

    /// Streams `reader` into a temporary file while hashing, then renames it to its address.
    fn put_reader(&self, mut reader: impl Read) -> Result<ContentHash, ArtifactError> {
        let tmp_dir = self.root.join("tmp");
        std::fs::create_dir_all(&tmp_dir).map_err(io_err(&tmp_dir))?;
        let mut tmp = tempfile::NamedTempFile::new_in(&tmp_dir).map_err(io_err(&tmp_dir))?;
        let mut hasher = blake3::Hasher::new();
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = reader.read(&mut buf).map_err(io_err(tmp.path()))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            tmp.write_all(&buf[..n]).map_err(io_err(tmp.path()))?;
        }
        tmp.as_file().sync_all().map_err(io_err(tmp.path()))?;
        let hash = ContentHash::from_blake3(hasher.finalize());
        let dest = self.path_of(&hash);
        if dest.exists() {
            return Ok(hash);
        }
        let dir = dest.parent().expect("sharded path has a parent");
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        tmp.persist(&dest).map_err(|e| ArtifactError::Io {
            path: dest.clone(),
            source: e.error,
        })?;
        // The rename is durable only once the folder entry is on disk.
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(hash)
    }

    fn read_verified(&self, hash: &ContentHash) -> Result<Vec<u8>, ArtifactError> {
        let path = self.path_of(hash);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(ArtifactError::NotFound(hash.clone()));
            }
            Err(e) => return Err(io_err(&path)(e)),
        };
        let actual = ContentHash::of(&bytes);
        if &actual != hash {
            return Err(ArtifactError::Corrupt {
                hash: hash.clone(),
                actual,
            });
        }
        Ok(bytes)
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ArtifactError> + Send + 'static,
) -> Result<T, ArtifactError> {
    tokio::task::spawn_blocking(f)
        .await
        .expect("artifact store task panicked")
}

impl ArtifactStore for LocalArtifactStore {
    async fn put_bytes(&self, bytes: Vec<u8>) -> Result<ContentHash, ArtifactError> {
        let this = self.clone();
        blocking(move || this.put_reader(bytes.as_slice())).await
    }

    async fn put_file(&self, path: &Path) -> Result<ContentHash, ArtifactError> {
        let this = self.clone();
        let path = path.to_path_buf();
        blocking(move || {
            let f = std::fs::File::open(&path).map_err(io_err(&path))?;
            this.put_reader(std::io::BufReader::new(f))
        })
        .await
    }

    async fn get_bytes(&self, hash: &ContentHash) -> Result<Vec<u8>, ArtifactError> {
        let this = self.clone();
        let hash = hash.clone();
        blocking(move || this.read_verified(&hash)).await
    }

    async fn get_to_file(&self, hash: &ContentHash, dest: &Path) -> Result<(), ArtifactError> {
        let this = self.clone();
        let hash = hash.clone();
        let dest = dest.to_path_buf();
        blocking(move || {
            let bytes = this.read_verified(&hash)?;
            let dir = dest
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io_err(dir))?;
            tmp.write_all(&bytes).map_err(io_err(&dest))?;
            tmp.persist(&dest).map_err(|e| ArtifactError::Io {
                path: dest.clone(),
                source: e.error,
            })?;
            Ok(())
        })
        .await
    }

    async fn exists(&self, hash: &ContentHash) -> Result<bool, ArtifactError> {
        Ok(self.path_of(hash).exists())
    }
}
