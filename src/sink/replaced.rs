//! A local file written by replacing it: a temporary file beside it, renamed over it once
//! whole, so that a write that fails or is stopped leaves the old file as it was.
//!
//! The temporary file is hidden (scans of the folder leave names starting with `.` out),
//! named after the target and its writer's process, given the mode of the file it replaces
//! before anything is written to it, and fits in a file name whenever the target's name
//! does. A writer killed before it could remove its temporary file (SIGKILL, a lost
//! machine) leaves it behind; the next write of the same target removes those whose
//! writer is gone ([`remove_stale`]).

use std::collections::hash_map::RandomState;
use std::fs::File;
use std::hash::{BuildHasher, Hasher};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use crate::error::{AvroError, AvroResult};

/// A temporary file not modified for this long, whose process is not running here, is
/// stale: a writer on another machine sharing the folder writes to it more often.
pub const STALE_AFTER: Duration = Duration::from_secs(60);

/// The longest file name most file systems take, in bytes.
const NAME_MAX: usize = 255;
/// What a temporary name adds to the target's: ".", then ".<pid, up to 10 digits>.<12 hex digits>.tmp".
const ADDED: usize = 1 + 28;
/// Hex digits of a temporary name's random part.
const RANDOM_DIGITS: usize = 12;

/// A local file being written under a temporary name beside it.
pub struct ReplacedFile {
    /// The file it replaces.
    path: PathBuf,
    temporary: PathBuf,
    /// Small: blocks larger than the buffer go straight to the file, uncopied.
    file: BufWriter<File>,
    /// Put in place (or handed on to be): the temporary file is no longer this one's to remove.
    kept: bool,
}

impl ReplacedFile {
    /// Creates the temporary file that will replace `path`, with `path`'s mode when it
    /// exists, after removing stale temporary files of earlier writes of it.
    pub fn create(path: &Path) -> AvroResult<Self> {
        remove_stale(path);
        let temporary = temporary_name(path);
        let file = File::create(&temporary).map_err(|e| match path.parent() {
            Some(folder)
                if e.kind() == std::io::ErrorKind::NotFound && !folder.as_os_str().is_empty() && !folder.exists() =>
            {
                AvroError::io(
                    e,
                    format_args!(
                        "could not create the file: its folder '{}' does not exist (pass mkdir=True to create it)",
                        folder.display()
                    ),
                )
            },
            _ => AvroError::io(e, "could not create the file"),
        })?;
        let replaced =
            Self { path: path.to_path_buf(), temporary, file: BufWriter::with_capacity(32 << 10, file), kept: false };
        replaced.keep_mode()?;
        Ok(replaced)
    }

    /// The temporary file's path.
    pub fn temporary(&self) -> &Path {
        &self.temporary
    }

    /// A private file stays private while it is written and after.
    fn keep_mode(&self) -> AvroResult<()> {
        let Ok(metadata) = std::fs::metadata(&self.path) else { return Ok(()) }; // new: the umask's mode
        std::fs::set_permissions(&self.temporary, metadata.permissions())
            .map_err(|e| AvroError::io(e, "could not give the file the mode of the one it replaces"))
    }

    /// Puts the written file in place of the old one.
    pub fn finish(self) -> AvroResult<()> {
        let (temporary, path) = self.finish_later()?;
        rename(&temporary, &path)
    }

    /// Closes the written file and leaves it under its temporary name: (temporary, path),
    /// for the caller to rename along with others ([`Replacements`]).
    pub fn finish_later(mut self) -> AvroResult<(PathBuf, PathBuf)> {
        self.file.flush().map_err(|e| AvroError::io(e, "writing the file failed"))?;
        self.kept = true;
        Ok((std::mem::take(&mut self.temporary), std::mem::take(&mut self.path)))
    }
}

impl Write for ReplacedFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.file.write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.file.write_all(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

impl Drop for ReplacedFile {
    /// Abandoned: the temporary file goes, the old file stays as it was.
    fn drop(&mut self) {
        if !self.kept {
            let _ = std::fs::remove_file(&self.temporary);
        }
    }
}

fn rename(temporary: &Path, path: &Path) -> AvroResult<()> {
    std::fs::rename(temporary, path).map_err(|e| {
        let _ = std::fs::remove_file(temporary);
        AvroError::io(e, "could not put the written file in place")
    })
}

/// Local files finished under temporary names, put in place together (the parts of a
/// partitioned output): each is renamed over its target by [`Replacements::commit`], or
/// removed by [`Replacements::discard`], or when the group is dropped.
#[derive(Default)]
pub struct Replacements {
    pending: Mutex<Vec<(PathBuf, PathBuf)>>,
}

impl Replacements {
    /// A finished file to put in place with the others.
    pub fn add(&self, file: ReplacedFile) -> AvroResult<()> {
        let pending = file.finish_later()?;
        self.lock().push(pending);
        Ok(())
    }

    /// Puts every file in place, in the order added; the first failure stops there, and
    /// the files not yet in place are removed.
    pub fn commit(&self) -> AvroResult<()> {
        let pending = std::mem::take(&mut *self.lock());
        let mut files = pending.into_iter();
        for (temporary, path) in files.by_ref() {
            if let Err(e) = rename(&temporary, &path) {
                files.for_each(|(temporary, _)| drop(std::fs::remove_file(temporary)));
                return Err(e.in_file(&path.display().to_string()));
            }
        }
        Ok(())
    }

    /// Removes every file not yet put in place.
    pub fn discard(&self) {
        for (temporary, _) in std::mem::take(&mut *self.lock()) {
            let _ = std::fs::remove_file(temporary);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(PathBuf, PathBuf)>> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for Replacements {
    fn drop(&mut self) {
        self.discard();
    }
}

/// Removes the temporary files of earlier writes of `path` whose writer is gone and which
/// nobody wrote to for [`STALE_AFTER`]; returns their paths. A folder that cannot be read,
/// or a file removed meanwhile, is passed over.
pub fn remove_stale(path: &Path) -> Vec<PathBuf> {
    let (folder, prefix) = (folder_of(path), prefix(path));
    let Ok(entries) = std::fs::read_dir(&folder) else { return Vec::new() };
    let mut removed = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| writer_of(n, &prefix)) else { continue };
        if process_running(pid) {
            continue;
        }
        let idle = entry
            .metadata()
            .ok()
            .and_then(|m| m.modified().ok())
            .and_then(|t| SystemTime::now().duration_since(t).ok());
        if idle.is_some_and(|idle| idle > STALE_AFTER) && std::fs::remove_file(entry.path()).is_ok() {
            removed.push(entry.path());
        }
    }
    removed
}

/// The process id in a temporary name of the target whose temporary names begin with `prefix`.
fn writer_of(name: &str, prefix: &str) -> Option<u32> {
    let rest = name.strip_prefix(prefix)?.strip_suffix(".tmp")?;
    let (pid, random) = rest.split_once('.')?;
    let hex = random.len() == RANDOM_DIGITS && random.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    let digits = !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit());
    (hex && digits).then(|| pid.parse().ok()).flatten()
}

/// A new temporary name beside `path`: its prefix, this process's id and a random part.
fn temporary_name(path: &Path) -> PathBuf {
    let mut random = RandomState::new().build_hasher();
    random.write_u128(SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_nanos()));
    let digits = format!("{:016x}", random.finish());
    folder_of(path).join(format!("{}{}.{}.tmp", prefix(path), std::process::id(), &digits[..RANDOM_DIGITS]))
}

/// The start of the names of `path`'s temporary files: "." and its name, shortened (on a
/// character boundary) so that the whole temporary name fits in a file name.
fn prefix(path: &Path) -> String {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let room = name_max(&folder_of(path)).saturating_sub(ADDED);
    let mut end = name.len().min(room);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    format!(".{}.", &name[..end])
}

fn folder_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(folder) if !folder.as_os_str().is_empty() => folder.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// The longest file name the folder's file system takes.
#[cfg(unix)]
fn name_max(folder: &Path) -> usize {
    use std::os::unix::ffi::OsStrExt;
    let Ok(folder) = std::ffi::CString::new(folder.as_os_str().as_bytes()) else { return NAME_MAX };
    // SAFETY: a NUL-terminated path; pathconf only reads it.
    let most = unsafe { libc::pathconf(folder.as_ptr(), libc::_PC_NAME_MAX) };
    usize::try_from(most).ok().filter(|&n| n > 0).unwrap_or(NAME_MAX)
}

#[cfg(not(unix))]
fn name_max(_folder: &Path) -> usize {
    NAME_MAX
}

/// Whether a process of this id runs on this machine (one of another user's counts).
#[cfg(unix)]
fn process_running(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else { return true };
    // SAFETY: signal 0 only asks whether the process exists.
    if unsafe { libc::kill(pid, 0) } == 0 {
        return true;
    }
    std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

/// Elsewhere no temporary file is taken for its writer's leftovers.
#[cfg(not(unix))]
fn process_running(_pid: u32) -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    /// A fresh folder of the system's temporary ones, for one test.
    fn folder(test: &str) -> PathBuf {
        let folder = std::env::temp_dir().join(format!("polars-avro-replaced-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&folder);
        std::fs::create_dir_all(&folder).unwrap();
        folder
    }

    fn names(folder: &Path) -> Vec<String> {
        let mut names: Vec<String> =
            std::fs::read_dir(folder).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        names
    }

    #[test]
    fn a_finished_file_replaces_the_old_one_and_an_abandoned_one_leaves_it() {
        let folder = folder("finish");
        let path = folder.join("out.avro");
        std::fs::write(&path, b"old").unwrap();
        let mut file = ReplacedFile::create(&path).unwrap();
        let temporary = file.temporary().to_path_buf();
        let name = temporary.file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.starts_with(".out.avro.") && name.ends_with(".tmp"), "hidden, named after its target: {name}");
        assert_eq!(writer_of(&name, ".out.avro."), Some(std::process::id()));
        file.write_all(b"new").unwrap();
        drop(file);
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        assert_eq!(names(&folder), ["out.avro"], "the temporary file is gone");
        let mut file = ReplacedFile::create(&path).unwrap();
        file.write_all(b"new").unwrap();
        file.finish().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        assert_eq!(names(&folder), ["out.avro"]);
        std::fs::remove_dir_all(&folder).unwrap();
    }

    #[test]
    fn a_file_in_a_missing_folder_is_not_found_naming_the_folder_and_mkdir() {
        let folder = folder("missing");
        let error = ReplacedFile::create(&folder.join("nope").join("out.avro")).err().unwrap();
        assert_eq!(error.kind, ErrorKind::NotFound);
        let expected = format!("its folder '{}' does not exist (pass mkdir=True", folder.join("nope").display());
        assert!(error.message.contains(&expected), "{error}");
        std::fs::remove_dir_all(&folder).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn the_written_file_keeps_the_mode_of_the_one_it_replaces() {
        use std::os::unix::fs::PermissionsExt;
        let folder = folder("mode");
        let path = folder.join("private.avro");
        std::fs::write(&path, b"old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let file = ReplacedFile::create(&path).unwrap();
        assert_eq!(std::fs::metadata(file.temporary()).unwrap().permissions().mode() & 0o777, 0o600, "before writing");
        file.finish().unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        std::fs::remove_dir_all(&folder).unwrap();
    }

    #[test]
    fn temporary_names_fit_in_a_file_name_cut_on_a_character_boundary() {
        let long = format!("{}.avro", "é".repeat(125));
        assert_eq!(long.len(), 255);
        let name = temporary_name(&PathBuf::from("/tmp").join(&long));
        let name = name.file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.len() <= NAME_MAX, "{} bytes", name.len());
        assert!(name.starts_with(".éé") && name.ends_with(".tmp"));
        assert_eq!(prefix(Path::new("out.avro")), ".out.avro.", "a bare name is in the current folder");
    }

    #[test]
    fn only_temporary_names_of_the_target_name_a_writer() {
        assert_eq!(writer_of(".out.avro.123.0123456789ab.tmp", ".out.avro."), Some(123));
        for name in [
            ".out.avro.123.0123456789AB.tmp",
            ".out.avro.123.0123456789a.tmp",
            ".out.avro.x.0123456789ab.tmp",
            ".out.avro..0123456789ab.tmp",
            ".out.avro.123.0123456789ab",
            ".other.avro.123.0123456789ab.tmp",
        ] {
            assert_eq!(writer_of(name, ".out.avro."), None, "{name}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn stale_files_are_those_of_writers_gone_and_idle() {
        let folder = folder("stale");
        let path = folder.join("out.avro");
        let dead = {
            let mut child = std::process::Command::new("true").spawn().unwrap();
            child.wait().unwrap();
            child.id()
        };
        let alive = std::process::id();
        let old = SystemTime::now() - Duration::from_secs(3600);
        let make = |name: String, idle: bool| {
            let file = File::create(folder.join(&name)).unwrap();
            if idle {
                file.set_modified(old).unwrap();
            }
            name
        };
        let stale = make(format!(".out.avro.{dead}.0123456789ab.tmp"), true);
        let running = make(format!(".out.avro.{alive}.0123456789ab.tmp"), true);
        let lately = make(format!(".out.avro.{dead}.ba9876543210.tmp"), false);
        let other = make(format!(".other.avro.{dead}.0123456789ab.tmp"), true);
        assert_eq!(remove_stale(&path), [folder.join(&stale)]);
        let mut left = vec![running, lately, other];
        left.sort();
        assert_eq!(names(&folder), left);
        std::fs::remove_dir_all(&folder).unwrap();
    }

    #[test]
    fn replacements_are_put_in_place_together_or_removed() {
        let folder = folder("replacements");
        let (a, b) = (folder.join("a.avro"), folder.join("b.avro"));
        let group = Replacements::default();
        for path in [&a, &b] {
            let mut file = ReplacedFile::create(path).unwrap();
            file.write_all(b"x").unwrap();
            group.add(file).unwrap();
        }
        assert!(!a.exists() && !b.exists(), "nothing in place before the commit");
        group.commit().unwrap();
        assert_eq!(names(&folder), ["a.avro", "b.avro"]);
        let group = Replacements::default();
        group.add(ReplacedFile::create(&folder.join("c.avro")).unwrap()).unwrap();
        drop(group);
        assert_eq!(names(&folder), ["a.avro", "b.avro"], "a group dropped uncommitted leaves nothing");
        std::fs::remove_dir_all(&folder).unwrap();
    }
}
