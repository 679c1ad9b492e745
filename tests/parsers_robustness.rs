//! Property tests for everything that parses network input: mutated and truncated versions of
//! real server messages must give an error or a value, never a panic (native, deterministic).

#![cfg(not(target_arch = "wasm32"))]

use petrel::jmap::mail::mailbox::parse_get;
use petrel::jmap::push::sse::SseParser;
use petrel::jmap::push::websocket::parse_frame;
use petrel::jmap::push::StateChange;
use petrel::jmap::request::interpret_api_response;
use petrel::jmap::session::interpret_session_response;
use petrel::jmap::set::SetResponse;
use petrel::net::HttpResponse;

const SESSION: &str = r#"{"username":"demo@example.org","apiUrl":"/jmap/","downloadUrl":"/jmap/download/{accountId}/{blobId}/{name}?accept={type}","uploadUrl":"/jmap/upload/{accountId}/","eventSourceUrl":"/jmap/eventsource/?types={types}&closeafter={closeafter}&ping={ping}","state":"0","capabilities":{"urn:ietf:params:jmap:core":{"maxSizeUpload":1073741824,"maxConcurrentUpload":5,"maxSizeRequest":10485760,"maxConcurrentRequests":5,"maxCallsInRequest":50,"maxObjectsInGet":4096,"maxObjectsInSet":4096,"collationAlgorithms":[]},"urn:ietf:params:jmap:mail":{},"urn:ietf:params:jmap:websocket":{"url":"wss:/jmap/ws/","supportsPush":true}},"accounts":{"demo@example.org":{"name":"demo@example.org","isPersonal":true,"isReadOnly":false,"accountCapabilities":{"urn:ietf:params:jmap:mail":{}}}},"primaryAccounts":{"urn:ietf:params:jmap:mail":"demo@example.org"}}"#;
const API: &str = r#"{"methodResponses":[["Mailbox/get",{"state":"22","list":[{"id":"1o1","name":"Inbox","parentId":null,"role":"inbox","totalEmails":11,"unreadEmails":7,"sortOrder":1}],"notFound":[],"accountId":"demo@example.org"},"c0"],["Mailbox/set",{"created":{"k":{"id":"M1"}},"notDestroyed":{"X":{"type":"notFound"}}},"c1"]],"sessionState":"0"}"#;
const FRAMES: [&str; 3] = [
    r#"{"@type":"StateChange","changed":{"demo@example.org":{"Mailbox":"84","Email":"84"}}}"#,
    r#"{"@type":"Response","requestId":"r1","methodResponses":[["Core/echo",{"a":"é"},"c0"]],"sessionState":"0"}"#,
    r#"{"@type":"RequestError","requestId":"r2","type":"urn:ietf:params:jmap:error:notRequest","status":400}"#,
];
const SSE: &str = "id: 85\nevent: state\ndata: {\"@type\":\"StateChange\",\"changed\":{\"démo\":{\"Email\":\"1\"}}}\n\n: ping\n\nretry: 5\n";

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Mutations of `seed`: truncations, byte flips, deletions, duplications, insertions of JSON-ish bytes.
fn mutants(seed: &[u8], count: usize, rng: &mut Rng) -> Vec<Vec<u8>> {
    const NASTY: &[u8] = b"{}[]\":,\\\x00\xff\xc3\xe2 0-9enulltrue";
    (0..count)
        .map(|_| {
            let mut m = seed.to_vec();
            for _ in 0..1 + rng.below(4) {
                if m.is_empty() {
                    break;
                }
                let at = rng.below(m.len());
                match rng.below(5) {
                    0 => m.truncate(at),
                    1 => m[at] = NASTY[rng.below(NASTY.len())],
                    2 => {
                        m.remove(at);
                    }
                    3 => {
                        let end = (at + rng.below(16)).min(m.len());
                        let copy = m[at..end].to_vec();
                        m.splice(at..at, copy);
                    }
                    _ => m.insert(at, NASTY[rng.below(NASTY.len())]),
                }
            }
            m
        })
        .collect()
}

fn http(body: Vec<u8>) -> HttpResponse {
    HttpResponse {
        status: 200,
        url: "http://127.0.0.1:1/jmap".into(),
        content_type: Some("application/json".into()),
        retry_after_secs: None,
        body,
    }
}

#[test]
fn session_parsing_never_panics() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut ok = 0;
    for m in mutants(SESSION.as_bytes(), 5000, &mut rng) {
        if interpret_session_response(&http(m)).is_ok() {
            ok += 1;
        }
    }
    assert!(ok < 5000, "the mutations must break something");
}

#[test]
fn api_responses_and_their_contents_never_panic() {
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    for m in mutants(API.as_bytes(), 5000, &mut rng) {
        if let Ok(mut response) = interpret_api_response(&http(m)) {
            if let Ok(args) = response.take_by_id("c0", "Mailbox/get") {
                let _ = parse_get(args);
            }
            if let Ok(args) = response.take_by_id("c1", "Mailbox/set") {
                let _ = SetResponse::parse(args);
            }
        }
    }
}

#[test]
fn push_frames_never_panic() {
    let mut rng = Rng(0x94D0_49BB_1331_11EB);
    for frame in FRAMES {
        for m in mutants(frame.as_bytes(), 3000, &mut rng) {
            let text = String::from_utf8_lossy(&m);
            let _ = parse_frame(&text, 1 << 20);
            let _ = StateChange::parse(&text);
        }
    }
}

#[test]
fn event_streams_never_panic_whatever_the_chunking() {
    let mut rng = Rng(0xBF58_476D_1CE4_E5B9);
    for m in mutants(SSE.as_bytes(), 3000, &mut rng) {
        let mut parser = SseParser::new(256);
        let mut rest = &m[..];
        while !rest.is_empty() {
            let take = 1 + rng.below(rest.len().min(9));
            if parser.feed(&rest[..take]).is_err() {
                break;
            }
            rest = &rest[take..];
        }
    }
}
