//! Trace and span ids in their W3C form, and conversion from and to X-Ray's.
//!
//! The index stores a trace id as 32 lowercase hex digits. X-Ray writes the same
//! 128 bits as `1-{8 hex epoch seconds}-{24 hex}`; both forms parse here.

use std::fmt;

/// Why a trace or span id could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// The text is not a trace id in any accepted form (see [`TraceId::parse`]
    /// and [`TraceId::parse_any`]).
    #[error("invalid trace id {0:?}")]
    InvalidTraceId(String),
    /// The text is not 16 hex digits.
    #[error("invalid span id {0:?}")]
    InvalidSpanId(String),
}

/// A 128-bit trace id, shown as 32 lowercase hex digits. The default is the
/// all-zero id, which no parser returns: a placeholder for rows being built.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TraceId(pub u128);

impl TraceId {
    /// Parses a W3C id (32 hex digits, either case) or an X-Ray id
    /// (`1-5759e988-bd862e3fe1be46a994272793`). An all-zero id is invalid, as in W3C.
    ///
    /// # Errors
    ///
    /// [`IdError::InvalidTraceId`] when the text (trimmed) is neither 32 hex digits
    /// nor an X-Ray id of 8 + 24 hex digits, or when the id is all zeros.
    pub fn parse(text: &str) -> Result<TraceId, IdError> {
        let text = text.trim();
        let invalid = || IdError::InvalidTraceId(text.to_owned());
        // The id's first 32 bits and its other 96 (an X-Ray id's epoch and
        // random parts), read without copying the text.
        let (high, low) = if text.len() == 32 && text.is_char_boundary(8) {
            text.split_at(8)
        } else if let Some(rest) = text.strip_prefix("1-") {
            let (epoch, random) = rest.split_once('-').ok_or_else(invalid)?;
            if epoch.len() != 8 || random.len() != 24 {
                return Err(invalid());
            }
            (epoch, random)
        } else {
            return Err(invalid());
        };
        let hex = |digits: &str| {
            digits
                .bytes()
                .all(|b| b.is_ascii_hexdigit())
                .then(|| u128::from_str_radix(digits, 16).ok())
                .flatten()
        };
        match (hex(high), hex(low)) {
            (Some(high), Some(low)) if high != 0 || low != 0 => Ok(TraceId(high << 96 | low)),
            _ => Err(invalid()),
        }
    }

    /// Parses a trace id in every form people paste and tools send: X-Ray
    /// (`1-5759e988-bd862e3fe1be46a994272793`), 32 hex digits, 16 hex digits (a
    /// 64-bit id), or any 1 to 32 hex digits whose leading zeros were dropped;
    /// either case, surrounding spaces ignored. The id is left-padded to 128 bits,
    /// so `a7890b687652000e` and `0000000000000000a7890b687652000e` are the same.
    ///
    /// # Errors
    ///
    /// [`IdError::InvalidTraceId`] for anything else: empty text, more than 32
    /// hex digits, a non-hex character, a malformed X-Ray id, or the all-zero id
    /// (invalid in W3C).
    pub fn parse_any(text: &str) -> Result<TraceId, IdError> {
        let trimmed = text.trim();
        if trimmed.starts_with("1-") && trimmed.len() == 35 {
            return TraceId::parse(trimmed);
        }
        let invalid = || IdError::InvalidTraceId(trimmed.to_owned());
        if trimmed.is_empty()
            || trimmed.len() > 32
            || !trimmed.bytes().all(|b| b.is_ascii_hexdigit())
        {
            return Err(invalid());
        }
        match u128::from_str_radix(trimmed, 16) {
            Ok(0) | Err(_) => Err(invalid()),
            Ok(value) => Ok(TraceId(value)),
        }
    }

    /// Reads an id from the 16 bytes of OTLP protobuf or JSON.
    pub fn from_bytes(bytes: &[u8]) -> Option<TraceId> {
        let array: [u8; 16] = bytes.try_into().ok()?;
        let value = u128::from_be_bytes(array);
        (value != 0).then_some(TraceId(value))
    }

    /// The id in X-Ray form: `1-{8 hex}-{24 hex}`.
    pub fn to_xray(&self) -> String {
        let hex = self.to_string();
        format!("1-{}-{}", &hex[..8], &hex[8..])
    }

    /// The epoch seconds in the first 8 hex digits, when they are a plausible
    /// X-Ray time (2010 to 2100). Ids from other tracers are random there.
    pub fn xray_epoch_seconds(&self) -> Option<u32> {
        let seconds = (self.0 >> 96) as u32;
        (1_262_304_000..=4_102_444_800)
            .contains(&seconds)
            .then_some(seconds)
    }
}

impl fmt::Display for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(const_hex::Buffer::<16>::new().format(&self.0.to_be_bytes()))
    }
}

/// A 64-bit span id, shown as 16 lowercase hex digits. The default is the
/// all-zero id, which no parser returns: a placeholder for rows being built.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SpanId(pub u64);

impl SpanId {
    /// Parses 16 hex digits (either case). An all-zero id is invalid.
    ///
    /// # Errors
    ///
    /// [`IdError::InvalidSpanId`] when the text (trimmed) is not exactly 16 hex
    /// digits, or is all zeros.
    pub fn parse(text: &str) -> Result<SpanId, IdError> {
        let text = text.trim();
        let invalid = || IdError::InvalidSpanId(text.to_owned());
        if text.len() != 16 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(invalid());
        }
        match u64::from_str_radix(text, 16) {
            Ok(0) | Err(_) => Err(invalid()),
            Ok(value) => Ok(SpanId(value)),
        }
    }

    /// Parses a span id as a person pastes it: 1 to 16 hex digits, leading zeros
    /// possibly dropped, either case; left-padded to 64 bits.
    ///
    /// # Errors
    ///
    /// [`IdError::InvalidSpanId`] for empty text, more than 16 hex digits, a
    /// non-hex character or the all-zero id.
    pub fn parse_any(text: &str) -> Result<SpanId, IdError> {
        let trimmed = text.trim();
        let invalid = || IdError::InvalidSpanId(trimmed.to_owned());
        if trimmed.is_empty()
            || trimmed.len() > 16
            || !trimmed.bytes().all(|b| b.is_ascii_hexdigit())
        {
            return Err(invalid());
        }
        match u64::from_str_radix(trimmed, 16) {
            Ok(0) | Err(_) => Err(invalid()),
            Ok(value) => Ok(SpanId(value)),
        }
    }

    /// Reads an id from the 8 bytes of OTLP protobuf or JSON.
    pub fn from_bytes(bytes: &[u8]) -> Option<SpanId> {
        let array: [u8; 8] = bytes.try_into().ok()?;
        let value = u64::from_be_bytes(array);
        (value != 0).then_some(SpanId(value))
    }
}

impl fmt::Display for SpanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(const_hex::Buffer::<8>::new().format(&self.0.to_be_bytes()))
    }
}

/// The fields of an X-Ray trace header (`X-Amzn-Trace-Id`, `_X_AMZN_TRACE_ID`,
/// SQS `AWSTraceHeader`): `Root=…;Parent=…;Sampled=…;Lineage=…`.
///
/// Keys the header carries besides Root, Parent and Sampled (`Lineage`, used by
/// Lambda's recursion detection, and any unknown key) are kept in order, so that
/// writing the header again loses nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XrayHeader {
    /// The trace the header belongs to.
    pub root: TraceId,
    /// The caller's segment, when the header names one.
    pub parent: Option<SpanId>,
    /// `Some(true)` for `Sampled=1`, `Some(false)` for `0`, `None` otherwise. A
    /// deferred decision (`Sampled=?`) is kept in `other`, so that it is written
    /// back as it came.
    pub sampled: Option<bool>,
    /// Every other `key=value` pair, in the order it came.
    pub other: Vec<(String, String)>,
}

impl XrayHeader {
    /// Parses a header value. The `X-Amzn-Trace-Id:` prefix, spaces and key case
    /// are tolerated; a missing or invalid `Root` is an error.
    ///
    /// # Errors
    ///
    /// [`IdError::InvalidTraceId`] when there is no `Root` key or its value is not
    /// a trace id ([`TraceId::parse`]). An invalid `Parent` is dropped, not an error.
    pub fn parse(text: &str) -> Result<XrayHeader, IdError> {
        let text = text.trim();
        let text = text
            .strip_prefix("X-Amzn-Trace-Id:")
            .map(str::trim)
            .unwrap_or(text);
        let mut root = None;
        let mut parent = None;
        let mut sampled = None;
        let mut other = Vec::new();
        for part in text.split(';') {
            let Some((key, value)) = part.split_once('=') else {
                continue;
            };
            let (key, value) = (key.trim(), value.trim());
            match key.to_ascii_lowercase().as_str() {
                "root" => root = Some(TraceId::parse(value)?),
                "parent" => parent = SpanId::parse(value).ok(),
                "sampled" if value == "1" => sampled = Some(true),
                "sampled" if value == "0" => sampled = Some(false),
                _ => other.push((key.to_owned(), value.to_owned())),
            }
        }
        let root = root.ok_or_else(|| IdError::InvalidTraceId(text.to_owned()))?;
        Ok(XrayHeader {
            root,
            parent,
            sampled,
            other,
        })
    }
}

impl fmt::Display for XrayHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Root={}", self.root.to_xray())?;
        if let Some(parent) = self.parent {
            write!(f, ";Parent={parent}")?;
        }
        match self.sampled {
            Some(true) => write!(f, ";Sampled=1")?,
            Some(false) => write!(f, ";Sampled=0")?,
            None => {}
        }
        for (key, value) in &self.other {
            write!(f, ";{key}={value}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn xray_and_w3c_forms_name_the_same_id() {
        let xray = TraceId::parse("1-5e61292c-cc1229a4dfbeae1043928548").unwrap();
        let w3c = TraceId::parse("5E61292CCC1229A4DFBEAE1043928548").unwrap();
        assert_eq!(xray, w3c);
        assert_eq!(xray.to_string(), "5e61292ccc1229a4dfbeae1043928548");
        assert_eq!(xray.xray_epoch_seconds(), Some(0x5e61292c));
    }

    #[test]
    fn placeholder_and_malformed_ids_are_rejected() {
        for bad in [
            "1-5d9d007f-0a8c7fd02xmpl480aed55ef0",
            "00000000000000000000000000000000",
            "1-5759e988bd862e3fe1be46a994272793",
            "5759e988-bd862e3fe1be46a994272793",
            "",
            "1-5759e988-bd862e3fe1be46a99427279",
            "1-00000000-000000000000000000000000",
            "+759e988bd862e3fe1be46a994272793",
            "1-+759e988-bd862e3fe1be46a994272793",
            "1-5759e988-+d862e3fe1be46a994272793",
            // 32 bytes, with a two-byte character across the 8th byte.
            "abcdefg\u{e9}bd862e3fe1be46a99427279",
        ] {
            assert!(TraceId::parse(bad).is_err(), "{bad} should be rejected");
        }
        assert!(SpanId::parse("3d752xmpl1bbe37e").is_err());
        assert!(SpanId::parse("0000000000000000").is_err());
    }

    #[test]
    fn random_ids_have_no_xray_epoch() {
        let id = TraceId::parse("ffffffffbd862e3fe1be46a994272793").unwrap();
        assert_eq!(id.xray_epoch_seconds(), None);
    }

    #[test]
    fn xray_header_keeps_lineage_and_unknown_keys() {
        let text = "Root=1-5e272390-8c398be037738dc042009320;Parent=94ae789b969f1cc5;Sampled=1;Lineage=c6c5b1b9:0";
        let header = XrayHeader::parse(text).unwrap();
        assert_eq!(header.parent, SpanId::parse("94ae789b969f1cc5").ok());
        assert_eq!(header.sampled, Some(true));
        assert_eq!(header.other, vec![("Lineage".into(), "c6c5b1b9:0".into())]);
        assert_eq!(header.to_string(), text);

        let no_parent = XrayHeader::parse(
            "Root=1-642db7c3-0411df85df67c6d64c9323c1;Sampled=1;lineage=5e935c59:0|4f6a4953:0",
        )
        .unwrap();
        assert_eq!(no_parent.parent, None);
        assert_eq!(no_parent.other[0].1, "5e935c59:0|4f6a4953:0");
        let unknown =
            XrayHeader::parse("Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=?").unwrap();
        assert_eq!(unknown.sampled, None);
        assert_eq!(
            unknown.to_string(),
            "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=?"
        );
    }

    #[test]
    fn every_pasted_form_names_the_same_id() {
        let long = TraceId::parse_any("0000000000000000a7890b687652000e").unwrap();
        assert_eq!(long.to_string(), "0000000000000000a7890b687652000e");
        for form in [
            "a7890b687652000e",
            "A7890B687652000E",
            " a7890b687652000e\n",
            "000a7890b687652000e",
        ] {
            assert_eq!(TraceId::parse_any(form), Ok(long), "{form:?}");
        }
        let unpadded = TraceId::parse_any("ac9e59c5cd0b169a71419360b31161b").unwrap();
        assert_eq!(unpadded.to_string(), "0ac9e59c5cd0b169a71419360b31161b");
        let xray = TraceId::parse_any("1-6B0BF7A0-4139D1032089583EA665D5A9").unwrap();
        assert_eq!(xray.to_string(), "6b0bf7a04139d1032089583ea665d5a9");
        assert_eq!(
            SpanId::parse_any("481fe53e11d53ba").unwrap().to_string(),
            "0481fe53e11d53ba"
        );
    }

    #[test]
    fn what_is_really_not_an_id_is_refused_by_parse_any() {
        for bad in [
            "",
            "   ",
            "0",
            "00000000000000000000000000000000",
            "0a7890b687652000e0a7890b687652000e",
            "a7890b68765200zz",
            "0x1234",
            "1-6b0bf7a0-4139d103",
            "1-6b0bf7a0",
            "trace-1234",
            "12-34",
        ] {
            assert!(
                TraceId::parse_any(bad).is_err(),
                "{bad:?} should be refused"
            );
        }
        assert!(SpanId::parse_any("0").is_err());
        assert!(SpanId::parse_any("10000000000000000").is_err());
    }

    #[test]
    fn wire_parse_stays_strict_about_short_ids() {
        // A 16-hex or decimal field in a log line is not taken for a trace id.
        assert!(TraceId::parse("a7890b687652000e").is_err());
        assert!(TraceId::parse("1234567890123456789").is_err());
    }

    proptest! {
        #[test]
        fn parse_any_left_pads_every_unpadded_form(value in 1u128.., upper in any::<bool>()) {
            let id = TraceId(value);
            let unpadded = format!("{value:x}");
            let text = if upper { unpadded.to_uppercase() } else { unpadded };
            prop_assert_eq!(TraceId::parse_any(&text), Ok(id));
            prop_assert_eq!(TraceId::parse_any(&id.to_string()), Ok(id));
            prop_assert_eq!(TraceId::parse_any(&id.to_xray()), Ok(id));
            prop_assert_eq!(TraceId::parse_any(&id.to_xray().to_uppercase()), Ok(id));
            prop_assert_eq!(TraceId::parse_any(&id.to_string()).unwrap().to_string().len(), 32);
        }

        #[test]
        fn parse_any_of_64_bit_ids(value in 1u64..) {
            let text = format!("{value:016x}");
            let id = TraceId::parse_any(&text).unwrap();
            prop_assert_eq!(id, TraceId(u128::from(value)));
            prop_assert_eq!(id.to_string(), format!("{:0>32}", text));
            prop_assert_eq!(SpanId::parse_any(&text), Ok(SpanId(value)));
        }

        #[test]
        fn parse_any_refuses_non_hex(text in "[0-9a-fA-F]{0,20}[g-zG-Z_ .:/-][0-9a-fA-F]{0,20}") {
            prop_assume!(!text.trim().starts_with("1-"));
            prop_assume!(text.trim().bytes().any(|b| !b.is_ascii_hexdigit()));
            prop_assert!(TraceId::parse_any(&text).is_err());
        }

        #[test]
        fn parse_any_is_at_least_as_lenient_as_parse(text in ".{0,40}") {
            if let Ok(id) = TraceId::parse(&text) {
                prop_assert_eq!(TraceId::parse_any(&text), Ok(id));
            }
            let _ = SpanId::parse_any(&text);
        }

        #[test]
        fn xray_w3c_round_trip(value in 1u128..) {
            let id = TraceId(value);
            prop_assert_eq!(id.to_string(), format!("{value:032x}"));
            prop_assert_eq!(TraceId::parse(&id.to_xray()).unwrap(), id);
            prop_assert_eq!(TraceId::parse(&id.to_string()).unwrap(), id);
            prop_assert_eq!(TraceId::parse(&id.to_string().to_uppercase()).unwrap(), id);
        }

        #[test]
        fn span_id_round_trip(value in 1u64..) {
            let id = SpanId(value);
            prop_assert_eq!(id.to_string(), format!("{value:016x}"));
            prop_assert_eq!(SpanId::parse(&id.to_string()).unwrap(), id);
            prop_assert_eq!(SpanId::from_bytes(&value.to_be_bytes()), Some(id));
        }

        #[test]
        fn parsing_arbitrary_text_never_panics(text in ".{0,80}") {
            let _ = TraceId::parse(&text);
            let _ = SpanId::parse(&text);
            let _ = XrayHeader::parse(&text);
        }
    }
}
