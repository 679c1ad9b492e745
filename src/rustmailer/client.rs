//! Calls to RustMailer through the gateway's gRPC-web endpoint (tonic stubs over
//! tonic-web-wasm-client). Every call carries the access token, asks RustMailer for a deadline
//! (`X-RustMailer-Timeout-Seconds`) and gives up in the browser a little after it, and accepts
//! gzip, which RustMailer always sends.

use std::time::Duration;

use tonic::codec::CompressionEncoding;
use tonic::metadata::MetadataValue;
use tonic_web_wasm_client::options::FetchOptions;
use tonic_web_wasm_client::Client as Channel;

use super::error::RustMailerError;
use super::proto as pb;

/// RustMailer's own default; a call may ask for more (up to 600 s).
pub const DEFAULT_DEADLINE_SECS: u64 = 30;

#[derive(Clone)]
pub struct RustMailer {
    /// The gateway's origin (or the page's own, `""` for same-origin).
    base_url: String,
    token: Option<String>,
    deadline_secs: u64,
}

macro_rules! unary {
    ($name:ident, $client:ident, $request:ty => $response:ty) => {
        pub async fn $name(&self, message: $request) -> Result<$response, RustMailerError> {
            let mut client = $client::new(self.channel()).accept_compressed(CompressionEncoding::Gzip);
            client.$name(self.request(message)?).await.map(tonic::Response::into_inner).map_err(RustMailerError::from)
        }
    };
}

use pb::account_service_client::AccountServiceClient;
use pb::auto_config_service_client::AutoConfigServiceClient;
use pb::mailbox_service_client::MailboxServiceClient;
use pb::message_service_client::MessageServiceClient;
use pb::send_mail_service_client::SendMailServiceClient;
use pb::status_service_client::StatusServiceClient;
use pb::templates_service_client::TemplatesServiceClient;


impl RustMailer {
    /// `base_url` is where the gateway serves `/rustmailer.grpc.*` (no trailing slash).
    pub fn new(base_url: &str, token: Option<String>) -> RustMailer {
        // "" is same-origin: fetch resolves the relative call paths against the page or worker.
        let base_url = base_url.trim_end_matches('/').to_owned();
        RustMailer { base_url, token: token.filter(|t| !t.is_empty()), deadline_secs: DEFAULT_DEADLINE_SECS }
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
            let value = MetadataValue::try_from(format!("Bearer {token}")).map_err(|_| RustMailerError::BadToken("the token has characters a header cannot carry".into()))?;
            metadata.insert("authorization", value);
        }
        metadata.insert("x-rustmailer-timeout-seconds", MetadataValue::from(self.deadline_secs));
        Ok(request)
    }

    unary!(list_minimal_accounts, AccountServiceClient, pb::Empty => pb::ListMinimalAccountsResponse);
    unary!(list_accounts, AccountServiceClient, pb::PaginateRequest => pb::PagedAccount);
    unary!(get_account, AccountServiceClient, pb::AccountId => pb::Account);
    unary!(get_account_state, AccountServiceClient, pb::AccountId => pb::AccountRunningState);
    unary!(get_autoconfig, AutoConfigServiceClient, pb::AutoconfigRequest => pb::MailServerConfig);
    unary!(list_mailboxes, MailboxServiceClient, pb::ListMailboxesRequest => pb::ListMailboxesResponse);
    unary!(create_mailbox, MailboxServiceClient, pb::CreateMailboxRequest => pb::Empty);
    unary!(remove_mailbox, MailboxServiceClient, pb::DeleteMailboxRequest => pb::Empty);
    unary!(update_mailbox, MailboxServiceClient, pb::MailboxUpdateRequest => pb::Empty);
    unary!(list_messages, MessageServiceClient, pb::ListMessagesRequest => pb::CursorDataPage);
    unary!(list_threads, MessageServiceClient, pb::ListThreadsRequest => pb::CursorDataPage);
    unary!(get_thread_messages, MessageServiceClient, pb::GetThreadMessagesRequest => pb::EmailEnvelopeList);
    unary!(fetch_message_content, MessageServiceClient, pb::FetchMessageContentRequest => pb::MessageContentResponse);
    unary!(fetch_message_attachment, MessageServiceClient, pb::FetchMessageAttachmentRequest => pb::ByteResponse);
    unary!(update_message_flags, MessageServiceClient, pb::FlagMessageRequest => pb::Empty);
    unary!(move_messages, MessageServiceClient, pb::MailboxTransferRequest => pb::Empty);
    unary!(copy_messages, MessageServiceClient, pb::MailboxTransferRequest => pb::Empty);
    unary!(delete_messages, MessageServiceClient, pb::MessageDeleteRequest => pb::Empty);
    unary!(message_search, MessageServiceClient, pb::MessageSearchRequest => pb::CursorDataPage);
    unary!(unified_search, MessageServiceClient, pb::UnifiedSearchRequest => pb::PagedMessages);
    unary!(send_new_mail, SendMailServiceClient, pb::SendNewMailRequest => pb::Empty);
    unary!(reply_mail, SendMailServiceClient, pb::ReplyMailRequest => pb::Empty);
    unary!(forward_mail, SendMailServiceClient, pb::ForwardMailRequest => pb::Empty);
    unary!(list_email_tasks, SendMailServiceClient, pb::ListTasksRequest => pb::PagedEmailTask);
    unary!(get_email_task, SendMailServiceClient, pb::GetTaskRequest => pb::EmailTask);
    unary!(remove_email_task, SendMailServiceClient, pb::RemoveTaskRequest => pb::Empty);
    unary!(get_status, StatusServiceClient, pb::Empty => pb::ServerStatus);
    unary!(list_templates, TemplatesServiceClient, pb::ListTemplatesRequest => pb::PagedEmailTemplate);
}
