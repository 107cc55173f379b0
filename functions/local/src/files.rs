//! File primitives shared by the local adapters: atomic writes, JSON reads and folder listings.
//!
//! Every adapter in this crate writes through [`write_atomic`], so a crash, a kill or a full disk
//! leaves either the old file or the new one, never half of one. Reads tell "missing" (first run)
//! apart from "damaged" (hand-edited, cut short), and errors never quote file content, because the
//! content is personal data.

use serde::de::DeserializeOwned;
use serde_json::error::Category;
use std::fs;
use std::io::{self, Write};
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};

/// Suffix of the temporary files [`write_atomic`] renames into place. Listings skip them, so a
/// leftover from a killed process is never read as data.
const TEMP_SUFFIX: &str = ".tmp";

/// Below this many files a single thread is faster than starting several.
const PARALLEL_THRESHOLD: usize = 512;

/// Why a file could not be read.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The file system refused.
    Io(io::Error),
    /// The content does not parse; a description without any of the content.
    Corrupt(String),
}

/// Writes `bytes` to `path` so that readers see the old content or the new, never a mix: write a
/// temporary file in the same folder (a rename is only atomic within one file system), flush it to
/// disk, rename it over `path`, then flush the folder so the rename itself survives a power cut.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = parent(path)?;
    fs::create_dir_all(dir)?;
    let temp = durable_temp(dir, bytes)?;
    temp.persist(path).map_err(|err| err.error)?;
    sync_dir(dir)
}

/// A hidden temporary file in `dir` holding `bytes`, flushed to disk, ready to be renamed.
fn durable_temp(dir: &Path, bytes: &[u8]) -> io::Result<tempfile::NamedTempFile> {
    let mut temp = tempfile::Builder::new()
        .prefix(".")
        .suffix(TEMP_SUFFIX)
        .tempfile_in(dir)?;
    temp.write_all(bytes)?;
    temp.as_file().sync_all()?;
    Ok(temp)
}

/// Like [`write_atomic`], but never replaces an existing file: tries `name(n)` for `n = first,
/// first + 1, …` until a name is free, and returns the path it used. Safe across processes, since
/// the final step is a no-clobber rename that the file system arbitrates.
pub(crate) fn write_new(
    dir: &Path,
    bytes: &[u8],
    first: u64,
    name: impl Fn(u64) -> String,
) -> io::Result<PathBuf> {
    // Enough for every message of a busy second; a folder that full is a broken folder.
    const MAX_ATTEMPTS: u64 = 100_000;
    fs::create_dir_all(dir)?;
    let mut temp = durable_temp(dir, bytes)?;
    for n in first..first.saturating_add(MAX_ATTEMPTS) {
        let path = dir.join(name(n));
        match temp.persist_noclobber(&path) {
            Ok(_) => {
                sync_dir(dir)?;
                return Ok(path);
            }
            Err(err) if err.error.kind() == io::ErrorKind::AlreadyExists => temp = err.file,
            Err(err) => return Err(err.error),
        }
    }
    Err(io::Error::other(format!(
        "no free file name after {MAX_ATTEMPTS} attempts"
    )))
}

fn parent(path: &Path) -> io::Result<&Path> {
    path.parent()
        .filter(|dir| !dir.as_os_str().is_empty())
        .ok_or_else(|| io::Error::other("the path has no parent folder"))
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> io::Result<()> {
    // Folders cannot be opened as files on other platforms; the rename is still atomic there.
    Ok(())
}

/// Reads and parses one JSON file; `Ok(None)` when it does not exist.
pub(crate) fn read_json<T: DeserializeOwned>(path: &Path) -> Result<Option<T>, ReadError> {
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(ReadError::Io(err)),
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|err| ReadError::Corrupt(describe_json_error(&err)))
}

/// Reads many JSON files that must exist, on several threads when there are many: one file costs
/// an open, a read and a parse, so a snapshot of 50,000 people is bound by the number of calls,
/// which threads overlap. On error returns the first failing path with its error.
pub(crate) fn read_json_all<T: DeserializeOwned + Send>(
    paths: Vec<PathBuf>,
) -> Result<Vec<(PathBuf, T)>, (PathBuf, ReadError)> {
    let threads = std::thread::available_parallelism()
        .map_or(1, NonZeroUsize::get)
        .clamp(1, 8);
    if paths.len() < PARALLEL_THRESHOLD || threads == 1 {
        return read_chunk(&paths);
    }
    let chunk_len = paths.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let mut handles = Vec::with_capacity(threads);
        for chunk in paths.chunks(chunk_len) {
            let handle = std::thread::Builder::new()
                .name("sync-local-read".into())
                .spawn_scoped(scope, move || read_chunk(chunk));
            match handle {
                Ok(handle) => handles.push(handle),
                Err(err) => return Err((chunk[0].clone(), ReadError::Io(err))),
            }
        }
        let mut all = Vec::with_capacity(paths.len());
        for handle in handles {
            match handle.join() {
                Ok(read) => all.extend(read?),
                // A panic in a reader is a bug, not an I/O condition: let it surface as one.
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        Ok(all)
    })
}

fn read_chunk<T: DeserializeOwned>(
    paths: &[PathBuf],
) -> Result<Vec<(PathBuf, T)>, (PathBuf, ReadError)> {
    paths
        .iter()
        .map(|path| match read_json(path) {
            Ok(Some(value)) => Ok((path.clone(), value)),
            Ok(None) => Err((
                path.clone(),
                ReadError::Io(io::Error::new(
                    io::ErrorKind::NotFound,
                    "the file disappeared while the folder was read",
                )),
            )),
            Err(err) => Err((path.clone(), err)),
        })
        .collect()
}

/// The data files (`*.<extension>`) directly in `dir`, unsorted; an empty list when `dir` does not
/// exist. Hidden files (temporary files of an interrupted write) are skipped.
pub(crate) fn data_files(dir: &Path, extension: &str) -> io::Result<Vec<PathBuf>> {
    visible_entries(dir, |name, entry| {
        let is_data = Path::new(name).extension().and_then(|ext| ext.to_str()) == Some(extension);
        Ok((is_data && entry.file_type()?.is_file()).then(|| entry.path()))
    })
}

/// The sub-folders directly in `dir` with their names; empty when `dir` does not exist.
pub(crate) fn sub_dirs(dir: &Path) -> io::Result<Vec<(String, PathBuf)>> {
    visible_entries(dir, |name, entry| {
        Ok(entry
            .file_type()?
            .is_dir()
            .then(|| (name.to_owned(), entry.path())))
    })
}

/// What `pick` makes of the entries directly in `dir` whose names are text and do not start with
/// `.`; empty when `dir` does not exist.
fn visible_entries<T>(
    dir: &Path,
    mut pick: impl FnMut(&str, &fs::DirEntry) -> io::Result<Option<T>>,
) -> io::Result<Vec<T>> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => return Err(err),
    };
    let mut picked = Vec::new();
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.starts_with('.') {
            continue;
        }
        if let Some(item) = pick(name, &entry)? {
            picked.push(item);
        }
    }
    Ok(picked)
}

/// The file name without its extension, as text.
pub(crate) fn stem(path: &Path) -> &str {
    path.file_stem()
        .and_then(|stem| stem.to_str())
        .unwrap_or("")
}

/// What is wrong with a JSON document, without quoting it: serde_json's own messages include the
/// offending value, which may be a name or an email.
pub(crate) fn describe_json_error(error: &serde_json::Error) -> String {
    let what = match error.classify() {
        Category::Io => "could not be read to the end",
        Category::Syntax => "is not valid JSON",
        Category::Data => "has a value of the wrong type or lacks a required field",
        Category::Eof => "ends too early (the file was cut short)",
    };
    format!(
        "the content {what} at line {} column {}",
        error.line(),
        error.column()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_content_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/value.json");
        write_atomic(&path, b"[1]").unwrap();
        write_atomic(&path, b"[2]").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"[2]");
        let names: Vec<_> = fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert_eq!(names, ["value.json"]);
    }

    #[test]
    fn write_new_never_replaces_an_existing_file() {
        let dir = tempfile::tempdir().unwrap();
        let name = |n: u64| format!("m-{n}.eml");
        let first = write_new(dir.path(), b"one", 0, name).unwrap();
        let second = write_new(dir.path(), b"two", 0, name).unwrap();
        assert_eq!(first, dir.path().join("m-0.eml"));
        assert_eq!(second, dir.path().join("m-1.eml"));
        assert_eq!(fs::read(first).unwrap(), b"one");
    }

    #[test]
    fn json_errors_do_not_quote_the_content() {
        let err = serde_json::from_str::<u64>("\"Jane Doe\"").unwrap_err();
        let text = describe_json_error(&err);
        assert!(!text.contains("Jane"), "{text}");
        assert!(text.contains("line 1"), "{text}");
    }

    #[test]
    fn many_files_are_read_in_parallel_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let paths: Vec<PathBuf> = (0..1500)
            .map(|n| {
                let path = dir.path().join(format!("{n}.json"));
                fs::write(&path, n.to_string()).unwrap();
                path
            })
            .collect();
        let read: Vec<(PathBuf, u32)> = read_json_all(paths.clone()).unwrap();
        let values: Vec<u32> = read.iter().map(|(_, value)| *value).collect();
        assert_eq!(values, (0..1500).collect::<Vec<_>>());
        fs::write(&paths[1200], "{").unwrap();
        let (bad, err) = read_json_all::<u32>(paths).unwrap_err();
        assert_eq!(bad, dir.path().join("1200.json"));
        assert!(matches!(err, ReadError::Corrupt(_)));
    }
}
