//! What a failed invocation records: the error's type, its message and the
//! chain of its sources, as the `exception` event's attributes.

use std::any::Any;
use std::error::Error;
use std::fmt;

/// The fields of one error, ready for the `exception` event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorReport {
    /// `exception.type`: the concrete type, or the error's own name when it is
    /// behind a `Box<dyn Error>`.
    pub error_type: String,
    /// `exception.message`: the error's `Display`.
    pub message: String,
    /// The `Display` of each source, outermost first.
    pub causes: Vec<String>,
}

impl ErrorReport {
    /// The report of a handler's error.
    ///
    /// A boxed `dyn Error` (what `lambda_runtime::Error` is, and what `?` makes
    /// of any error) hides its type: the type is then read from the few well
    /// known error types, else from the name its `Debug` starts with (a
    /// struct or enum variant name), and the sources are walked. Any other
    /// error type is named by [`std::any::type_name`].
    pub fn of<E: fmt::Display + fmt::Debug + 'static>(error: &E) -> ErrorReport {
        let any: &dyn Any = error;
        let boxed: Option<&(dyn Error + 'static)> = boxed_error(any);
        match boxed.or_else(|| anyhow_error(any)) {
            Some(inner) => ErrorReport::of_dyn(inner),
            None => ErrorReport {
                error_type: std::any::type_name::<E>().to_owned(),
                message: error.to_string(),
                causes: Vec::new(),
            },
        }
    }

    /// The report of an error that is only `Debug`, as `lambda_runtime`
    /// requires of a handler's error (with `Into<lambda_runtime::Diagnostic>`):
    /// a [`lambda_runtime::Diagnostic`] gives its own `error_type` and
    /// `error_message`; a boxed `dyn Error` (and, with the `anyhow` feature,
    /// an `anyhow::Error`) is read as by [`ErrorReport::of`]; any other type is
    /// named by [`std::any::type_name`], with its `Debug` as the message.
    pub fn of_debug<E: fmt::Debug + 'static>(error: &E) -> ErrorReport {
        let any: &dyn Any = error;
        #[cfg(feature = "lambda-runtime")]
        if let Some(diagnostic) = any.downcast_ref::<lambda_runtime::Diagnostic>() {
            return ErrorReport {
                error_type: diagnostic.error_type.clone(),
                message: diagnostic.error_message.clone(),
                causes: Vec::new(),
            };
        }
        if let Some(text) = any.downcast_ref::<String>() {
            return ErrorReport::of(text);
        }
        if let Some(text) = any.downcast_ref::<&'static str>() {
            return ErrorReport::of(text);
        }
        let boxed: Option<&(dyn Error + 'static)> = boxed_error(any).or_else(|| anyhow_error(any));
        match boxed {
            Some(inner) => ErrorReport::of_dyn(inner),
            None => ErrorReport {
                error_type: std::any::type_name::<E>().to_owned(),
                message: format!("{error:?}"),
                causes: Vec::new(),
            },
        }
    }

    /// The report of an error known only as `dyn Error`.
    pub fn of_dyn(error: &(dyn Error + 'static)) -> ErrorReport {
        let mut causes = Vec::new();
        let mut source = error.source();
        while let Some(cause) = source {
            causes.push(cause.to_string());
            source = cause.source();
        }
        let mut error_type = dyn_type_name(error);
        if error_type == "Error" {
            // anyhow's context wrappers have no name of their own: the error
            // they wrap names the failure.
            let mut root = error;
            while let Some(source) = root.source() {
                root = source;
            }
            error_type = dyn_type_name(root);
        }
        ErrorReport {
            error_type,
            message: error.to_string(),
            causes,
        }
    }

    /// The cause chain the way `anyhow` prints an error report, for
    /// `exception.stacktrace`; `None` without sources.
    pub fn cause_chain(&self) -> Option<String> {
        if self.causes.is_empty() {
            return None;
        }
        let mut text = format!("{}\n\nCaused by:", self.message);
        for (index, cause) in self.causes.iter().enumerate() {
            text.push_str(&format!("\n    {index}: {cause}"));
        }
        Some(text)
    }
}

/// An `anyhow::Error` as the error it holds, whose sources are its context
/// chain (feature `anyhow`).
/// The error inside a boxed `dyn Error` (with or without `Send`/`Sync`).
fn boxed_error(any: &dyn Any) -> Option<&(dyn Error + 'static)> {
    any.downcast_ref::<Box<dyn Error + Send + Sync>>()
        .map(|boxed| &**boxed as &(dyn Error + 'static))
        .or_else(|| {
            any.downcast_ref::<Box<dyn Error + Send>>()
                .map(|boxed| &**boxed as &(dyn Error + 'static))
        })
        .or_else(|| {
            any.downcast_ref::<Box<dyn Error>>()
                .map(|boxed| &**boxed as &(dyn Error + 'static))
        })
}

#[cfg(feature = "anyhow")]
fn anyhow_error(any: &dyn Any) -> Option<&(dyn Error + 'static)> {
    any.downcast_ref::<anyhow::Error>()
        .map(|error| -> &(dyn Error + 'static) { error.as_ref() })
}

#[cfg(not(feature = "anyhow"))]
fn anyhow_error(_: &dyn Any) -> Option<&(dyn Error + 'static)> {
    None
}

fn dyn_type_name(error: &(dyn Error + 'static)) -> String {
    macro_rules! known {
        ($($ty:ty => $name:literal),* $(,)?) => {
            $(if error.is::<$ty>() { return $name.to_owned(); })*
        };
    }
    known!(
        std::io::Error => "std::io::Error",
        serde_json::Error => "serde_json::Error",
        std::num::ParseIntError => "core::num::ParseIntError",
        std::num::ParseFloatError => "core::num::ParseFloatError",
        std::str::Utf8Error => "core::str::Utf8Error",
        std::string::FromUtf8Error => "alloc::string::FromUtf8Error",
        std::fmt::Error => "core::fmt::Error",
    );
    let debug = format!("{error:?}");
    if debug.starts_with('"') {
        // `Box::<dyn Error>::from("text")`: std's private string error.
        return "StringError".to_owned();
    }
    let name: String = debug
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
        .collect();
    // A derived `Debug` writes the name alone, or follows it with `(` or ` {`.
    // A `Debug` that writes the message (anyhow's, once boxed, and many
    // hand-written ones) starts with a word of it, which is no type name.
    let rest = &debug[name.len()..];
    let derived = rest.is_empty() || rest.starts_with('(') || rest.starts_with(" {");
    if derived && name.starts_with(|c: char| c.is_alphabetic()) {
        name
    } else {
        "Error".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    enum OrderError {
        NotFound(String),
    }

    impl fmt::Display for OrderError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                OrderError::NotFound(id) => write!(f, "order {id} not found"),
            }
        }
    }

    impl Error for OrderError {}

    #[derive(Debug)]
    struct LoadFailed {
        source: std::io::Error,
    }

    impl fmt::Display for LoadFailed {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("could not load the cart")
        }
    }

    impl Error for LoadFailed {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            Some(&self.source)
        }
    }

    #[test]
    fn a_concrete_error_is_named_by_its_type() {
        let report = ErrorReport::of(&OrderError::NotFound("o-1".into()));
        assert_eq!(report.error_type, std::any::type_name::<OrderError>());
        assert_eq!(report.message, "order o-1 not found");
        assert!(report.causes.is_empty() && report.cause_chain().is_none());
    }

    #[test]
    fn a_boxed_error_keeps_its_name_and_its_sources() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "cart.json missing");
        let boxed: lambda_error::Error = Box::new(LoadFailed { source: io });
        let report = ErrorReport::of(&boxed);
        assert_eq!(report.error_type, "LoadFailed");
        assert_eq!(report.message, "could not load the cart");
        assert_eq!(report.causes, vec!["cart.json missing".to_owned()]);
        assert_eq!(
            report.cause_chain().unwrap(),
            "could not load the cart\n\nCaused by:\n    0: cart.json missing"
        );

        let variant: lambda_error::Error = Box::new(OrderError::NotFound("o-2".into()));
        assert_eq!(ErrorReport::of(&variant).error_type, "NotFound");
        let io: lambda_error::Error = Box::new(std::io::Error::other("disk"));
        assert_eq!(ErrorReport::of(&io).error_type, "std::io::Error");
        let text: lambda_error::Error = "empty batch".into();
        let report = ErrorReport::of(&text);
        assert_eq!(report.error_type, "StringError");
        assert_eq!(report.message, "empty batch");
    }

    /// An error whose `Debug` is its message, as `anyhow::Error` boxed into
    /// `lambda_runtime::Error` is.
    struct Worded;

    impl fmt::Debug for Worded {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("could not load the cart\n\nCaused by:\n    disk full")
        }
    }

    impl fmt::Display for Worded {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("could not load the cart")
        }
    }

    impl Error for Worded {}

    #[test]
    fn a_debug_that_writes_the_message_gives_no_type_name() {
        let boxed: lambda_error::Error = Box::new(Worded);
        let report = ErrorReport::of(&boxed);
        assert_eq!(report.error_type, "Error");
        assert_eq!(report.message, "could not load the cart");
        let unit: lambda_error::Error = Box::new(Unit);
        assert_eq!(ErrorReport::of(&unit).error_type, "Unit");
    }

    #[derive(Debug)]
    struct Unit;

    impl fmt::Display for Unit {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("unit")
        }
    }

    impl Error for Unit {}

    #[test]
    #[cfg(feature = "lambda-runtime")]
    fn an_error_that_is_only_debug_is_reported() {
        let diagnostic = lambda_runtime::Diagnostic {
            error_type: "OrderRejected".into(),
            error_message: "order o-3 is over the limit".into(),
        };
        let report = ErrorReport::of_debug(&diagnostic);
        assert_eq!(report.error_type, "OrderRejected");
        assert_eq!(report.message, "order o-3 is over the limit");

        #[derive(Debug)]
        struct OnlyDebug {
            #[allow(dead_code)] // Read through `Debug` only.
            code: u16,
        }
        let report = ErrorReport::of_debug(&OnlyDebug { code: 503 });
        assert_eq!(report.error_type, std::any::type_name::<OnlyDebug>());
        assert_eq!(report.message, "OnlyDebug { code: 503 }");

        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "cart.json missing");
        let boxed: lambda_error::Error = Box::new(LoadFailed { source: io });
        assert_eq!(ErrorReport::of_debug(&boxed), ErrorReport::of(&boxed));
    }

    #[test]
    #[cfg(feature = "anyhow")]
    fn an_anyhow_error_walks_its_context_chain() {
        use anyhow::Context as _;
        let failed: Result<(), OrderError> = Err(OrderError::NotFound("o-4".into()));
        let error = failed
            .context("reserving stock")
            .context("placing order o-4")
            .unwrap_err();
        for report in [ErrorReport::of(&error), ErrorReport::of_debug(&error)] {
            assert_eq!(report.message, "placing order o-4");
            assert_eq!(
                report.causes,
                vec![
                    "reserving stock".to_owned(),
                    "order o-4 not found".to_owned()
                ]
            );
            assert_eq!(report.error_type, "NotFound");
            assert_eq!(
                report.cause_chain().unwrap(),
                "placing order o-4\n\nCaused by:\n    0: reserving stock\n    1: order o-4 not found"
            );
        }
    }

    mod lambda_error {
        pub type Error = Box<dyn std::error::Error + Send + Sync>;
    }
}
