//! Calls to RustMailer through the gateway's gRPC-web endpoint (tonic stubs over
//! tonic-web-wasm-client). Every call carries the access token, asks RustMailer for a deadline
//! (`X-RustMailer-Timeout-Seconds`) and gives up in the browser a little after it. RustMailer
//! gzips every message; petrel-gateway inflates them and compresses the HTTP answer instead, which
//! the browser decodes: the app carries no gzip code.

use std::cell::Cell;
use std::marker::PhantomData;
use std::rc::Rc;
use std::time::Duration;

use prost::bytes::Buf;
use tonic::codec::{BufferSettings, Codec, DecodeBuf, Decoder};
use tonic::codegen::http::uri::PathAndQuery;
use tonic::metadata::MetadataValue;
use tonic_prost::ProstEncoder;
use tonic_web_wasm_client::options::FetchOptions;
use tonic_web_wasm_client::Client as Channel;

use super::error::RustMailerError;
use super::proto as pb;
use super::wire::{self, ThreadIds, ThreadPaging, WireShape};

/// RustMailer's own default; a call may ask for more (up to 600 s).
pub const DEFAULT_DEADLINE_SECS: u64 = 30;

#[derive(Clone)]
pub struct RustMailer {
    /// The gateway's origin (or the page's own, `""` for same-origin).
    base_url: String,
    token: Option<String>,
    deadline_secs: u64,
    /// What this server's answers have shown of its wire, shared by every clone: learned once.
    shape: Rc<Cell<WireShape>>,
}

/// An answer Petrel reads: a prost message, and where it carries envelopes (whose thread ids
/// differ between RustMailer's wires).
pub trait Answer: prost::Message + Default + Send + 'static {
    /// Said by every answer (no default), so a new one that carries envelopes cannot forget it.
    const ENVELOPES_FIELD: Option<u64>;
}

macro_rules! answers {
    ($($message:ty),* $(,)?) => { $(impl Answer for $message { const ENVELOPES_FIELD: Option<u64> = None; })* };
}
answers!(
    pb::Empty,
    pb::ListMinimalAccountsResponse,
    pb::PagedAccount,
    pb::Account,
    pb::AccountRunningState,
    pb::MailServerConfig,
    pb::ListMailboxesResponse,
    pb::MessageContentResponse,
    pb::ByteResponse,
    pb::PagedEmailTask,
    pb::EmailTask,
    pb::ServerStatus,
    pb::PagedEmailTemplate,
);
impl Answer for pb::CursorDataPage {
    const ENVELOPES_FIELD: Option<u64> = Some(4);
}
impl Answer for pb::PagedMessages {
    const ENVELOPES_FIELD: Option<u64> = Some(4);
}
impl Answer for pb::EmailEnvelopeList {
    const ENVELOPES_FIELD: Option<u64> = Some(1);
}

/// The source a decode failure carries out of the codec, so that it is not taken for the server's
/// own INTERNAL status (a header could be sent by anyone; a source cannot come off the network).
#[derive(Debug)]
struct NotReadable;

impl std::fmt::Display for NotReadable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the answer could not be decoded")
    }
}

impl std::error::Error for NotReadable {}

fn is_unreadable(status: &tonic::Status) -> bool {
    std::error::Error::source(status).is_some_and(|s| s.is::<NotReadable>())
}

/// A decoded answer and what its envelopes showed of the server's wire.
struct Shaped<T> {
    message: T,
    thread_ids: Option<ThreadIds>,
}

struct AnswerCodec<Req, Resp>(PhantomData<fn() -> (Req, Resp)>);

struct AnswerDecoder<Resp>(PhantomData<fn() -> Resp>);

impl<Req: prost::Message + Send + 'static, Resp: Answer> Codec for AnswerCodec<Req, Resp> {
    type Encode = Req;
    type Decode = Shaped<Resp>;
    type Encoder = ProstEncoder<Req>;
    type Decoder = AnswerDecoder<Resp>;

    fn encoder(&mut self) -> Self::Encoder {
        ProstEncoder::new(BufferSettings::default())
    }

    fn decoder(&mut self) -> Self::Decoder {
        AnswerDecoder(PhantomData)
    }
}

fn undecodable(detail: String) -> tonic::Status {
    let mut status = tonic::Status::internal(detail);
    status.set_source(std::sync::Arc::new(NotReadable));
    status
}

impl<Resp: Answer> Decoder for AnswerDecoder<Resp> {
    type Item = Shaped<Resp>;
    type Error = tonic::Status;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<Shaped<Resp>>, tonic::Status> {
        let bytes = buf.copy_to_bytes(buf.remaining());
        let (bytes, thread_ids) = match Resp::ENVELOPES_FIELD {
            Some(field) => wire::in_revision_shape(&bytes, field).map_err(|e| undecodable(e.0))?,
            None => (std::borrow::Cow::Borrowed(&bytes[..]), None),
        };
        let message = Resp::decode(&*bytes).map_err(|e| undecodable(e.to_string()))?;
        Ok(Some(Shaped { message, thread_ids }))
    }
}

macro_rules! unary {
    ($name:ident, $path:literal, $request:ty => $response:ty) => {
        pub async fn $name(&self, message: $request) -> Result<$response, RustMailerError> {
            self.call($path, message).await
        }
    };
}

impl RustMailer {
    /// `base_url` is where the gateway serves `/rustmailer.grpc.*` (no trailing slash).
    pub fn new(base_url: &str, token: Option<String>) -> RustMailer {
        // "" is same-origin: fetch resolves the relative call paths against the page or worker.
        let base_url = base_url.trim_end_matches('/').to_owned();
        RustMailer {
            base_url,
            token: token.filter(|t| !t.is_empty()),
            deadline_secs: DEFAULT_DEADLINE_SECS,
            shape: Rc::default(),
        }
    }

    /// The same client asking RustMailer for another deadline per call.
    pub fn with_deadline(mut self, secs: u64) -> RustMailer {
        self.deadline_secs = secs.clamp(1, 600);
        self
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    fn channel(&self) -> Channel {
        // The browser gives up a little after RustMailer would have answered 408 itself.
        let options = FetchOptions::new().timeout(Duration::from_secs(self.deadline_secs + 5));
        Channel::new_with_options(self.base_url.clone(), options)
    }

    fn request<T>(&self, message: T) -> Result<tonic::Request<T>, RustMailerError> {
        let mut request = tonic::Request::new(message);
        let metadata = request.metadata_mut();
        if let Some(token) = &self.token {
            let value = MetadataValue::try_from(format!("Bearer {token}"))
                .map_err(|_| RustMailerError::BadToken("the token has characters a header cannot carry".into()))?;
            metadata.insert("authorization", value);
        }
        metadata.insert("x-rustmailer-timeout-seconds", MetadataValue::from(self.deadline_secs));
        Ok(request)
    }

    /// What this server's answers have shown of its wire so far.
    pub fn wire_shape(&self) -> WireShape {
        self.shape.get()
    }

    /// One call: `path` is `/rustmailer.grpc.<Service>/<Method>`. What the answer shows of the
    /// server's wire is kept; an answer that cannot be read is [`RustMailerError::Undecodable`].
    async fn call<Req, Resp>(&self, path: &'static str, message: Req) -> Result<Resp, RustMailerError>
    where
        Req: prost::Message + Send + Sync + 'static,
        Resp: Answer + Sync,
    {
        let mut grpc = tonic::client::Grpc::new(self.channel());
        let request = self.request(message)?;
        let answer = grpc.unary(request, PathAndQuery::from_static(path), AnswerCodec::<Req, Resp>(PhantomData)).await;
        match answer {
            Ok(response) => {
                let Shaped { message, thread_ids } = response.into_inner();
                self.learn(|shape| shape.learn_thread_ids(thread_ids));
                Ok(message)
            }
            Err(status) if is_unreadable(&status) => {
                let rpc = path.rsplit('/').next().unwrap_or(path).to_owned();
                Err(RustMailerError::Undecodable { rpc, detail: status.message().to_owned() })
            }
            Err(status) => Err(RustMailerError::from(status)),
        }
    }

    /// Changes what is known of the server's wire (for this client and its clones).
    fn learn(&self, change: impl FnOnce(&mut WireShape)) {
        let mut shape = self.shape.get();
        change(&mut shape);
        self.shape.set(shape);
    }

    /// A page of a folder's conversations, paged the way this server pages them: by the
    /// revision's cursor, or by 1.6.0's page number (`page_number`, 1-based). Until the server has
    /// shown which, the cursor is tried, and 1.6.0's refusal of it (INVALID_ARGUMENT: it reads the
    /// missing page as 0) means page numbers. A 1.6.0 answer comes back as a cursor page whose
    /// token is the next page's number.
    pub async fn list_threads(
        &self,
        request: pb::ListThreadsRequest,
        page_number: u64,
    ) -> Result<pb::CursorDataPage, RustMailerError> {
        const PATH: &str = "/rustmailer.grpc.MessageService/ListThreads";
        let by_number = |request: &pb::ListThreadsRequest| pb::ListThreadsRequestV160 {
            account_id: request.account_id,
            mailbox_name: request.mailbox_name.clone(),
            page: page_number.max(1),
            page_size: request.page_size,
            desc: request.desc,
        };
        let as_cursor_page = |paged: pb::PagedMessages| {
            let page = paged.current_page.unwrap_or(page_number).max(1);
            let more = match paged.total_pages {
                Some(pages) => page < pages,
                None => page.saturating_mul(request.page_size) < paged.total_items,
            };
            pb::CursorDataPage {
                next_page_token: more.then(|| (page_number.max(1) + 1).to_string()),
                page_size: paged.page_size,
                total_items: paged.total_items,
                items: paged.items,
                total_pages: paged.total_pages,
            }
        };
        match self.shape.get().thread_paging {
            Some(ThreadPaging::Page) => Ok(as_cursor_page(self.call(PATH, by_number(&request)).await?)),
            Some(ThreadPaging::Cursor) => self.call(PATH, request).await,
            None => match self.call::<_, pb::CursorDataPage>(PATH, request.clone()).await {
                Ok(page) => {
                    self.learn(|shape| shape.thread_paging = Some(ThreadPaging::Cursor));
                    Ok(page)
                }
                // 1.6.0 reads the first page's missing number as 0 and says so.
                Err(refused @ RustMailerError::Invalid(_)) if refused.to_string().contains("page") => {
                    match self.call::<_, pb::PagedMessages>(PATH, by_number(&request)).await {
                        Ok(paged) => {
                            self.learn(|shape| shape.thread_paging = Some(ThreadPaging::Page));
                            Ok(as_cursor_page(paged))
                        }
                        // Not 1.6.0's refusal after all: the first answer is the one to report.
                        Err(_) => Err(refused),
                    }
                }
                Err(e) => Err(e),
            },
        }
    }

    /// The messages of a conversation; 1.6.0 names it by number (the decimal text Petrel keeps).
    /// Before any answer has shown the server's thread ids (a conversation opened from the
    /// offline copy first), a numeric id is tried both ways: the revision's server cannot read
    /// the number, 1.6.0's cannot read the text, and the answer that reads teaches which it is.
    pub async fn get_thread_messages(
        &self,
        account_id: u64,
        thread_id: &str,
    ) -> Result<pb::EmailEnvelopeList, RustMailerError> {
        const PATH: &str = "/rustmailer.grpc.MessageService/GetThreadMessages";
        let by_text = || pb::GetThreadMessagesRequest { account_id, thread_id: thread_id.to_owned(), remote: None };
        let number = thread_id.parse::<u64>().ok();
        match (self.shape.get().thread_ids, number) {
            (Some(ThreadIds::Number), Some(number)) => {
                self.call(PATH, pb::GetThreadMessagesRequestV160 { account_id, thread_id: number }).await
            }
            (Some(ThreadIds::Number), None) => Err(RustMailerError::ForeignId(thread_id.to_owned())),
            (Some(ThreadIds::Text), _) | (None, None) => self.call(PATH, by_text()).await,
            (None, Some(number)) => match self.call(PATH, by_text()).await {
                Err(e @ (RustMailerError::Server(_) | RustMailerError::Invalid(_))) => self
                    .call(PATH, pb::GetThreadMessagesRequestV160 { account_id, thread_id: number })
                    .await
                    .map_err(|_| e),
                answer => answer,
            },
        }
    }

    unary!(list_minimal_accounts, "/rustmailer.grpc.AccountService/ListMinimalAccounts", pb::Empty => pb::ListMinimalAccountsResponse);
    unary!(list_accounts, "/rustmailer.grpc.AccountService/ListAccounts", pb::PaginateRequest => pb::PagedAccount);
    unary!(get_account, "/rustmailer.grpc.AccountService/GetAccount", pb::AccountId => pb::Account);
    unary!(get_account_state, "/rustmailer.grpc.AccountService/GetAccountState", pb::AccountId => pb::AccountRunningState);
    unary!(get_autoconfig, "/rustmailer.grpc.AutoConfigService/GetAutoconfig", pb::AutoconfigRequest => pb::MailServerConfig);
    unary!(list_mailboxes, "/rustmailer.grpc.MailboxService/ListMailboxes", pb::ListMailboxesRequest => pb::ListMailboxesResponse);
    unary!(create_mailbox, "/rustmailer.grpc.MailboxService/CreateMailbox", pb::CreateMailboxRequest => pb::Empty);
    unary!(remove_mailbox, "/rustmailer.grpc.MailboxService/RemoveMailbox", pb::DeleteMailboxRequest => pb::Empty);
    unary!(update_mailbox, "/rustmailer.grpc.MailboxService/UpdateMailbox", pb::MailboxUpdateRequest => pb::Empty);
    unary!(list_messages, "/rustmailer.grpc.MessageService/ListMessages", pb::ListMessagesRequest => pb::CursorDataPage);
    unary!(fetch_message_content, "/rustmailer.grpc.MessageService/FetchMessageContent", pb::FetchMessageContentRequest => pb::MessageContentResponse);
    unary!(fetch_message_attachment, "/rustmailer.grpc.MessageService/FetchMessageAttachment", pb::FetchMessageAttachmentRequest => pb::ByteResponse);
    unary!(update_message_flags, "/rustmailer.grpc.MessageService/UpdateMessageFlags", pb::FlagMessageRequest => pb::Empty);
    unary!(move_messages, "/rustmailer.grpc.MessageService/MoveMessages", pb::MailboxTransferRequest => pb::Empty);
    unary!(copy_messages, "/rustmailer.grpc.MessageService/CopyMessages", pb::MailboxTransferRequest => pb::Empty);
    unary!(delete_messages, "/rustmailer.grpc.MessageService/DeleteMessages", pb::MessageDeleteRequest => pb::Empty);
    unary!(message_search, "/rustmailer.grpc.MessageService/MessageSearch", pb::MessageSearchRequest => pb::CursorDataPage);
    unary!(unified_search, "/rustmailer.grpc.MessageService/UnifiedSearch", pb::UnifiedSearchRequest => pb::PagedMessages);
    unary!(send_new_mail, "/rustmailer.grpc.SendMailService/SendNewMail", pb::SendNewMailRequest => pb::Empty);
    unary!(reply_mail, "/rustmailer.grpc.SendMailService/ReplyMail", pb::ReplyMailRequest => pb::Empty);
    unary!(forward_mail, "/rustmailer.grpc.SendMailService/ForwardMail", pb::ForwardMailRequest => pb::Empty);
    unary!(list_email_tasks, "/rustmailer.grpc.SendMailService/ListEmailTasks", pb::ListTasksRequest => pb::PagedEmailTask);
    unary!(get_email_task, "/rustmailer.grpc.SendMailService/GetEmailTask", pb::GetTaskRequest => pb::EmailTask);
    unary!(remove_email_task, "/rustmailer.grpc.SendMailService/RemoveEmailTask", pb::RemoveTaskRequest => pb::Empty);
    unary!(get_status, "/rustmailer.grpc.StatusService/GetStatus", pb::Empty => pb::ServerStatus);
    unary!(list_templates, "/rustmailer.grpc.TemplatesService/ListTemplates", pb::ListTemplatesRequest => pb::PagedEmailTemplate);
}
