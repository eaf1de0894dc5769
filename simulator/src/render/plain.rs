//! Plain text from a runtime with no log format of its own (Go's `log`
//! package style): a timestamp and a lowercase level, and no request id.

use std::fmt::Write as _;

use crate::clock;
use crate::event::Carries;
use crate::render::context::{AppLine, InvocationContext};

/// A plain-text line; it carries nothing to link by but its stream and time.
pub fn line(
    _context: &InvocationContext<'_>,
    line: &AppLine,
    out: &mut String,
    carries: &mut Carries,
) {
    carries.request_id = false;
    clock::go_log(out, line.at_ns);
    let _ = writeln!(
        out,
        " {}: {}",
        line.level.to_ascii_lowercase(),
        line.message
    );
}

/// The line the program writes while the environment initialises.
pub fn init_line(out: &mut String, at_ns: u64) {
    clock::go_log(out, at_ns);
    out.push_str(" loading configuration from /var/task/config.json\n");
}
