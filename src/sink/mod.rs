//! Where a write's bytes go and how the write is made final: the writing side of
//! `source`. A local file is replaced whole ([`ReplacedFile`]: written beside it, renamed
//! over it at the end), a named pipe or a device is written as it is, an object store
//! object is a multipart upload completed at the end ([`RemoteUpload`]), and any other
//! writer the caller gives is written through a buffer. A write abandoned (an error, a
//! Ctrl-C) leaves what was there before as it was.

mod partitioned;
mod replaced;
mod upload;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

pub use partitioned::{batch_rows, Held, MadeFolders, PartLayout};
pub use replaced::{remove_stale, ReplacedFile, Replacements, STALE_AFTER};
pub use upload::{RemoteUpload, PART_SIZE};

use crate::error::{AvroError, AvroResult};
#[cfg(unix)]
use crate::source::PipeWriter;

/// Where a writer is to write, before anything is created there.
pub enum Target {
    /// A local path, through symbolic links to the file they name ([`Target::path`]).
    Path(PathBuf),
    /// An object store object.
    Remote(RemoteUpload),
    /// Any writer (a Python file object, a socket): written as it is, through a buffer.
    Writer(Box<dyn Write + Send>),
}

impl Target {
    /// The local file `path` names, through symbolic links (the file they name is the one
    /// replaced; the link stays). A pipe or a device is written where it is, through its
    /// links as given (`/dev/stdout`'s lead to a name like `pipe:[123]`, which is no path).
    /// A directory is refused, naming `path` as given.
    pub fn path(path: impl AsRef<Path>) -> AvroResult<Self> {
        let given = path.as_ref();
        match std::fs::metadata(given) {
            Ok(m) if m.is_dir() => {
                Err(AvroError::argument(format!("cannot write to '{}': it is a directory", given.display())))
            },
            Ok(m) if !m.is_file() => Ok(Target::Path(given.to_path_buf())),
            _ => Ok(Target::Path(resolved(given))),
        }
    }

    /// Creates what the target names: a regular file (or none yet) is replaced, a named pipe
    /// opened once its reader is there (in waits Ctrl-C stops), another file that is not a
    /// regular one (a device such as /dev/stdout) opened as it is.
    pub fn open(self) -> AvroResult<Sink> {
        Ok(match self {
            Target::Path(path) => match std::fs::metadata(&path) {
                #[cfg(unix)]
                Ok(m) if is_fifo(&m) => {
                    let pipe = PipeWriter::open(&path).map_err(|e| AvroError::io(e, "could not open the pipe"))?;
                    Sink::Pipe(BufWriter::with_capacity(1 << 20, pipe))
                },
                Ok(m) if !m.is_file() => {
                    let device = File::create(&path).map_err(|e| AvroError::io(e, "could not open the file"))?;
                    Sink::Device(BufWriter::with_capacity(1 << 20, device))
                },
                _ => Sink::Replaced(ReplacedFile::create(&path)?),
            },
            Target::Remote(upload) => Sink::Remote(upload),
            // Buffered: a Python file object takes the GIL and a copy on each call.
            Target::Writer(writer) => Sink::Writer(BufWriter::with_capacity(1 << 20, writer)),
        })
    }
}

/// What a write writes to, made final by [`Sink::complete`] or dropped by [`Sink::abandon`].
pub enum Sink {
    /// A local file, replaced when complete.
    Replaced(ReplacedFile),
    /// A named pipe (or `/dev/stdout` read by a pipe): written in waits Ctrl-C can stop.
    #[cfg(unix)]
    Pipe(BufWriter<PipeWriter>),
    /// A file that is not a regular one (a device), written as it is.
    Device(BufWriter<File>),
    /// An object store: the object appears when the upload completes.
    Remote(RemoteUpload),
    /// Any other writer, through a buffer.
    Writer(BufWriter<Box<dyn Write + Send>>),
}

impl Sink {
    fn as_write(&mut self) -> &mut dyn Write {
        match self {
            Sink::Replaced(w) => w,
            #[cfg(unix)]
            Sink::Pipe(w) => w,
            Sink::Device(w) => w,
            Sink::Remote(w) => w,
            Sink::Writer(w) => w,
        }
    }

    /// Makes what was written final (the writer has flushed it): a local file put in place,
    /// or, with `replacements`, left for them to put in place with others; an upload
    /// completed.
    pub fn complete(self, replacements: Option<&Replacements>) -> AvroResult<()> {
        match (self, replacements) {
            (Sink::Replaced(file), Some(group)) => group.add(file),
            (Sink::Replaced(file), None) => file.finish(),
            (Sink::Remote(upload), _) => upload.complete(),
            _ => Ok(()),
        }
    }

    /// Drops what was written, its buffered bytes unwritten (a pipe whose reader is gone
    /// or stalled would wait for them): a local file's temporary one removed, an upload
    /// aborted.
    pub fn abandon(self) {
        match self {
            Sink::Replaced(file) => drop(file),
            #[cfg(unix)]
            Sink::Pipe(w) => drop(w.into_parts()),
            Sink::Device(w) => drop(w.into_parts()),
            Sink::Remote(upload) => drop(upload),
            Sink::Writer(w) => drop(w.into_parts()),
        }
    }
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.as_write().write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.as_write().write_all(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.as_write().flush()
    }
}

#[cfg(unix)]
fn is_fifo(metadata: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::FileTypeExt;
    metadata.file_type().is_fifo()
}

/// `path` through its symbolic links, and its folder through theirs: where the file it
/// names is (as Python's `os.path.realpath`, for a file that may not exist yet).
fn resolved(path: &Path) -> PathBuf {
    let mut path = path.to_path_buf();
    // As the system, which gives up on a chain of more than 40 links (ELOOP).
    for _ in 0..40 {
        match std::fs::read_link(&path) {
            // A relative link is relative to its folder; an absolute one replaces the path.
            Ok(target) => path = path.parent().map_or_else(|| target.clone(), |folder| folder.join(&target)),
            Err(_) => break,
        }
    }
    let Some(name) = path.file_name() else { return path };
    let folder = match path.parent() {
        Some(folder) if !folder.as_os_str().is_empty() => folder,
        _ => Path::new("."),
    };
    std::fs::canonicalize(folder).map_or(path.clone(), |folder| folder.join(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn a_path_is_written_through_its_links_and_a_directory_refused() {
        let folder = std::env::temp_dir().join(format!("polars-avro-sink-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&folder);
        std::fs::create_dir_all(folder.join("real")).unwrap();
        let folder = std::fs::canonicalize(&folder).unwrap();
        std::os::unix::fs::symlink("real/file.avro", folder.join("link.avro")).unwrap();
        std::os::unix::fs::symlink(folder.join("real"), folder.join("dir")).unwrap();
        let path_of = |p: PathBuf| match Target::path(p).unwrap() {
            Target::Path(resolved) => resolved,
            _ => unreachable!(),
        };
        // A link to a file not there yet, and a file in a linked folder.
        assert_eq!(path_of(folder.join("link.avro")), folder.join("real/file.avro"));
        assert_eq!(path_of(folder.join("dir/new.avro")), folder.join("real/new.avro"));
        let error = Target::path(folder.join("dir")).err().unwrap();
        assert_eq!(error.message, format!("cannot write to '{}': it is a directory", folder.join("dir").display()));
        let mut sink = Target::path(folder.join("link.avro")).unwrap().open().unwrap();
        sink.write_all(b"x").unwrap();
        sink.flush().unwrap();
        sink.complete(None).unwrap();
        assert!(folder.join("link.avro").is_symlink(), "the link stays a link");
        assert_eq!(std::fs::read(folder.join("real/file.avro")).unwrap(), b"x");
        std::fs::remove_dir_all(&folder).unwrap();
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_pipe_named_through_proc_is_written_where_it_is() {
        use std::io::Read;
        use std::os::fd::FromRawFd;
        let mut fds = [0; 2];
        // SAFETY: two ints for the pipe's ends, each owned by a File below.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        let (mut reader, writer) = unsafe { (File::from_raw_fd(fds[0]), File::from_raw_fd(fds[1])) };
        // As /dev/stdout when a pipe reads it: a link to "pipe:[<inode>]".
        let path = PathBuf::from(format!("/proc/self/fd/{}", fds[1]));
        let Target::Path(target) = Target::path(&path).unwrap() else { unreachable!() };
        assert_eq!(target, path);
        let mut sink = Target::Path(target).open().unwrap();
        assert!(matches!(sink, Sink::Pipe(_)));
        sink.write_all(b"through the pipe").unwrap();
        sink.flush().unwrap();
        sink.complete(None).unwrap();
        drop(writer);
        let mut read = String::new();
        reader.read_to_string(&mut read).unwrap();
        assert_eq!(read, "through the pipe");
    }
}
