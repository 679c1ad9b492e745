//! A signed-in JMAP connection: session, limits, and the HTTP calls (wasm only).
//!
//! - One logical request may become several HTTP requests ([`super::batch`]), sent in order.
//! - At most `maxConcurrentRequests` are in flight; the rest wait their turn ([`Gate`]).
//! - Identical read-only requests in flight at once share one fetch; dropping every caller of a
//!   request aborts its fetch.
//! - A response whose `sessionState` differs from the session's makes the client refetch the session.
//! - Reads refused with 429/503 are retried after `Retry-After` (bounded); writes are never retried
//!   here (the outbox decides that).

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use futures_util::future::{FutureExt, LocalBoxFuture, Shared, WeakShared};

use super::batch::{self, Limits};
use super::request::interpret_api_response;
use super::session::{interpret_session_response, session_url_for, SESSION_BODY_LIMIT};
use super::{JmapError, Request, Response, Session};
use crate::auth::Credentials;
use crate::net::backoff::Backoff;
use crate::net::gate::Gate;
use crate::net::{fetch, sleep, HttpRequest, DEFAULT_BODY_LIMIT};

#[derive(Debug, Clone, Copy)]
pub struct ClientOptions {
    /// Cap on each API response body.
    pub body_limit: usize,
    pub session_body_limit: usize,
    /// How often a rate-limited or unavailable read is tried again.
    pub read_retries: u32,
    /// Longer `Retry-After` waits are not sat out: the error goes to the caller.
    pub max_retry_wait_secs: u64,
    /// Limits never to exceed even where the server allows more (smaller requests on poor links).
    pub limits_cap: Option<Limits>,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            body_limit: DEFAULT_BODY_LIMIT,
            session_body_limit: SESSION_BODY_LIMIT,
            read_retries: 2,
            max_retry_wait_secs: 30,
            limits_cap: None,
        }
    }
}

/// What the client has sent and received: how tests and benchmarks tell a delta from a refetch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApiStats {
    /// HTTP requests to the API (retries included).
    pub requests: u64,
    pub bytes_sent: u64,
    pub bytes_received: u64,
    /// Method calls asked for, by name (`Email/changes`: 2, ...); a shared read counts per caller.
    pub methods: std::collections::BTreeMap<String, u64>,
}

impl ApiStats {
    pub fn calls(&self, method: &str) -> u64 {
        self.methods.get(method).copied().unwrap_or(0)
    }
}

type SharedCall = Shared<LocalBoxFuture<'static, Result<Response, JmapError>>>;

/// One API request on its way, shared by every caller that asked the same.
type ApiCall = LocalBoxFuture<'static, Result<Response, JmapError>>;

struct Inner {
    credentials: Credentials,
    options: ClientOptions,
    session: RefCell<Session>,
    gate: Gate,
    in_flight: RefCell<HashMap<Vec<u8>, WeakShared<ApiCall>>>,
    stats: RefCell<ApiStats>,
}

/// Cheap to clone: clones share the session, the limit on requests in flight and coalescing.
#[derive(Clone)]
pub struct JmapClient {
    inner: Rc<Inner>,
}

impl std::fmt::Debug for JmapClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JmapClient").field("session", &self.inner.session.borrow().url.as_str()).finish()
    }
}

async fn fetch_session(url: &str, credentials: &Credentials, limit: usize) -> Result<Session, JmapError> {
    let request = HttpRequest::get(url)
        .header("accept", "application/json")
        .header("authorization", credentials.authorization_header())
        .body_limit(limit);
    interpret_session_response(&fetch(request).await?)
}

impl JmapClient {
    /// Discovers and fetches the session for `server` (see [`session_url_for`]) and signs in.
    pub async fn connect(server: &str, credentials: Credentials) -> Result<JmapClient, JmapError> {
        Self::connect_with(server, credentials, ClientOptions::default()).await
    }

    pub async fn connect_with(
        server: &str,
        credentials: Credentials,
        options: ClientOptions,
    ) -> Result<JmapClient, JmapError> {
        let url = session_url_for(server)?;
        let session = fetch_session(url.as_str(), &credentials, options.session_body_limit).await?;
        let gate = Gate::new(session.core.max_concurrent_requests as usize);
        Ok(JmapClient {
            inner: Rc::new(Inner {
                credentials,
                options,
                session: RefCell::new(session),
                gate,
                in_flight: RefCell::default(),
                stats: RefCell::default(),
            }),
        })
    }

    /// The current session (a copy: it may be replaced when the server's changes).
    pub fn session(&self) -> Session {
        self.inner.session.borrow().clone()
    }

    pub fn credentials(&self) -> &Credentials {
        &self.inner.credentials
    }

    /// Requests waiting for a free slot under `maxConcurrentRequests`.
    pub fn requests_waiting(&self) -> usize {
        self.inner.gate.waiting()
    }

    /// Requests and bytes so far (shared fetches count once).
    pub fn stats(&self) -> ApiStats {
        self.inner.stats.borrow().clone()
    }

    /// Fetches the session again from where it was last read.
    pub async fn refresh_session(&self) -> Result<(), JmapError> {
        let url = self.inner.session.borrow().url.to_string();
        let session = fetch_session(&url, &self.inner.credentials, self.inner.options.session_body_limit).await?;
        *self.inner.session.borrow_mut() = session;
        Ok(())
    }

    /// Sends the method calls of `request`, split to the server's limits, and returns one response.
    pub async fn send(&self, request: &Request) -> Result<Response, JmapError> {
        let limits = Limits::from(&self.inner.session.borrow().core).capped(self.inner.options.limits_cap);
        let plan = batch::plan(request, &limits)?;
        let mut responses: Vec<Response> = Vec::with_capacity(plan.requests.len());
        let mut created = std::collections::BTreeMap::new();
        for part in &plan.requests {
            // Objects created by an earlier part may be referenced (`#k1`) by a later one.
            let response = if created.is_empty() {
                self.send_one(part).await?
            } else {
                self.send_one(&part.clone().with_created_ids(created.clone())).await?
            };
            for set in response.method_responses.iter().filter(|i| i.0.ends_with("/set")) {
                let Some(map) = set.1.get("created").and_then(|c| c.as_object()) else { continue };
                for (creation_id, object) in map {
                    if let Some(id) = object.get("id").and_then(|v| v.as_str()) {
                        created.insert(creation_id.clone(), id.to_owned());
                    }
                }
            }
            if let Some(ids) = &response.created_ids {
                created.extend(ids.clone());
            }
            responses.push(response);
        }
        let response = plan.merge(responses)?;
        let stale = response.session_state != self.inner.session.borrow().state;
        if stale {
            // A failed refresh keeps the old session: the response itself is still good.
            let _ = self.refresh_session().await;
        }
        Ok(response)
    }

    async fn send_one(&self, request: &Request) -> Result<Response, JmapError> {
        let body = request.to_json();
        {
            let mut stats = self.inner.stats.borrow_mut();
            for call in request.calls() {
                *stats.methods.entry(call.0.clone()).or_default() += 1;
            }
        }
        if !request.is_read_only() {
            return post(self.inner.clone(), body, false).await;
        }
        let existing = self.inner.in_flight.borrow().get(&body).and_then(WeakShared::upgrade);
        let call: SharedCall = match existing {
            Some(call) => call,
            None => {
                let inner = self.inner.clone();
                let key = body.clone();
                let call = async move {
                    let result = post(inner.clone(), key.clone(), true).await;
                    inner.in_flight.borrow_mut().remove(&key);
                    result
                }
                .boxed_local()
                .shared();
                if let Some(weak) = call.downgrade() {
                    self.inner.in_flight.borrow_mut().insert(body, weak);
                }
                call
            }
        };
        call.await
    }
}

/// One HTTP request to the API, waiting its turn under the concurrency limit.
async fn post(inner: Rc<Inner>, body: Vec<u8>, retry_reads: bool) -> Result<Response, JmapError> {
    let backoff = Backoff::new(500, inner.options.max_retry_wait_secs * 1000);
    let mut attempt = 0;
    loop {
        let api_url = inner.session.borrow().api_url.to_string();
        let http = HttpRequest::post(api_url, body.clone())
            .header("content-type", "application/json")
            .header("accept", "application/json")
            .header("authorization", inner.credentials.authorization_header())
            .body_limit(inner.options.body_limit);
        let result = {
            let _permit = inner.gate.acquire().await;
            let fetched = fetch(http).await;
            let mut stats = inner.stats.borrow_mut();
            stats.requests += 1;
            stats.bytes_sent += body.len() as u64;
            if let Ok(r) = &fetched {
                stats.bytes_received += r.body.len() as u64;
            }
            drop(stats);
            fetched.map_err(JmapError::from).and_then(|r| interpret_api_response(&r))
        };
        let wait = match &result {
            Err(JmapError::RateLimited { retry_after_secs } | JmapError::Unavailable { retry_after_secs, .. })
                if retry_reads && attempt < inner.options.read_retries =>
            {
                let secs = retry_after_secs
                    .map(|s| s * 1000)
                    .unwrap_or_else(|| backoff.delay_ms(attempt, js_sys::Math::random()));
                (secs <= inner.options.max_retry_wait_secs * 1000).then_some(secs)
            }
            _ => None,
        };
        match wait {
            Some(ms) => {
                sleep(ms as u32).await;
                attempt += 1;
            }
            None => return result,
        }
    }
}
