//! The buffers a log line is written with, reused from line to line on a
//! thread.

/// Runs `write` with this thread's line buffers, cleared, and gives back the
/// memory of an unusually long line afterwards. An event logged while the
/// thread writes another line (a field's `Debug` or `Display` that logs, which
/// reaches this layer again under a global subscriber) gets buffers of its own
/// for that once, where borrowing the thread's again would panic.
pub(super) fn with_line_buffers(write: impl FnOnce(&mut LineBuffers)) {
    LINE.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buffers) => {
            buffers.clear();
            write(&mut buffers);
            buffers.shrink_after_a_long_line();
        }
        Err(_) => write(&mut LineBuffers::new()),
    });
}

/// The buffers one log line is written with, reused from line to line on a
/// thread: the line, and the event's message and other fields, which the
/// visitor collects before they take their places in the line.
pub(super) struct LineBuffers {
    pub(super) line: String,
    pub(super) message: String,
    pub(super) fields: String,
}

impl LineBuffers {
    fn new() -> LineBuffers {
        LineBuffers {
            line: String::with_capacity(1024),
            message: String::with_capacity(256),
            fields: String::with_capacity(256),
        }
    }

    fn clear(&mut self) {
        self.line.clear();
        self.message.clear();
        self.fields.clear();
    }

    /// Gives back the memory of an unusually long line.
    fn shrink_after_a_long_line(&mut self) {
        for (buffer, capacity) in [
            (&mut self.line, 1024),
            (&mut self.message, 256),
            (&mut self.fields, 256),
        ] {
            if buffer.capacity() > 64 * 1024 {
                *buffer = String::with_capacity(capacity);
            }
        }
    }
}

thread_local! {
    static LINE: std::cell::RefCell<LineBuffers> = std::cell::RefCell::new(LineBuffers::new());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_written_while_another_is_written_gets_buffers_of_its_own() {
        let mut inner_line = String::new();
        with_line_buffers(|outer| {
            outer.line.push_str("outer");
            with_line_buffers(|inner| {
                inner.line.push_str("inner");
                inner_line = inner.line.clone();
            });
            assert_eq!(outer.line, "outer");
        });
        assert_eq!(inner_line, "inner");
        // The thread's buffers are cleared for the next line.
        with_line_buffers(|next| assert_eq!(next.line, ""));
    }
}
