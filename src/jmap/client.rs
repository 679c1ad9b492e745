//! A signed-in JMAP connection: the session and the credentials that opened it.

use super::request::interpret_api_response;
use super::session::{interpret_session_response, session_url_for, SESSION_BODY_LIMIT};
use super::{JmapError, Request, Response, Session};
use crate::auth::Credentials;
use crate::net::{fetch, HttpRequest, DEFAULT_BODY_LIMIT};

#[derive(Debug, Clone)]
pub struct JmapClient {
    session: Session,
    credentials: Credentials,
}

impl JmapClient {
    /// Discovers and fetches the session for `server` (see [`session_url_for`]) and signs in.
    pub async fn connect(server: &str, credentials: Credentials) -> Result<JmapClient, JmapError> {
        let url = session_url_for(server)?;
        let request = HttpRequest::get(url.as_str())
            .header("accept", "application/json")
            .header("authorization", credentials.authorization_header())
            .body_limit(SESSION_BODY_LIMIT);
        let response = fetch(request).await?;
        let session = interpret_session_response(&response)?;
        Ok(JmapClient { session, credentials })
    }

    pub fn session(&self) -> &Session {
        &self.session
    }

    /// Sends one batch of method calls.
    pub async fn send(&self, request: &Request) -> Result<Response, JmapError> {
        let http = HttpRequest::post(self.session.api_url.as_str(), request.to_json())
            .header("content-type", "application/json")
            .header("accept", "application/json")
            .header("authorization", self.credentials.authorization_header())
            .body_limit(DEFAULT_BODY_LIMIT);
        interpret_api_response(&fetch(http).await?)
    }
}
