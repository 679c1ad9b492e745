//! An incremental parser for `text/event-stream` (the HTML standard's server-sent events), fed with
//! whatever chunks the network delivers.
//!
//! Lines are split on bytes (CR, LF, CRLF), so a multi-byte UTF-8 character cut between two chunks
//! is joined before it is decoded. Each event is capped in size, so an endless line cannot grow memory.

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field, `message` when absent.
    pub event: String,
    pub data: String,
    /// The last event id in force when this event was dispatched.
    pub id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SseError {
    #[error("an event from the server exceeded {limit} bytes")]
    FrameTooLarge { limit: usize },
    #[error("the event stream is not valid UTF-8")]
    InvalidUtf8,
}

#[derive(Debug)]
pub struct SseParser {
    limit: usize,
    /// Bytes of the line not yet terminated.
    line: Vec<u8>,
    /// A CR ended the previous chunk: a LF opening the next one belongs to it.
    after_cr: bool,
    started: bool,
    event: String,
    data: String,
    /// Bytes held for the event being assembled (lines plus data), checked against `limit`.
    held: usize,
    last_event_id: String,
    retry_ms: Option<u32>,
}

impl SseParser {
    /// A parser refusing events (and lines) larger than `limit` bytes.
    pub fn new(limit: usize) -> Self {
        SseParser {
            limit,
            line: Vec::new(),
            after_cr: false,
            started: false,
            event: String::new(),
            data: String::new(),
            held: 0,
            last_event_id: String::new(),
            retry_ms: None,
        }
    }

    /// The id to send as `Last-Event-ID` when reconnecting.
    pub fn last_event_id(&self) -> &str {
        &self.last_event_id
    }

    /// The reconnection delay the server asked for with `retry:`.
    pub fn retry_ms(&self) -> Option<u32> {
        self.retry_ms
    }

    /// Feeds the next chunk; returns the events it completed. After an error the stream must be dropped.
    pub fn feed(&mut self, mut chunk: &[u8]) -> Result<Vec<SseEvent>, SseError> {
        let mut events = Vec::new();
        if !self.started && !chunk.is_empty() {
            // A leading byte-order mark is not part of the first field name.
            let bom = [0xEF, 0xBB, 0xBF];
            let have = self.line.len() + chunk.len();
            let mut probe = self.line.clone();
            probe.extend_from_slice(&chunk[..chunk.len().min(3)]);
            if have < 3 && bom.starts_with(&probe) {
                self.line.extend_from_slice(chunk);
                return Ok(events);
            }
            self.started = true;
            if probe.starts_with(&bom) {
                let from_chunk = 3 - self.line.len();
                self.line.clear();
                chunk = &chunk[from_chunk..];
            }
        }
        if self.after_cr && chunk.first() == Some(&b'\n') {
            chunk = &chunk[1..];
        }
        self.after_cr = false;
        while let Some(end) = chunk.iter().position(|&b| b == b'\n' || b == b'\r') {
            self.take_line(&chunk[..end], &mut events)?;
            if chunk[end] == b'\r' {
                match chunk.get(end + 1) {
                    Some(b'\n') => chunk = &chunk[end + 2..],
                    Some(_) => chunk = &chunk[end + 1..],
                    None => {
                        self.after_cr = true;
                        chunk = &[];
                    }
                }
            } else {
                chunk = &chunk[end + 1..];
            }
        }
        self.line.extend_from_slice(chunk);
        if self.held + self.line.len() > self.limit {
            return Err(SseError::FrameTooLarge { limit: self.limit });
        }
        Ok(events)
    }

    fn take_line(&mut self, tail: &[u8], events: &mut Vec<SseEvent>) -> Result<(), SseError> {
        let mut bytes = std::mem::take(&mut self.line);
        bytes.extend_from_slice(tail);
        if self.held + bytes.len() > self.limit {
            return Err(SseError::FrameTooLarge { limit: self.limit });
        }
        let line = std::str::from_utf8(&bytes).map_err(|_| SseError::InvalidUtf8)?;
        if line.is_empty() {
            self.dispatch(events);
            return Ok(());
        }
        self.held += bytes.len();
        if line.starts_with(':') {
            return Ok(()); // a comment: servers use them as keep-alive pings
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        match field {
            "event" => self.event = value.to_owned(),
            "data" => {
                self.data.push_str(value);
                self.data.push('\n');
            }
            "id" if !value.contains('\0') => self.last_event_id = value.to_owned(),
            "retry" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                self.retry_ms = value.parse().ok();
            }
            _ => {}
        }
        Ok(())
    }

    fn dispatch(&mut self, events: &mut Vec<SseEvent>) {
        self.held = 0;
        let event = std::mem::take(&mut self.event);
        if self.data.is_empty() {
            return;
        }
        let mut data = std::mem::take(&mut self.data);
        data.pop();
        events.push(SseEvent {
            event: if event.is_empty() { "message".to_owned() } else { event },
            data,
            id: self.last_event_id.clone(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(chunks: &[&[u8]]) -> Result<Vec<SseEvent>, SseError> {
        let mut parser = SseParser::new(1 << 16);
        let mut out = Vec::new();
        for c in chunks {
            out.extend(parser.feed(c)?);
        }
        Ok(out)
    }

    fn ev(event: &str, data: &str, id: &str) -> SseEvent {
        SseEvent { event: event.into(), data: data.into(), id: id.into() }
    }

    #[test]
    fn cyrus_state_events() {
        let stream =
            b"event: state\ndata: {\"@type\":\"StateChange\",\"changed\":{}}\n\n: ping\n\nevent: ping\ndata: {}\n\n";
        assert_eq!(
            parse_all(&[stream]).unwrap(),
            [ev("state", "{\"@type\":\"StateChange\",\"changed\":{}}", ""), ev("ping", "{}", "")]
        );
    }

    #[test]
    fn fields_per_the_standard() {
        let stream = "\u{FEFF}data:a\r\ndata\r\ndata:  b\rid: 7\r\nretry: 2500\nretry: x\nunknown: z\n\nid\nevent\ndata: c\n\ndata: dropped-without-blank-line";
        let mut parser = SseParser::new(1 << 16);
        let events = parser.feed(stream.as_bytes()).unwrap();
        assert_eq!(events, [ev("message", "a\n\n b", "7"), ev("message", "c", "")]);
        assert_eq!(parser.retry_ms(), Some(2500));
        assert_eq!(parser.last_event_id(), "");
    }

    #[test]
    fn multibyte_characters_split_between_chunks() {
        let text = "data: Grüße ☕ 𝄞\n\n".as_bytes();
        for cut in 0..text.len() {
            let events = parse_all(&[&text[..cut], &text[cut..]]).unwrap();
            assert_eq!(events, [ev("message", "Grüße ☕ 𝄞", "")], "cut at {cut}");
        }
    }

    #[test]
    fn crlf_split_between_chunks_is_one_line_break() {
        assert_eq!(parse_all(&[b"data: a\r", b"\n\r", b"\n"]).unwrap(), [ev("message", "a", "")]);
        assert_eq!(parse_all(&[b"data: a\r", b"\r"]).unwrap(), [ev("message", "a", "")]);
    }

    #[test]
    fn invalid_utf8_is_an_error() {
        assert_eq!(parse_all(&[b"data: \xC3", b"\x28\n\n"]), Err(SseError::InvalidUtf8));
    }

    #[test]
    fn endless_lines_and_huge_events_are_refused() {
        let mut parser = SseParser::new(64);
        let mut result = Ok(vec![]);
        for _ in 0..100 {
            result = parser.feed(b"data: aaaaaaaaaaaaaaaa");
            if result.is_err() {
                break;
            }
        }
        assert_eq!(result, Err(SseError::FrameTooLarge { limit: 64 }));
        // Many short data lines in one event count too.
        let mut parser = SseParser::new(64);
        assert_eq!(parser.feed(&b"data: 0123456789\n".repeat(10)), Err(SseError::FrameTooLarge { limit: 64 }));
        // The cap is per event: many small events are fine.
        let mut parser = SseParser::new(64);
        assert_eq!(parser.feed(&b"data: 0123456789\n\n".repeat(100)).unwrap().len(), 100);
    }

    /// Property: however a stream is cut into chunks, the events are the same.
    #[test]
    fn chunking_never_changes_the_events() {
        let stream = "\u{FEFF}event: state\r\ndata: {\"a\":\"é\"}\r\nid: 1\r\n\r\n: ping\n\ndata: x\rdata: y\r\rretry: 10\ndata: 𝄞\n\n".as_bytes();
        let whole = parse_all(&[stream]).unwrap();
        assert_eq!(whole.len(), 3);
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        for _ in 0..2000 {
            let mut cuts = Vec::new();
            let mut at = 0;
            while at < stream.len() {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let step = 1 + (seed % 7) as usize;
                cuts.push(&stream[at..(at + step).min(stream.len())]);
                at += step;
            }
            assert_eq!(parse_all(&cuts).unwrap(), whole, "cuts {cuts:?}");
        }
    }
}
