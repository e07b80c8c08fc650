//! The file of a build tag's remembered answers: `<solv cache>/memory/<koji id>-<tag>-<arch>.bin`.
//!
//! A binary format, written to a temporary file in the same directory and renamed over the
//! old one, so a reader sees a whole file or none:
//!
//! ```text
//! magic "koschei-memory\n", format version (u32 LE)
//! koji id, build tag, arch                       (strings: varint length + UTF-8)
//! repo id (i64 LE), repomd checksum, option flags (u8), build group (varint count + strings)
//! NEVRA strings (varint count + strings)
//! answers (varint count; each: BuildRequires (count + strings), resolved (u8), packed installs (varint length + bytes))
//! SHA-256 of everything above
//! ```
//!
//! A missing file reads as `None`; anything else that is not a whole, matching file is an
//! error, which the caller logs before resolving fully.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::ResolveOptions;
use koschei_core::model::RepoId;
use sha2::Digest;

use super::memory::{Generation, Interner, MemorySettings, Packed, get_varint, put_varint};

const MAGIC: &[u8] = b"koschei-memory\n";
/// The format version, which is [`crate::ANSWERS_VERSION`]: 2 since the
/// multilib lock-step and trailing-slash rules; a version-1 file holds answers
/// of the earlier rules, which must not be carried over, and is not read.
const VERSION: u32 = crate::ANSWERS_VERSION;

/// Whether a name can be part of a file name as it is.
fn plain(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.+".contains(c))
}

/// The file of `build_tag`, `None` when the memory is not persisted or the names do not make
/// a plain file name.
pub(super) fn path(settings: &MemorySettings, build_tag: &str) -> Option<PathBuf> {
    let dir = settings.dir.as_ref()?;
    [settings.koji_id.as_str(), build_tag, settings.arch.as_str()]
        .iter()
        .all(|n| plain(n))
        .then(|| {
            dir.join(format!(
                "{}-{build_tag}-{}.bin",
                settings.koji_id, settings.arch
            ))
        })
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_varint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

fn put_strs(out: &mut Vec<u8>, v: &[String]) {
    put_varint(out, v.len() as u64);
    for s in v {
        put_str(out, s);
    }
}

/// The file's bytes for `generation`.
fn encode(settings: &MemorySettings, build_tag: &str, g: &Generation) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 << 16);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    put_str(&mut out, &settings.koji_id);
    put_str(&mut out, build_tag);
    put_str(&mut out, &g.arch);
    out.extend_from_slice(&i64::from(g.repo_id.0).to_le_bytes());
    put_str(&mut out, &g.checksum);
    out.push(
        u8::from(g.options.ignore_weak_deps) | (u8::from(g.options.override_by_exclusion) << 1),
    );
    put_strs(&mut out, &g.group);
    put_strs(&mut out, g.nevras.strings());
    put_varint(&mut out, g.answers.len() as u64);
    // Sorted, so the same memory always gives the same bytes.
    let mut answers: Vec<(&Vec<String>, &Packed)> = g.answers.iter().collect();
    answers.sort_by(|a, b| a.0.cmp(b.0));
    for (brs, packed) in answers {
        put_strs(&mut out, brs);
        out.push(u8::from(packed.resolved));
        put_varint(&mut out, packed.installs.len() as u64);
        out.extend_from_slice(&packed.installs);
    }
    let digest = sha2::Sha256::digest(&out);
    out.extend_from_slice(&digest);
    out
}

/// Why a memory file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// A file operation failed.
    #[error("cannot {action} `{}`", path.display())]
    Io {
        /// What was attempted (`read`, `create`, `write`, `rename ... to`).
        action: String,
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The file's content is not a valid memory of this tag.
    #[error("{0}")]
    Malformed(String),
}

fn io(action: impl Into<String>, path: &Path) -> impl FnOnce(std::io::Error) -> FileError {
    let (action, path) = (action.into(), path.to_owned());
    move |source| FileError::Io {
        action,
        path,
        source,
    }
}

fn malformed(what: &str) -> FileError {
    FileError::Malformed(what.to_owned())
}

fn fixed<const N: usize>(bytes: &[u8]) -> Result<[u8; N], FileError> {
    bytes.try_into().map_err(|_| malformed("truncated"))
}

macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(FileError::Malformed(format!($($msg)+)));
        }
    };
}

static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Writes `generation` to `path` atomically; returns the file size.
pub(super) fn write(
    path: &Path,
    settings: &MemorySettings,
    build_tag: &str,
    generation: &Generation,
) -> Result<usize, FileError> {
    let bytes = encode(settings, build_tag, generation);
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io("create", dir))?;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(
        ".tmp.{}.{}",
        std::process::id(),
        TMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let tmp = PathBuf::from(tmp);
    let result = (|| {
        let mut f = std::fs::File::create(&tmp).map_err(io("create", &tmp))?;
        f.write_all(&bytes)
            .and_then(|()| f.sync_all())
            .map_err(io("write", &tmp))?;
        std::fs::rename(&tmp, path)
            .map_err(io(format!("rename to `{}` the file", path.display()), &tmp))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map(|()| bytes.len())
}

/// A bounds-checked reader over the file's bytes.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], FileError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len())
            .ok_or_else(|| malformed("truncated"))?;
        let s = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn varint(&mut self) -> Result<u64, FileError> {
        get_varint(self.bytes, &mut self.pos).ok_or_else(|| malformed("malformed number"))
    }

    /// A count of items of at least one byte each (so garbage cannot ask for huge buffers).
    fn count(&mut self) -> Result<usize, FileError> {
        let n = usize::try_from(self.varint()?).map_err(|_| malformed("count out of range"))?;
        ensure!(n <= self.bytes.len() - self.pos, "count {n} beyond the end");
        Ok(n)
    }

    fn byte(&mut self) -> Result<u8, FileError> {
        Ok(self.take(1)?[0])
    }

    fn string(&mut self) -> Result<String, FileError> {
        let n = self.count()?;
        Ok(std::str::from_utf8(self.take(n)?)
            .map_err(|_| malformed("not UTF-8"))?
            .to_owned())
    }

    fn strings(&mut self) -> Result<Vec<String>, FileError> {
        let n = self.count()?;
        (0..n).map(|_| self.string()).collect()
    }
}

/// Parses a whole file; checks that it belongs to `build_tag` of this Koji and arch.
fn decode(
    bytes: &[u8],
    settings: &MemorySettings,
    build_tag: &str,
) -> Result<Generation, FileError> {
    ensure!(bytes.len() >= 32, "too short");
    let (body, digest) = bytes.split_at(bytes.len() - 32);
    ensure!(
        sha2::Sha256::digest(body).as_slice() == digest,
        "checksum mismatch (corrupt file)"
    );
    let mut r = Reader {
        bytes: body,
        pos: 0,
    };
    ensure!(r.take(MAGIC.len())? == MAGIC, "not a memory file");
    let version = u32::from_le_bytes(fixed(r.take(4)?)?);
    ensure!(
        version == VERSION,
        "format version {version}, expected {VERSION}"
    );
    let (koji_id, tag, arch) = (r.string()?, r.string()?, r.string()?);
    ensure!(
        koji_id == settings.koji_id && tag == build_tag && arch == settings.arch,
        "it belongs to `{koji_id}` tag `{tag}` arch `{arch}`"
    );
    let repo_id = i64::from_le_bytes(fixed(r.take(8)?)?);
    let repo_id = RepoId(i32::try_from(repo_id).map_err(|_| malformed("repo id out of range"))?);
    let checksum = r.string()?;
    let flags = r.byte()?;
    let options = ResolveOptions {
        ignore_weak_deps: flags & 1 != 0,
        override_by_exclusion: flags & 2 != 0,
    };
    let group = r.strings()?;
    let mut nevras = Interner::default();
    for s in r.strings()? {
        nevras.intern(&s);
    }
    let n = r.count()?;
    let mut answers = HashMap::with_capacity(n);
    for _ in 0..n {
        let brs = r.strings()?;
        let resolved = r.byte()? != 0;
        let len = r.count()?;
        let packed = Packed {
            resolved,
            installs: r.take(len)?.into(),
        };
        ensure!(
            packed.unpack(nevras.len()).is_some(),
            "malformed install set"
        );
        answers.insert(brs, packed);
    }
    ensure!(r.pos == body.len(), "trailing bytes");
    Ok(Generation {
        repo_id,
        checksum,
        group,
        options,
        arch,
        nevras,
        answers,
        repo: None,
    })
}

/// Reads the file of `build_tag`: `None` when there is none.
pub(super) fn read(
    path: &Path,
    settings: &MemorySettings,
    build_tag: &str,
) -> Result<Option<Generation>, FileError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io("read", path)(e)),
    };
    decode(&bytes, settings, build_tag).map(Some)
}
