//! RustMailer 1.6.0's wire, where it differs from the revision `protos/rustmailer.proto` follows
//! (the spec's "Version differences" table):
//!
//! - every envelope carries `thread_id` (field 26) as a uint64;
//! - `ListThreads` takes a 1-based page number in field 3 and answers `PagedMessages`; a request
//!   without a page (or with the revision's cursor string there) is refused with INVALID_ARGUMENT;
//! - `GetThreadMessages` names the thread by number;
//! - `FetchMessageAttachment` has no field 7 (`attachment_id`);
//! - there is no `TagMessages`.
//!
//! Served the revision's way still, because Petrel does not call them: `AppendReplyToDraft`
//! (1.6.0 has no `reply_all`) and `SendTestEmail` (another request type). `SaveDraft` and
//! `SendDraft` are in neither this stand-in nor protos/rustmailer.proto.
//!
//! The answers are built by the revision's handlers and then written the way 1.6.0's server writes
//! them: the envelope's other fields as they are, field 26 appended as a varint (protobuf fields may
//! come in any order). Nothing here reads Petrel's code: the stand-in's encoding is its own.

use bytes::Bytes;
use http::Request as HttpRequest;
use hyper::body::Incoming;
use prost::Message;
use tonic::body::Body;
use tonic::{Request, Status};

use crate::pb;
use crate::pb::message_service_server::MessageService;
use crate::raw::{decode, serve};
use crate::services::{page_bounds, search_account, thread_heads, Services};

/// 1.6.0's thread id for the stand-in's thread key: a stable 64-bit hash (FNV-1a).
pub fn thread_number(thread_key: &str) -> u64 {
    thread_key.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// An envelope as 1.6.0 encodes it.
fn envelope_bytes(e: &pb::EmailEnvelope) -> Vec<u8> {
    let number = thread_number(&e.thread_id);
    let mut without = e.clone();
    without.thread_id.clear();
    let mut bytes = without.encode_to_vec();
    prost::encoding::uint64::encode(26, &number, &mut bytes);
    bytes
}

/// A message whose repeated envelope field `field` is written 1.6.0's way.
fn with_envelopes<M: Message>(rest: &M, field: u32, items: &[pb::EmailEnvelope]) -> Bytes {
    let mut bytes = rest.encode_to_vec();
    for e in items {
        prost::encoding::bytes::encode(field, &envelope_bytes(e), &mut bytes);
    }
    Bytes::from(bytes)
}

fn cursor_page(mut page: pb::CursorDataPage) -> Bytes {
    let items = std::mem::take(&mut page.items);
    with_envelopes(&page, 4, &items)
}

fn paged(mut page: pb::PagedMessages) -> Bytes {
    let items = std::mem::take(&mut page.items);
    with_envelopes(&page, 4, &items)
}

/// The MessageService calls whose wire differs in 1.6.0.
const DIFFERENT: [&str; 7] = [
    "ListMessages",
    "MessageSearch",
    "UnifiedSearch",
    "ListThreads",
    "GetThreadMessages",
    "FetchMessageAttachment",
    "TagMessages",
];

pub fn wants(method: &str) -> bool {
    DIFFERENT.contains(&method)
}

/// Answers one of the calls [`wants`] names, 1.6.0's way.
pub async fn route(services: Services, method: &str, request: HttpRequest<Incoming>) -> http::Response<Body> {
    let s = services;
    match method {
        "ListMessages" => {
            serve(request, move |b| {
                let s = s.clone();
                Box::pin(async move { Ok(cursor_page(s.list_messages(Request::new(decode(&b)?)).await?.into_inner())) })
            })
            .await
        }
        "MessageSearch" => {
            serve(request, move |b| {
                let s = s.clone();
                Box::pin(
                    async move { Ok(cursor_page(s.message_search(Request::new(decode(&b)?)).await?.into_inner())) },
                )
            })
            .await
        }
        "UnifiedSearch" => {
            serve(request, move |b| {
                let s = s.clone();
                Box::pin(async move { Ok(paged(s.unified_search(Request::new(decode(&b)?)).await?.into_inner())) })
            })
            .await
        }
        "ListThreads" => {
            serve(request, move |b| {
                let s = s.clone();
                Box::pin(async move { list_threads(&s, &b).map(paged) })
            })
            .await
        }
        "GetThreadMessages" => {
            serve(request, move |b| {
                let s = s.clone();
                Box::pin(async move {
                    let r: pb::GetThreadMessagesRequestV160 = decode(&b)?;
                    let world = s.0.lock();
                    let items = search_account(
                        world.account(r.account_id)?,
                        None,
                        |m| thread_number(&m.thread_id) == r.thread_id,
                        false,
                    );
                    if items.is_empty() {
                        return Err(crate::world::not_found(format!("thread {}", r.thread_id)));
                    }
                    Ok(with_envelopes(&pb::EmailEnvelopeList::default(), 1, &items))
                })
            })
            .await
        }
        "FetchMessageAttachment" => {
            serve(request, move |b| {
                let s = s.clone();
                Box::pin(async move {
                    let mut r: pb::FetchMessageAttachmentRequest = decode(&b)?;
                    r.attachment_id = None; // 1.6.0 has no field 7: it is skipped as unknown.
                    Ok(Bytes::from(s.fetch_message_attachment(Request::new(r)).await?.into_inner().encode_to_vec()))
                })
            })
            .await
        }
        _ => serve(request, |_| Box::pin(async { Err(Status::unimplemented("Method not found")) })).await,
    }
}

fn list_threads(s: &Services, bytes: &Bytes) -> Result<pb::PagedMessages, Status> {
    let refused = || Status::invalid_argument("Both page and page_size must be greater than 0.");
    // The revision's cursor (a string in field 3) does not read as a page number: page 0.
    let r: pb::ListThreadsRequestV160 = match pb::ListThreadsRequestV160::decode(bytes.clone()) {
        Ok(r) => r,
        Err(_) => return Err(refused()),
    };
    if r.page == 0 || r.page_size == 0 {
        return Err(refused());
    }
    let world = s.0.lock();
    let all = thread_heads(world.account(r.account_id)?, &r.mailbox_name, r.desc)?;
    let (start, end, pages) = page_bounds(Some(r.page), Some(r.page_size), all.len());
    Ok(pb::PagedMessages {
        current_page: Some(r.page),
        page_size: Some(r.page_size),
        total_items: all.len() as u64,
        items: all[start..end].to_vec(),
        total_pages: Some(pages),
    })
}
