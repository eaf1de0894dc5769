//! Gzip members of a delivered object, split as the bytes arrive.
//!
//! Firehose concatenates the gzipped records it buffered, so an object is a
//! sequence of gzip members (and may be plain payloads instead). The
//! [`MemberSplitter`] is fed the object a chunk at a time, as the object store
//! streams it, and hands back each member's decoded payloads as soon as its
//! trailer is read: memory holds one chunk and one member, each member capped
//! at [`DecodeLimits::max_decompressed_bytes`] (a gzip bomb stops there).

use std::collections::VecDeque;
use std::io::Write as _;

use crate::decode::{self, DecodeLimits, DecodedPayload};

/// The first byte of every gzip member.
const GZIP_FIRST_BYTE: u8 = 0x1f;

/// The size of the pieces a byte slice is fed to the splitter in.
pub(crate) const CHUNK_BYTES: usize = 1024 * 1024;

/// The most bytes of an undecodable tail kept in its quarantine record.
const QUARANTINE_KEEP_BYTES: usize = 8 * 1024 * 1024;

/// The payloads of delivered bytes, one gzip member at a time (each capped at
/// `max_decompressed_bytes`). Bytes that are not gzip are read as one input. A
/// corrupt member is one error (with its bytes, up to 8 MiB) and the members
/// after it are still read: the splitter looks for the next gzip header.
pub(crate) fn member_payloads<'b>(
    bytes: &'b [u8],
    limits: &DecodeLimits,
) -> impl Iterator<Item = Vec<DecodedPayload>> + 'b {
    let mut splitter = MemberSplitter::new(*limits);
    let mut chunks = bytes.chunks(CHUNK_BYTES);
    let mut ready = VecDeque::new();
    let mut finished = false;
    std::iter::from_fn(move || {
        loop {
            if let Some(member) = ready.pop_front() {
                return Some(member);
            }
            if finished {
                return None;
            }
            match chunks.next() {
                Some(chunk) => splitter.push(chunk, &mut ready),
                None => {
                    splitter.finish(&mut ready);
                    finished = true;
                }
            }
        }
    })
}

/// The first bytes of a gzip member: the magic number and the deflate method.
const GZIP_HEADER: [u8; 3] = [GZIP_FIRST_BYTE, 0x8b, 0x08];

/// Where the splitter is in the delivered bytes.
enum SplitState {
    /// At a member boundary (or the start).
    Between,
    /// Inside a gzip member; `compressed` keeps its bytes (up to 8 MiB) for
    /// quarantine and for looking for the next member if it turns out corrupt.
    Member {
        // Boxed: the decoder's state is large beside the other variants'.
        decoder: Box<flate2::write::GzDecoder<CappedSink>>,
        compressed: Vec<u8>,
    },
    /// The bytes are not gzip: gathered (up to the cap) and read as one input.
    Plain { bytes: Vec<u8>, too_large: bool },
    /// After a corrupt member: looking for the next gzip header. `tail` holds
    /// the last bytes seen (fewer than a header), which a header may start in.
    Scanning { tail: Vec<u8> },
}

/// Splits delivered bytes, fed in chunks of any size, into decoded gzip
/// members: incremental, so only one chunk and one member are in memory.
///
/// A member that fails (bad deflate data, a CRC or length that does not check
/// out, a member cut short, one over the cap) does not end the object: its
/// bytes up to the next gzip header are one quarantined input with the
/// reason, and the members after it are read. Since a corrupt member has no
/// trustworthy end, the next header is looked for from its second byte; a
/// header-like sequence inside the corrupt bytes starts a member that fails
/// too, and joins the same quarantined input, so one corrupt stretch is one
/// quarantine record however it is cut.
pub(crate) struct MemberSplitter {
    limits: DecodeLimits,
    state: SplitState,
    /// The corrupt stretch under way: the first failure's reason and its bytes
    /// (up to 8 MiB). Handed out before the next good member, or at the end.
    corrupt: Option<(decode::DecodeError, Vec<u8>)>,
    /// Whether any byte was delivered: an empty delivery is one empty input.
    delivered_bytes: bool,
}

impl MemberSplitter {
    pub(crate) fn new(limits: DecodeLimits) -> MemberSplitter {
        MemberSplitter {
            limits,
            state: SplitState::Between,
            corrupt: None,
            delivered_bytes: false,
        }
    }

    /// Feeds the next chunk; each member it completes is appended to `out`.
    pub(crate) fn push(&mut self, chunk: &[u8], out: &mut VecDeque<Vec<DecodedPayload>>) {
        self.delivered_bytes |= !chunk.is_empty();
        let mut input = std::borrow::Cow::Borrowed(chunk);
        // A corrupt member hands back the bytes to look through again.
        while let Some(again) = self.step(&input, out) {
            input = std::borrow::Cow::Owned(again);
        }
    }

    /// Consumes `input`; returns bytes to be fed again (from a corrupt
    /// member's second byte on) when a member fails.
    fn step(
        &mut self,
        mut input: &[u8],
        out: &mut VecDeque<Vec<DecodedPayload>>,
    ) -> Option<Vec<u8>> {
        let cap = self.limits.max_decompressed_bytes;
        while !input.is_empty() {
            match &mut self.state {
                SplitState::Scanning { tail } => {
                    let mut seen = std::mem::take(tail);
                    seen.extend_from_slice(input);
                    if let Some(start) = seen
                        .windows(GZIP_HEADER.len())
                        .position(|w| w == GZIP_HEADER)
                    {
                        self.add_corrupt_bytes(&seen[..start]);
                        self.state = SplitState::Between;
                        return Some(seen[start..].to_vec());
                    }
                    let keep_from = seen.len().saturating_sub(GZIP_HEADER.len() - 1);
                    self.add_corrupt_bytes(&seen[..keep_from]);
                    self.state = SplitState::Scanning {
                        tail: seen[keep_from..].to_vec(),
                    };
                    return None;
                }
                SplitState::Plain { bytes, too_large } => {
                    if !*too_large {
                        if (bytes.len() + input.len()) as u64 > cap {
                            *too_large = true;
                            bytes.truncate(QUARANTINE_KEEP_BYTES);
                        } else {
                            bytes.extend_from_slice(input);
                        }
                    }
                    return None;
                }
                SplitState::Between => {
                    // Whitespace between members (or after the last) is not data.
                    let start = input
                        .iter()
                        .position(|b| !b.is_ascii_whitespace())
                        .unwrap_or(input.len());
                    input = &input[start..];
                    if input.is_empty() {
                        return None;
                    }
                    self.state = if input[0] == GZIP_FIRST_BYTE {
                        SplitState::Member {
                            decoder: Box::new(flate2::write::GzDecoder::new(CappedSink::new(cap))),
                            compressed: Vec::new(),
                        }
                    } else {
                        SplitState::Plain {
                            bytes: Vec::new(),
                            too_large: false,
                        }
                    };
                }
                SplitState::Member {
                    decoder,
                    compressed,
                } => match decoder.write(input) {
                    // The member's trailer has been read: the rest of the input
                    // is the next member.
                    Ok(0) => {
                        if let Some(mut again) = self.end_member(out) {
                            again.extend_from_slice(input);
                            return Some(again);
                        }
                    }
                    Ok(consumed) => {
                        keep(compressed, &input[..consumed]);
                        input = &input[consumed..];
                    }
                    Err(error) => {
                        let error = member_error(decoder.get_ref(), error, cap);
                        let mut member = std::mem::take(compressed);
                        member.extend_from_slice(input);
                        return Some(self.member_failed(error, member));
                    }
                },
            }
        }
        None
    }

    /// A member failed: its first byte joins the corrupt stretch, and the
    /// rest of its bytes are returned to be looked through for the next
    /// member.
    fn member_failed(&mut self, error: decode::DecodeError, member: Vec<u8>) -> Vec<u8> {
        match &mut self.corrupt {
            Some((_, kept)) => keep(kept, &member[..member.len().min(1)]),
            None => self.corrupt = Some((error, member[..member.len().min(1)].to_vec())),
        }
        self.state = SplitState::Scanning { tail: Vec::new() };
        member.get(1..).map(<[u8]>::to_vec).unwrap_or_default()
    }

    fn add_corrupt_bytes(&mut self, bytes: &[u8]) {
        if let Some((_, kept)) = &mut self.corrupt {
            keep(kept, bytes);
        }
    }

    /// Hands out the corrupt stretch under way, if any.
    fn flush_corrupt(&mut self, out: &mut VecDeque<Vec<DecodedPayload>>) {
        if let Some((error, kept)) = self.corrupt.take() {
            out.push_back(vec![Err((error, kept))]);
        }
    }

    /// Ends the member under way, appending its payloads to `out`; if its
    /// trailer does not check out, returns its bytes after the first, to be
    /// looked through for the next member.
    fn end_member(&mut self, out: &mut VecDeque<Vec<DecodedPayload>>) -> Option<Vec<u8>> {
        let SplitState::Member {
            mut decoder,
            compressed,
        } = std::mem::replace(&mut self.state, SplitState::Between)
        else {
            return None;
        };
        let cap = self.limits.max_decompressed_bytes;
        match decoder.try_finish() {
            Ok(()) => {
                self.flush_corrupt(out);
                let sink = decoder.get_ref();
                out.push_back(decode::decode_gzip_content(&sink.bytes, &self.limits));
                None
            }
            Err(error) => {
                let error = member_error(decoder.get_ref(), error, cap);
                Some(self.member_failed(error, compressed))
            }
        }
    }

    /// The end of the delivered bytes: the last member (or the plain input, or
    /// the corrupt stretch) is appended to `out`.
    ///
    /// An empty delivery is one input that [`decode::decode_input`] calls
    /// empty: counted and quarantined as any undecodable input, as an empty
    /// file is.
    pub(crate) fn finish(&mut self, out: &mut VecDeque<Vec<DecodedPayload>>) {
        if !self.delivered_bytes {
            out.push_back(decode::decode_input(&[], &self.limits));
            return;
        }
        loop {
            let again = match self.state {
                // A member cut short fails its trailer check here.
                SplitState::Member { .. } => self.end_member(out),
                _ => None,
            };
            match again {
                Some(bytes) => self.push(&bytes, out),
                None => break,
            }
        }
        match std::mem::replace(&mut self.state, SplitState::Between) {
            SplitState::Between | SplitState::Member { .. } => {}
            SplitState::Scanning { tail } => self.add_corrupt_bytes(&tail),
            SplitState::Plain { bytes, too_large } => {
                self.flush_corrupt(out);
                if too_large {
                    let error = decode::DecodeError::TooLarge {
                        limit: self.limits.max_decompressed_bytes,
                    };
                    out.push_back(vec![Err((error, bytes))]);
                } else {
                    out.push_back(decode::decode_input(&bytes, &self.limits));
                }
            }
        }
        self.flush_corrupt(out);
    }
}

/// Appends to a quarantine buffer up to [`QUARANTINE_KEEP_BYTES`].
fn keep(kept: &mut Vec<u8>, bytes: &[u8]) {
    let room = QUARANTINE_KEEP_BYTES.saturating_sub(kept.len());
    kept.extend_from_slice(&bytes[..bytes.len().min(room)]);
}

/// A member's failure: over the cap, or bad gzip.
fn member_error(sink: &CappedSink, error: std::io::Error, cap: u64) -> decode::DecodeError {
    if sink.exceeded {
        decode::DecodeError::TooLarge { limit: cap }
    } else {
        decode::DecodeError::Gzip(error)
    }
}

/// Where one member decompresses to: refuses to grow past the cap, so a gzip
/// bomb stops there.
struct CappedSink {
    bytes: Vec<u8>,
    cap: u64,
    exceeded: bool,
}

impl CappedSink {
    fn new(cap: u64) -> CappedSink {
        CappedSink {
            bytes: Vec::new(),
            cap,
            exceeded: false,
        }
    }
}

impl std::io::Write for CappedSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if (self.bytes.len() + buf.len()) as u64 > self.cap {
            self.exceeded = true;
            return Err(std::io::Error::other(format!(
                "a gzip member decompresses to more than {} bytes",
                self.cap
            )));
        }
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// `text` as one gzip member.
    pub(crate) fn gzip(text: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(text).unwrap();
        encoder.finish().unwrap()
    }

    /// A subscription payload of `events` events of `group`, each message
    /// `message_bytes` long, ids unique across groups.
    pub(crate) fn payload(group: &str, events: usize, message_bytes: usize) -> String {
        let events: Vec<String> = (0..events)
            .map(|i| {
                format!(
                    r#"{{"id":"{group}-{i}","timestamp":{},"message":"{}"}}"#,
                    1_764_400_000_000u64 + i as u64,
                    "x".repeat(message_bytes)
                )
            })
            .collect();
        format!(
            r#"{{"messageType":"DATA_MESSAGE","owner":"123456789012","logGroup":"{group}","logStream":"s","subscriptionFilters":["tracelake"],"logEvents":[{}]}}"#,
            events.join(",")
        )
    }

    #[test]
    fn members_split_at_their_boundaries_and_a_bomb_stops_at_the_cap() {
        let gzip = |text: &[u8]| {
            let mut encoder =
                flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            encoder.write_all(text).unwrap();
            encoder.finish().unwrap()
        };
        let payload = |group: &str| {
            format!(
                r#"{{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"{group}","logStream":"s","logEvents":[{{"id":"1","timestamp":5,"message":"hi"}}]}}"#
            )
        };
        let object = [
            gzip(format!("{}{}", payload("a"), payload("b")).as_bytes()),
            gzip(payload("c").as_bytes()),
            gzip(&vec![b' '; 4096]),
        ]
        .concat();
        let limits = DecodeLimits {
            max_decompressed_bytes: 1024,
            ..DecodeLimits::default()
        };
        let members: Vec<_> = member_payloads(&object, &limits).collect();
        assert_eq!(members.len(), 3);
        let groups = |member: &Vec<DecodedPayload>| -> Vec<String> {
            member
                .iter()
                .map(|p| match p {
                    Ok(decode::Payload::Data(batch)) => batch.log_group.clone(),
                    other => format!("{other:?}"),
                })
                .collect()
        };
        assert_eq!(groups(&members[0]), ["a", "b"]);
        assert_eq!(groups(&members[1]), ["c"]);
        assert!(matches!(
            members[2][..],
            [Err((decode::DecodeError::TooLarge { limit: 1024 }, _))]
        ));
    }

    fn split_in_chunks(
        object: &[u8],
        chunk: usize,
        limits: &DecodeLimits,
    ) -> Vec<Vec<DecodedPayload>> {
        let mut splitter = MemberSplitter::new(*limits);
        let mut out = VecDeque::new();
        for piece in object.chunks(chunk) {
            splitter.push(piece, &mut out);
        }
        splitter.finish(&mut out);
        out.into_iter().collect()
    }

    fn groups_of(members: &[Vec<DecodedPayload>]) -> Vec<Vec<String>> {
        members
            .iter()
            .map(|member| {
                member
                    .iter()
                    .map(|p| match p {
                        Ok(decode::Payload::Data(batch)) => batch.log_group.clone(),
                        Ok(decode::Payload::Control) => "control".to_owned(),
                        Err((error, _)) => format!("error: {error}"),
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn members_split_the_same_whatever_the_chunk_boundaries() {
        let object = [
            gzip(format!("{}{}", payload("a", 2, 10), payload("b", 1, 10)).as_bytes()),
            gzip(payload("c", 3, 10).as_bytes()),
            b"\n".to_vec(),
            gzip(payload("d", 1, 10).as_bytes()),
        ]
        .concat();
        let limits = DecodeLimits::default();
        let whole = groups_of(&split_in_chunks(&object, object.len(), &limits));
        assert_eq!(whole, [vec!["a", "b"], vec!["c"], vec!["d"]]);
        // Every boundary falls inside a header, a deflate block and a trailer
        // for some chunk size.
        for chunk in [1, 2, 3, 7, 10, 17, 64] {
            assert_eq!(
                groups_of(&split_in_chunks(&object, chunk, &limits)),
                whole,
                "chunks of {chunk} bytes"
            );
        }
    }

    #[test]
    fn a_corrupt_member_is_one_error_with_its_bytes_and_the_members_after_it_are_read() {
        let good = gzip(payload("a", 1, 10).as_bytes());
        let mut bad_crc = gzip(payload("b", 1, 10).as_bytes());
        // Flip a byte of the CRC-32 in the trailer.
        let crc = bad_crc.len() - 8;
        bad_crc[crc] ^= 0xff;
        // Bad deflate data: a block type that does not exist (BTYPE 11) right
        // after the 10-byte header.
        let mut bad_deflate = gzip(payload("x", 3, 50).as_bytes());
        bad_deflate[10] |= 0b110;
        let after = gzip(payload("c", 1, 10).as_bytes());
        let last = gzip(payload("d", 1, 10).as_bytes());
        let object = [
            good.clone(),
            bad_crc.clone(),
            after.clone(),
            bad_deflate.clone(),
            last.clone(),
        ]
        .concat();
        for chunk in [1, 2, 5, 64, object.len()] {
            let members = split_in_chunks(&object, chunk, &DecodeLimits::default());
            assert_eq!(members.len(), 5, "chunks of {chunk}");
            assert_eq!(groups_of(&members[..1]), [vec!["a"]], "chunks of {chunk}");
            assert_eq!(groups_of(&members[2..3]), [vec!["c"]], "chunks of {chunk}");
            assert_eq!(groups_of(&members[4..]), [vec!["d"]], "chunks of {chunk}");
            for (member, bytes) in [(&members[1], &bad_crc), (&members[3], &bad_deflate)] {
                match &member[..] {
                    [Err((decode::DecodeError::Gzip(_), kept))] => {
                        assert_eq!(kept, bytes, "chunks of {chunk}");
                    }
                    other => panic!("expected a gzip error, got {other:?}"),
                }
            }
        }
        // Two corrupt members in a row are one corrupt stretch.
        let object = [
            good.clone(),
            bad_crc.clone(),
            bad_crc.clone(),
            after.clone(),
        ]
        .concat();
        let members = split_in_chunks(&object, 3, &DecodeLimits::default());
        assert_eq!(members.len(), 3);
        assert!(
            matches!(&members[1][..], [Err((_, kept))] if *kept == [bad_crc.clone(), bad_crc.clone()].concat())
        );
        assert_eq!(groups_of(&members[2..]), [vec!["c"]]);
        // A member cut short is corrupt too.
        let truncated = [good.clone(), good[..good.len() - 3].to_vec()].concat();
        let members = split_in_chunks(&truncated, 4, &DecodeLimits::default());
        assert_eq!(members.len(), 2);
        assert!(matches!(
            members[1][..],
            [Err((decode::DecodeError::Gzip(_), _))]
        ));
    }

    #[test]
    fn a_bomb_between_members_is_quarantined_and_the_next_member_read() {
        let limits = DecodeLimits {
            max_decompressed_bytes: 4096,
            ..DecodeLimits::default()
        };
        let bomb = gzip(&vec![b' '; 1 << 20]);
        let object = [
            gzip(payload("a", 1, 10).as_bytes()),
            bomb.clone(),
            gzip(payload("b", 1, 10).as_bytes()),
        ]
        .concat();
        for chunk in [7, 4096, object.len()] {
            let members = split_in_chunks(&object, chunk, &limits);
            assert_eq!(members.len(), 3, "chunks of {chunk}");
            assert_eq!(groups_of(&members[..1]), [vec!["a"]]);
            assert!(matches!(
                &members[1][..],
                [Err((decode::DecodeError::TooLarge { limit: 4096 }, kept))] if *kept == bomb
            ));
            assert_eq!(groups_of(&members[2..]), [vec!["b"]]);
        }
    }

    #[test]
    fn an_empty_delivery_is_one_empty_input() {
        let members = split_in_chunks(b"", 3, &DecodeLimits::default());
        assert!(matches!(
            members[..],
            [ref member] if matches!(member[..], [Err((decode::DecodeError::Empty, _))])
        ));
    }

    #[test]
    fn plain_bytes_are_one_input_capped() {
        let limits = DecodeLimits {
            max_decompressed_bytes: 4096,
            ..DecodeLimits::default()
        };
        let plain = payload("p", 2, 10);
        assert_eq!(
            groups_of(&split_in_chunks(plain.as_bytes(), 3, &limits)),
            [vec!["p"]]
        );
        let big = payload("p", 100, 100);
        let members = split_in_chunks(big.as_bytes(), 1000, &limits);
        assert!(matches!(
            members[..],
            [ref member] if matches!(member[..], [Err((decode::DecodeError::TooLarge { limit: 4096 }, _))])
        ));
    }
}
