//! Named pipes and devices (a FIFO a producer writes to, `/dev/stdin` fed by a pipe,
//! `/dev/stdout` read by one), read and written in waits of a tenth of a second between
//! which the work checks whether it is to stop (`crate::interrupt`). A blocking open, read
//! or write of a pipe whose other end is idle or not there yet waits forever, deaf to
//! Ctrl-C: the system call starts again after the signal (Polars' handler asks it to).

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind as IoKind, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::Duration;

use crate::error::{AvroError, AvroResult};

/// How long one wait lasts before the work is checked again.
const WAIT: Duration = Duration::from_millis(100);
/// Bytes read at a time.
const PIECE: usize = 1 << 20;

/// The bytes of a pipe or device, read to their end; refused by `check_start` after the
/// first four when they cannot begin the file expected (`/dev/zero` would be read until
/// memory ran out).
pub fn read_stream(path: &Path, check_start: impl Fn(&[u8]) -> AvroResult<()>) -> AvroResult<Vec<u8>> {
    let name = path.display().to_string();
    let failed = |e: std::io::Error, what: &str| AvroError::io(e, format!("could not {what} '{name}'")).in_file(&name);
    // Not blocking: a pipe with no writer yet opens at once, and waits below.
    let mut file =
        OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(path).map_err(|e| failed(e, "open"))?;
    let (mut data, mut piece) = (Vec::new(), vec![0u8; PIECE]);
    let mut checked = false;
    loop {
        wait_until(&file, libc::POLLIN)?;
        match file.read(&mut piece) {
            Ok(0) => break,
            Ok(n) => data.extend_from_slice(&piece[..n]),
            Err(e) if matches!(e.kind(), IoKind::WouldBlock | IoKind::Interrupted) => continue,
            Err(e) => return Err(failed(e, "read")),
        }
        if !checked && data.len() >= 4 {
            check_start(&data[..4]).map_err(|e| e.in_file(&name))?;
            checked = true;
        }
    }
    if !checked {
        check_start(&data).map_err(|e| e.in_file(&name))?;
    }
    Ok(data)
}

/// A pipe written to, opened once a reader opens its other end.
pub struct PipeWriter {
    file: File,
}

impl PipeWriter {
    /// Opens a pipe for writing, waiting for its reader.
    pub fn open(path: &Path) -> std::io::Result<Self> {
        loop {
            match OpenOptions::new().write(true).custom_flags(libc::O_NONBLOCK).open(path) {
                Ok(file) => return Ok(Self { file }),
                // No reader yet.
                Err(e) if e.raw_os_error() == Some(libc::ENXIO) => {
                    crate::interrupt::check().map_err(std::io::Error::other)?;
                    std::thread::sleep(WAIT);
                },
                Err(e) => return Err(e),
            }
        }
    }
}

impl Write for PipeWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        loop {
            wait_until(&self.file, libc::POLLOUT).map_err(std::io::Error::other)?;
            match self.file.write(buf) {
                Err(e) if matches!(e.kind(), IoKind::WouldBlock | IoKind::Interrupted) => continue,
                written => return written,
            }
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Waits until the file is ready for `events` (or its other end closed), checking the work
/// between waits.
fn wait_until(file: &File, events: libc::c_short) -> AvroResult<()> {
    let mut poll = libc::pollfd { fd: file.as_raw_fd(), events, revents: 0 };
    loop {
        crate::interrupt::check()?;
        // SAFETY: one valid pollfd, for a file open for the whole call.
        let ready = unsafe { libc::poll(&mut poll, 1, WAIT.as_millis() as libc::c_int) };
        if ready > 0 {
            return Ok(());
        }
        // 0: the wait ended; -1: a signal came (EINTR): either way, check again.
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use crate::interrupt::{checked, stop_at};

    fn fifo(test: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("polars-avro-pipe-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("fifo");
        let name = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
        // SAFETY: a valid C string.
        assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0);
        path
    }

    #[test]
    fn a_pipe_nobody_writes_to_or_reads_from_is_waited_on_until_the_work_is_stopped() {
        let path = fifo("idle");
        let (check, calls) = stop_at(3);
        let read = checked(check, || read_stream(&path, |_| Ok(())));
        assert_eq!(read.unwrap_err().kind, ErrorKind::Interrupted);
        assert_eq!(calls.get(), 3, "checked between waits");
        let (check, _) = stop_at(3);
        let opened = checked(check, || PipeWriter::open(&path).map(|_| ()));
        assert_eq!(AvroError::io(opened.unwrap_err(), "x").kind, ErrorKind::Interrupted);
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }

    #[test]
    fn a_pipe_is_read_whole_and_written_whole() {
        let path = fifo("whole");
        let data: Vec<u8> = b"Obj\x01".iter().copied().chain((0..3_000_000u32).map(|i| i as u8)).collect();
        let sent = data.clone();
        let writer_path = path.clone();
        let writer = std::thread::spawn(move || {
            let mut pipe = PipeWriter::open(&writer_path).unwrap();
            pipe.write_all(&sent).unwrap();
        });
        assert_eq!(read_stream(&path, |_| Ok(())).unwrap(), data);
        writer.join().unwrap();
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }

    #[test]
    fn a_stream_whose_start_is_refused_is_read_no_further() {
        let seen = std::cell::RefCell::new(Vec::new());
        let refuse = |start: &[u8]| {
            seen.borrow_mut().push(start.to_vec());
            Err(AvroError::format("not this"))
        };
        let err = read_stream(Path::new("/dev/zero"), refuse).unwrap_err();
        assert_eq!(*seen.borrow(), vec![vec![0u8; 4]]);
        assert_eq!(err.kind, ErrorKind::Format);
        assert_eq!(err.file.as_deref(), Some("/dev/zero"));
    }
}
