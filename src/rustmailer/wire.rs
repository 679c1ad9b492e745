//! Which RustMailer wire a server speaks, told by the shape of what it sends (never by its version
//! number: a build between releases may speak either). Two facets differ between the 1.6.0 release
//! and the later revision `protos/rustmailer.proto` follows (`../shared/specs/rustmailer-grpc.md`,
//! "Version differences"), and each is learned on its own:
//!
//! - how an envelope carries `thread_id` (field 26): a string, or 1.6.0's uint64;
//! - how `ListThreads` pages: by cursor, or by 1.6.0's 1-based page number.
//!
//! A 1.6.0 envelope is rewritten into the revision's shape before prost reads it, so the rest of
//! Petrel sees one kind of envelope; its thread id becomes the decimal text of the number.

/// How envelopes carry their thread id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThreadIds {
    /// The revision: a string.
    Text,
    /// 1.6.0: a uint64.
    Number,
}

/// How `ListThreads` pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThreadPaging {
    /// The revision: `next_page_token` cursors, answered with `CursorDataPage`.
    Cursor,
    /// 1.6.0: a 1-based `page` number, answered with `PagedMessages`.
    Page,
}

/// What has been learned of one server's wire; `None` until its answers have shown it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WireShape {
    pub thread_ids: Option<ThreadIds>,
    pub thread_paging: Option<ThreadPaging>,
}

impl WireShape {
    /// Notes what an answer showed. A server that changes shape mid-session (upgraded under us)
    /// is believed: the newest answer wins.
    pub fn learn_thread_ids(&mut self, seen: Option<ThreadIds>) {
        if seen.is_some() {
            self.thread_ids = seen;
        }
    }

    /// In words, for the account's details and for errors.
    pub fn describe(&self) -> &'static str {
        match (self.thread_ids, self.thread_paging) {
            (Some(ThreadIds::Number), _) | (_, Some(ThreadPaging::Page)) => "RustMailer 1.6.0's wire",
            (Some(ThreadIds::Text), _) | (_, Some(ThreadPaging::Cursor)) => "RustMailer's 2026 wire",
            (None, None) => "not yet known",
        }
    }
}

/// The envelope field that holds the thread id.
const THREAD_ID_FIELD: u64 = 26;

const VARINT: u8 = 0;
const FIXED64: u8 = 1;
const LEN: u8 = 2;
const FIXED32: u8 = 5;

/// Why bytes are not protobuf at all (a wrong type in a field is prost's to report, afterwards).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotProtobuf(pub String);

struct Field<'a> {
    number: u64,
    wire_type: u8,
    /// Where the field (its tag) starts in the bytes walked, and where it ends.
    start: usize,
    end: usize,
    /// A length-delimited field's payload.
    payload: &'a [u8],
    /// A varint field's value.
    value: u64,
}

fn read_varint(bytes: &[u8], at: &mut usize) -> Result<u64, NotProtobuf> {
    let mut value: u64 = 0;
    for shift in (0..64).step_by(7) {
        let byte = *bytes.get(*at).ok_or_else(|| NotProtobuf("a number runs past the end".into()))?;
        *at += 1;
        // The tenth byte holds the 64th bit alone: anything more is not a uint64.
        if shift == 63 && byte > 1 {
            return Err(NotProtobuf("a number is larger than 64 bits".into()));
        }
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(NotProtobuf("a number is longer than ten bytes".into()))
}

fn write_varint(mut value: u64, out: &mut Vec<u8>) {
    while value >= 0x80 {
        out.push((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn fields(bytes: &[u8]) -> impl Iterator<Item = Result<Field<'_>, NotProtobuf>> {
    let mut at = 0;
    std::iter::from_fn(move || {
        if at >= bytes.len() {
            return None;
        }
        let start = at;
        let field = (|| {
            let tag = read_varint(bytes, &mut at)?;
            let (number, wire_type) = (tag >> 3, (tag & 7) as u8);
            let (mut payload, mut value): (&[u8], u64) = (&[], 0);
            match wire_type {
                VARINT => value = read_varint(bytes, &mut at)?,
                FIXED64 => at += 8,
                FIXED32 => at += 4,
                LEN => {
                    let len = usize::try_from(read_varint(bytes, &mut at)?)
                        .map_err(|_| NotProtobuf("a length does not fit".into()))?;
                    let end = at
                        .checked_add(len)
                        .filter(|end| *end <= bytes.len())
                        .ok_or_else(|| NotProtobuf("a field runs past the end".into()))?;
                    payload = &bytes[at..end];
                    at = end;
                }
                other => return Err(NotProtobuf(format!("wire type {other} is not one RustMailer sends"))),
            }
            if at > bytes.len() {
                return Err(NotProtobuf("a field runs past the end".into()));
            }
            Ok(Field { number, wire_type, start, end: at, payload, value })
        })();
        if field.is_err() {
            at = bytes.len();
        }
        Some(field)
    })
}

/// Rewrites one envelope's numeric thread id as text; `None` when there was nothing to rewrite.
fn envelope_in_revision_shape(envelope: &[u8], seen: &mut Option<ThreadIds>) -> Result<Option<Vec<u8>>, NotProtobuf> {
    let mut rewritten: Option<Vec<u8>> = None;
    let mut copied = 0;
    for field in fields(envelope) {
        let field = field?;
        if field.number != THREAD_ID_FIELD {
            continue;
        }
        match field.wire_type {
            LEN => *seen = Some(ThreadIds::Text),
            VARINT => {
                *seen = Some(ThreadIds::Number);
                let out = rewritten.get_or_insert_with(|| Vec::with_capacity(envelope.len() + 16));
                out.extend_from_slice(&envelope[copied..field.start]);
                let text = field.value.to_string();
                write_varint(THREAD_ID_FIELD << 3 | u64::from(LEN), out);
                write_varint(text.len() as u64, out);
                out.extend_from_slice(text.as_bytes());
                copied = field.end;
            }
            // Any other type is left for prost to name as the error it is.
            _ => {}
        }
    }
    Ok(rewritten.map(|mut out| {
        out.extend_from_slice(&envelope[copied..]);
        out
    }))
}

/// Puts the envelopes of an answer (the repeated field `envelopes_field`) into the revision's
/// shape. Returns the bytes to decode (borrowed when nothing changed, the usual case on the
/// revision) and what the thread ids showed.
pub fn in_revision_shape(
    answer: &[u8],
    envelopes_field: u64,
) -> Result<(std::borrow::Cow<'_, [u8]>, Option<ThreadIds>), NotProtobuf> {
    let mut seen = None;
    let mut rewritten: Option<Vec<u8>> = None;
    let mut copied = 0;
    for field in fields(answer) {
        let field = field?;
        if field.number != envelopes_field || field.wire_type != LEN {
            continue;
        }
        if let Some(envelope) = envelope_in_revision_shape(field.payload, &mut seen)? {
            let out = rewritten.get_or_insert_with(|| Vec::with_capacity(answer.len() + answer.len() / 8));
            out.extend_from_slice(&answer[copied..field.start]);
            write_varint(envelopes_field << 3 | u64::from(LEN), out);
            write_varint(envelope.len() as u64, out);
            out.extend_from_slice(&envelope);
            copied = field.end;
        }
    }
    Ok(match rewritten {
        Some(mut out) => {
            out.extend_from_slice(&answer[copied..]);
            (std::borrow::Cow::Owned(out), seen)
        }
        None => (std::borrow::Cow::Borrowed(answer), seen),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rustmailer::proto as pb;
    use prost::Message;

    fn envelope(uid: u32, thread: &str) -> pb::EmailEnvelope {
        pb::EmailEnvelope {
            id: uid.to_string(),
            subject: Some(format!("mail {uid}")),
            thread_id: thread.into(),
            labels: vec!["x".into()],
            ..Default::default()
        }
    }

    /// 1.6.0's encoding of an envelope, written field by field (as its server's prost does): the
    /// revision's fields, then field 26 as a varint.
    fn as_1_6(e: &pb::EmailEnvelope, thread: u64) -> Vec<u8> {
        let mut without = e.clone();
        without.thread_id.clear();
        let mut bytes = without.encode_to_vec();
        prost::encoding::uint64::encode(26, &thread, &mut bytes);
        bytes
    }

    #[test]
    fn revision_answers_pass_untouched_and_show_text_ids() {
        let page = pb::CursorDataPage {
            next_page_token: Some("cur-2".into()),
            total_items: 9,
            items: vec![envelope(1, "t-a"), envelope(2, "t-b")],
            ..Default::default()
        };
        let bytes = page.encode_to_vec();
        let (shaped, seen) = in_revision_shape(&bytes, 4).expect("protobuf");
        assert!(matches!(shaped, std::borrow::Cow::Borrowed(_)), "no copy on the revision");
        assert_eq!(seen, Some(ThreadIds::Text));
        assert_eq!(pb::CursorDataPage::decode(&*shaped).expect("decodes"), page);
    }

    #[test]
    fn numeric_thread_ids_of_1_6_become_text_and_everything_else_survives() {
        let (a, b) = (envelope(7, ""), envelope(300, ""));
        let mut bytes = vec![];
        prost::encoding::string::encode(1, &"cur-50".to_owned(), &mut bytes);
        prost::encoding::uint64::encode(3, &280, &mut bytes);
        for (e, thread) in [(&a, 18_446_744_073_709_551_615u64), (&b, 42)] {
            prost::encoding::bytes::encode(4, &as_1_6(e, thread), &mut bytes);
        }
        prost::encoding::uint64::encode(5, &6, &mut bytes);
        // The revision's decoder cannot read it as it comes...
        assert!(pb::CursorDataPage::decode(&*bytes).is_err());
        // ...and can once it is in the revision's shape.
        let (shaped, seen) = in_revision_shape(&bytes, 4).expect("protobuf");
        assert_eq!(seen, Some(ThreadIds::Number));
        let page = pb::CursorDataPage::decode(&*shaped).expect("decodes");
        assert_eq!(page.next_page_token.as_deref(), Some("cur-50"));
        assert_eq!((page.total_items, page.total_pages), (280, Some(6)));
        assert_eq!(page.items.len(), 2);
        assert_eq!(page.items[0].thread_id, "18446744073709551615");
        assert_eq!(page.items[1].thread_id, "42");
        assert_eq!(page.items[1].subject.as_deref(), Some("mail 300"));
        assert_eq!(page.items[1].labels, vec!["x".to_owned()]);
    }

    #[test]
    fn envelope_lists_use_their_own_field() {
        let mut bytes = vec![];
        prost::encoding::bytes::encode(1, &as_1_6(&envelope(5, ""), 9), &mut bytes);
        let (shaped, seen) = in_revision_shape(&bytes, 1).expect("protobuf");
        assert_eq!(seen, Some(ThreadIds::Number));
        assert_eq!(pb::EmailEnvelopeList::decode(&*shaped).expect("decodes").items[0].thread_id, "9");
    }

    #[test]
    fn several_numeric_ids_in_one_envelope_are_each_rewritten() {
        // Protobuf lets a field repeat; the last one wins, as prost reads it.
        let mut one = as_1_6(&envelope(1, ""), 5);
        prost::encoding::uint64::encode(26, &6, &mut one);
        let mut bytes = vec![];
        prost::encoding::bytes::encode(1, &one, &mut bytes);
        let (shaped, _) = in_revision_shape(&bytes, 1).expect("protobuf");
        assert_eq!(pb::EmailEnvelopeList::decode(&*shaped).expect("decodes").items[0].thread_id, "6");
    }

    #[test]
    fn a_number_past_64_bits_is_refused() {
        // Field 26 as a varint of ten bytes whose last carries more than the 64th bit.
        let mut envelope = vec![0xd0, 0x01];
        envelope.extend([0xff; 9]);
        envelope.push(0x02);
        let mut bytes = vec![0x0a, envelope.len() as u8];
        bytes.extend(envelope);
        assert!(in_revision_shape(&bytes, 1).is_err());
    }

    #[test]
    fn no_bytes_make_the_walker_panic() {
        // A cheap sweep over short inputs and mutations of a real answer: errors, never panics.
        let real = {
            let mut bytes = vec![];
            prost::encoding::bytes::encode(4, &as_1_6(&envelope(3, ""), 77), &mut bytes);
            bytes
        };
        for i in 0..real.len() {
            for b in [0x00, 0x01, 0x7f, 0x80, 0xff] {
                let mut mutated = real.clone();
                mutated[i] = b;
                let _ = in_revision_shape(&mutated, 4);
                let _ = in_revision_shape(&mutated[..i], 4);
            }
        }
        for a in 0..=255u8 {
            for b in [0x00, 0x02, 0x80, 0xff] {
                let _ = in_revision_shape(&[a, b, 0xff], 4);
            }
        }
    }

    #[test]
    fn an_answer_with_no_envelopes_shows_nothing() {
        let bytes = pb::CursorDataPage { total_items: 0, ..Default::default() }.encode_to_vec();
        assert_eq!(in_revision_shape(&bytes, 4).expect("protobuf").1, None);
    }

    #[test]
    fn bytes_that_are_not_protobuf_are_said_to_be_so() {
        // A length that runs past the end, and a wire type that does not exist.
        assert!(in_revision_shape(&[0x22, 0x05, 0x01], 4).is_err());
        assert!(in_revision_shape(&[0x0f], 4).is_err());
        assert!(in_revision_shape(&[0x22, 0x02, 0xd0, 0x01], 4).is_err(), "a broken envelope inside");
    }

    #[test]
    fn the_shape_is_described_by_what_was_seen() {
        let mut shape = WireShape::default();
        assert_eq!(shape.describe(), "not yet known");
        shape.learn_thread_ids(None);
        assert_eq!(shape.thread_ids, None);
        shape.learn_thread_ids(Some(ThreadIds::Number));
        assert_eq!(shape.describe(), "RustMailer 1.6.0's wire");
        shape.learn_thread_ids(Some(ThreadIds::Text));
        assert_eq!(shape.describe(), "RustMailer's 2026 wire");
    }
}
