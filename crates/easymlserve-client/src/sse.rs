//! A Server-Sent Events parser: bytes in, as they come off the socket in chunks of any size, whole events
//! out. It follows the WHATWG `text/event-stream` rules the server's streams and job events are written
//! to (LF, CRLF or CR line ends, comments, multi-line `data`, `event`, `id`, `retry`).

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` name; `message` when the event had none.
    pub event: String,
    /// The `data:` lines joined with `\n`.
    pub data: String,
    /// The last `id:` seen on the stream up to this event (ids carry over to later events), if any.
    pub id: Option<String>,
}

/// Turns a byte stream into [`SseEvent`]s; feed it chunks in order with [`SseParser::feed`].
#[derive(Debug, Default)]
pub struct SseParser {
    /// Bytes of the line being read (decoded once the line is complete, so a UTF-8 character split
    /// between chunks is read whole).
    line: Vec<u8>,
    /// The last chunk ended in CR: a LF at the start of the next one ends no second line.
    after_cr: bool,
    /// Whether the stream's first line has been read (a byte order mark is dropped from it).
    started: bool,
    event: String,
    data: String,
    has_data: bool,
    last_id: Option<String>,
    retry_ms: Option<u64>,
}

impl SseParser {
    /// A parser at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads `chunk` and returns the events it completed, in order.
    pub fn feed(&mut self, chunk: &[u8]) -> Vec<SseEvent> {
        let mut events = Vec::new();
        let mut rest = chunk;
        if self.after_cr {
            self.after_cr = false;
            if let Some(tail) = rest.strip_prefix(b"\n") {
                rest = tail;
            }
        }
        while let Some(end) = rest.iter().position(|b| *b == b'\n' || *b == b'\r') {
            self.line.extend_from_slice(&rest[..end]);
            let ending = rest[end];
            rest = &rest[end + 1..];
            if ending == b'\r' {
                match rest.first() {
                    Some(b'\n') => rest = &rest[1..],
                    Some(_) => {}
                    None => self.after_cr = true,
                }
            }
            let line = std::mem::take(&mut self.line);
            if let Some(event) = self.line_done(&line) {
                events.push(event);
            }
        }
        self.line.extend_from_slice(rest);
        events
    }

    /// Forgets a half-read line and event (the connection broke off; the spec drops an event that has
    /// not ended with a blank line), keeping the last id and retry time for a reconnection.
    pub fn reset(&mut self) {
        self.line.clear();
        self.after_cr = false;
        self.started = false;
        self.event.clear();
        self.data.clear();
        self.has_data = false;
    }

    /// The last `id:` seen, for a reconnection's `Last-Event-ID`.
    pub fn last_id(&self) -> Option<&str> {
        self.last_id.as_deref()
    }

    /// The reconnection time the server asked for with `retry:`, in milliseconds.
    pub fn retry_ms(&self) -> Option<u64> {
        self.retry_ms
    }

    fn line_done(&mut self, line: &[u8]) -> Option<SseEvent> {
        let text = String::from_utf8_lossy(line);
        let mut text: &str = &text;
        if !self.started {
            self.started = true;
            text = text.strip_prefix('\u{feff}').unwrap_or(text);
        }
        if text.is_empty() {
            return self.dispatch();
        }
        if text.starts_with(':') {
            return None;
        }
        let (field, value) = match text.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (text, ""),
        };
        match field {
            "event" => value.clone_into(&mut self.event),
            "data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            "id" if !value.contains('\0') => self.last_id = Some(value.to_owned()),
            "retry" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                self.retry_ms = value.parse().ok();
            }
            _ => {}
        }
        None
    }

    fn dispatch(&mut self) -> Option<SseEvent> {
        let event = std::mem::take(&mut self.event);
        if !std::mem::take(&mut self.has_data) {
            return None;
        }
        Some(SseEvent {
            event: if event.is_empty() { "message".to_owned() } else { event },
            data: std::mem::take(&mut self.data),
            id: self.last_id.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

    use proptest::prelude::*;

    use super::*;

    fn parse(text: &str) -> Vec<SseEvent> {
        SseParser::new().feed(text.as_bytes())
    }

    fn event(name: &str, data: &str, id: Option<&str>) -> SseEvent {
        SseEvent {
            event: name.to_owned(),
            data: data.to_owned(),
            id: id.map(str::to_owned),
        }
    }

    #[test]
    fn an_event_has_its_name_data_and_id() {
        let events = parse("id: 3\nevent: progress\ndata: {\"fraction\": 0.5}\n\n");
        assert_eq!(events, [event("progress", "{\"fraction\": 0.5}", Some("3"))]);
    }

    #[test]
    fn data_lines_join_with_newlines_and_only_one_space_is_dropped() {
        let events = parse("data: first\ndata:second\ndata:  third\ndata\n\n");
        assert_eq!(events, [event("message", "first\nsecond\n third\n", None)]);
    }

    #[test]
    fn comments_and_unknown_fields_are_skipped_and_empty_events_are_not_dispatched() {
        let events = parse(": keep-alive\n\n: another\nfoo: bar\n\nevent: started\n\nevent: result\ndata: 1\n\n");
        // `started` without data is no event (the spec's rule; the server always sends `data: {}`), and the
        // name does not leak into the next event.
        assert_eq!(events, [event("result", "1", None)]);
    }

    #[test]
    fn ids_carry_over_and_an_empty_id_clears_it() {
        let events = parse("id: 7\ndata: a\n\ndata: b\n\nid\ndata: c\n\n");
        assert_eq!(
            events,
            [
                event("message", "a", Some("7")),
                event("message", "b", Some("7")),
                event("message", "c", Some(""))
            ]
        );
        let mut parser = SseParser::new();
        parser.feed(b"id: 1\0\ndata: x\n\n");
        assert_eq!(parser.last_id(), None, "an id with NUL is ignored");
    }

    #[test]
    fn crlf_cr_and_lf_all_end_lines() {
        let want = [event("a", "1\n2", Some("9")), event("b", "3", Some("9"))];
        assert_eq!(
            parse("event: a\r\ndata: 1\r\ndata: 2\r\nid: 9\r\n\r\nevent: b\rdata: 3\r\r"),
            want
        );
        assert_eq!(
            parse("event: a\ndata: 1\rdata: 2\r\nid: 9\n\nevent: b\r\ndata: 3\n\r\n"),
            want
        );
    }

    #[test]
    fn a_crlf_split_between_chunks_ends_one_line() {
        let mut parser = SseParser::new();
        assert!(parser.feed(b"data: x\r").is_empty());
        assert!(
            parser.feed(b"\n").is_empty(),
            "the LF belongs to the CR before it: no blank line yet"
        );
        assert_eq!(parser.feed(b"\r\n"), [event("message", "x", None)]);
    }

    #[test]
    fn retry_is_read_when_it_is_a_number() {
        let mut parser = SseParser::new();
        parser.feed(b"retry: 2500\n\nretry: soon\n\n");
        assert_eq!(parser.retry_ms(), Some(2500));
    }

    #[test]
    fn a_byte_order_mark_and_a_half_read_event_are_dropped() {
        let mut parser = SseParser::new();
        let events = parser.feed("\u{feff}data: é\n\nid: 4\ndata: half".as_bytes());
        assert_eq!(events, [event("message", "é", None)]);
        parser.reset();
        assert_eq!(parser.feed(b"\ndata: next\n\n"), [event("message", "next", Some("4"))]);
    }

    /// A stream in the server's shape: events with ids, names, several data lines, comments, CRLF or
    /// LF line ends.
    fn stream_and_events() -> impl Strategy<Value = (Vec<u8>, Vec<SseEvent>)> {
        let one = (
            1u64..1000,
            prop::sample::select(vec!["queued", "started", "progress", "result", "error"]),
            prop::collection::vec("[a-zé{}\":, 0-9]{0,12}", 1..4),
            any::<bool>(),
            any::<bool>(),
        );
        prop::collection::vec(one, 0..6).prop_map(|events| {
            let mut bytes = Vec::new();
            let mut want = Vec::new();
            for (id, name, lines, crlf, comment) in events {
                let end = if crlf { "\r\n" } else { "\n" };
                if comment {
                    bytes.extend_from_slice(format!(": keep-alive{end}").as_bytes());
                }
                bytes.extend_from_slice(format!("id: {id}{end}event: {name}{end}").as_bytes());
                for line in &lines {
                    bytes.extend_from_slice(format!("data: {line}{end}").as_bytes());
                }
                bytes.extend_from_slice(end.as_bytes());
                want.push(event(name, &lines.join("\n"), Some(&id.to_string())));
            }
            (bytes, want)
        })
    }

    proptest! {
        #[test]
        fn chunk_boundaries_anywhere_give_the_same_events(
            (bytes, want) in stream_and_events(),
            cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..8),
        ) {
            let mut cuts: Vec<usize> = cuts.iter().map(|c| c.index(bytes.len() + 1)).collect();
            cuts.sort_unstable();
            let mut parser = SseParser::new();
            let mut got = Vec::new();
            let mut from = 0;
            for cut in cuts.into_iter().chain([bytes.len()]) {
                got.extend(parser.feed(&bytes[from..cut]));
                from = cut;
            }
            prop_assert_eq!(got, want);
        }
    }
}
