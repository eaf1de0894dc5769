//! Where lines go: stdout in a Lambda, a [`LineBuffer`] in tests and the simulator.

use std::fmt;
use std::io::Write;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// The destination of every line a telemetry writes. Cloning shares it.
///
/// Each line is written whole, newline included, with one call, so lines from
/// different threads never interleave.
#[derive(Clone, Default)]
pub struct Output {
    target: Target,
}

#[derive(Clone, Default)]
enum Target {
    #[default]
    Stdout,
    Buffer(LineBuffer),
    Writer(Arc<Mutex<dyn Write + Send>>),
}

impl Output {
    /// The process's stdout: what a Lambda uses.
    pub fn stdout() -> Output {
        Output {
            target: Target::Stdout,
        }
    }

    /// An in-memory buffer that the caller reads with [`LineBuffer::take`].
    pub fn buffer(buffer: &LineBuffer) -> Output {
        Output {
            target: Target::Buffer(buffer.clone()),
        }
    }

    /// Any writer (a file, a pipe…), behind a lock.
    pub fn writer(writer: impl Write + Send + 'static) -> Output {
        Output {
            target: Target::Writer(Arc::new(Mutex::new(writer))),
        }
    }

    /// Writes `line` (which must end in `\n`). Errors of stdout or of a writer
    /// are dropped: telemetry never fails the handler.
    pub(crate) fn write_line(&self, line: &[u8]) {
        debug_assert!(line.ends_with(b"\n"));
        match &self.target {
            Target::Stdout => {
                let _ = std::io::stdout().lock().write_all(line);
            }
            Target::Buffer(buffer) => buffer.lock().extend_from_slice(line),
            Target::Writer(writer) => {
                let mut writer = writer.lock().unwrap_or_else(PoisonError::into_inner);
                let _ = writer.write_all(line);
            }
        }
    }

    /// Writes several lines at once (each ending in `\n`).
    pub(crate) fn write_lines<'a>(&self, lines: impl IntoIterator<Item = &'a [u8]>) {
        match &self.target {
            Target::Stdout => {
                let mut stdout = std::io::stdout().lock();
                for line in lines {
                    let _ = stdout.write_all(line);
                }
                let _ = stdout.flush();
            }
            Target::Buffer(buffer) => {
                let mut buffer = buffer.lock();
                for line in lines {
                    buffer.extend_from_slice(line);
                }
            }
            Target::Writer(writer) => {
                let mut writer = writer.lock().unwrap_or_else(PoisonError::into_inner);
                for line in lines {
                    let _ = writer.write_all(line);
                }
                let _ = writer.flush();
            }
        }
    }

    /// Flushes stdout or the writer.
    pub(crate) fn flush(&self) {
        match &self.target {
            Target::Stdout => {
                let _ = std::io::stdout().lock().flush();
            }
            Target::Buffer(_) => {}
            Target::Writer(writer) => {
                let _ = writer
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .flush();
            }
        }
    }
}

impl fmt::Debug for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.target {
            Target::Stdout => f.write_str("Output::Stdout"),
            Target::Buffer(buffer) => f.debug_tuple("Output::Buffer").field(buffer).finish(),
            Target::Writer(_) => f.write_str("Output::Writer"),
        }
    }
}

/// A shared in-memory sink of lines. Clones share the same bytes.
///
/// ```
/// use tracelake_instrumentation::{LineBuffer, Output};
///
/// let buffer = LineBuffer::new();
/// let _output = Output::buffer(&buffer);
/// assert!(buffer.take().is_empty());
/// ```
#[derive(Clone, Default)]
pub struct LineBuffer {
    bytes: Arc<Mutex<Vec<u8>>>,
}

impl LineBuffer {
    /// An empty buffer.
    pub fn new() -> LineBuffer {
        LineBuffer::default()
    }

    fn lock(&self) -> MutexGuard<'_, Vec<u8>> {
        self.bytes.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes every byte written so far, leaving the buffer empty.
    pub fn take(&self) -> Vec<u8> {
        std::mem::take(&mut *self.lock())
    }

    /// Takes every line written so far (without their newlines), leaving the
    /// buffer empty.
    pub fn take_lines(&self) -> Vec<String> {
        let bytes = self.take();
        String::from_utf8_lossy(&bytes)
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// Moves every byte written so far to the end of `out`, leaving the buffer empty.
    pub fn drain_into(&self, out: &mut Vec<u8>) {
        out.append(&mut self.lock());
    }

    /// The number of bytes waiting.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }
}

impl fmt::Debug for LineBuffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LineBuffer({} bytes)", self.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffer_output_collects_whole_lines() {
        let buffer = LineBuffer::new();
        let output = Output::buffer(&buffer);
        output.write_line(b"one\n");
        output.write_lines([&b"two\n"[..], &b"three\n"[..]]);
        assert_eq!(buffer.take_lines(), vec!["one", "two", "three"]);
        assert!(buffer.is_empty());
    }

    #[test]
    fn writer_output_writes_through() {
        #[derive(Clone, Default)]
        struct Shared(Arc<Mutex<Vec<u8>>>);
        impl Write for Shared {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let shared = Shared::default();
        let output = Output::writer(shared.clone());
        output.write_line(b"a\n");
        assert_eq!(shared.0.lock().unwrap().as_slice(), b"a\n");
    }
}
