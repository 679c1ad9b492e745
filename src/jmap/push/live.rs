//! Live push (wasm): picks the best transport the server offers and keeps it running.
//!
//! Order: RFC 8887 WebSocket with push, then EventSource (read through `fetch` so it carries the
//! Authorization header), then polling each data type's state. A transport that fails to connect
//! twice in a row gives way to the next; every reconnect waits a truncated exponential backoff with
//! full jitter. Dropping the [`PushHandle`] stops everything and closes the connection.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::rc::Rc;
use std::task::{Poll, Waker};

use futures_util::future::{select, Either, FutureExt};
use serde_json::json;
use wasm_bindgen::{closure::Closure, JsCast};

use super::sse::SseParser;
use super::websocket::{self, parse_frame, Inbound};
use super::StateChange;
use crate::jmap::client::JmapClient;
use crate::jmap::{capability, JmapError, Request, Response};
use crate::net::backoff::Backoff;
use crate::net::queue::LocalQueue;
use crate::net::{fetch_stream, sleep, HttpRequest, NetError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    WebSocket,
    EventSource,
    Polling,
}

#[derive(Debug, Clone, PartialEq)]
pub enum PushEvent {
    Connected(Transport),
    /// The server does not offer this transport; the next one is tried at once.
    Skipped {
        transport: Transport,
        reason: String,
    },
    StateChange(StateChange),
    /// The transport dropped; the next attempt (maybe on another transport) comes after the delay.
    Disconnected {
        transport: Transport,
        reason: String,
        retry_in_ms: u64,
    },
}

#[derive(Debug, Clone)]
pub struct PushOptions {
    pub data_types: Vec<String>,
    /// Transports to try, in order; by default all, best first.
    pub transports: Vec<Transport>,
    /// Seconds between server pings on EventSource; no bytes for 2.5 times that means a stall.
    pub ping_secs: u32,
    pub poll_interval_ms: u32,
    pub backoff: Backoff,
    /// Largest push frame (SSE event or WebSocket message) accepted.
    pub max_frame: usize,
    /// Use this WebSocket URL instead of the advertised one (a proxy in front of the server).
    pub websocket_url: Option<String>,
}

impl Default for PushOptions {
    fn default() -> Self {
        PushOptions {
            data_types: ["Email", "Mailbox", "Thread", "EmailSubmission"].map(str::to_owned).to_vec(),
            transports: vec![Transport::WebSocket, Transport::EventSource, Transport::Polling],
            ping_secs: 30,
            poll_interval_ms: 60_000,
            backoff: Backoff::new(1_000, 60_000),
            max_frame: 1024 * 1024,
            websocket_url: None,
        }
    }
}

/// Fires once; every waiter then resolves.
#[derive(Clone, Default)]
pub(crate) struct Stop(Rc<(Cell<bool>, RefCell<Vec<Waker>>)>);

impl Stop {
    pub(crate) fn trigger(&self) {
        self.0 .0.set(true);
        for w in self.0 .1.borrow_mut().drain(..) {
            w.wake();
        }
    }

    pub(crate) fn stopped(&self) -> bool {
        self.0 .0.get()
    }

    pub(crate) fn wait(&self) -> impl Future<Output = ()> + '_ {
        std::future::poll_fn(move |cx| {
            if self.stopped() {
                Poll::Ready(())
            } else {
                self.0 .1.borrow_mut().push(cx.waker().clone());
                Poll::Pending
            }
        })
    }
}

/// Keeps push running while alive (JMAP's here, RustMailer's in `rustmailer::push`).
pub struct PushHandle {
    pub(crate) stop: Stop,
}

impl Drop for PushHandle {
    fn drop(&mut self) {
        self.stop.trigger();
    }
}

/// Why a transport ended.
enum Ended {
    /// The server does not offer this transport.
    Unsupported(String),
    /// It never connected.
    Failed(String),
    /// It ran, then dropped.
    Dropped(String),
}

/// Starts push for the client's primary mail account; `on_event` hears everything that happens.
pub fn start(client: JmapClient, options: PushOptions, on_event: impl Fn(PushEvent) + 'static) -> PushHandle {
    let stop = Stop::default();
    let task_stop = stop.clone();
    wasm_bindgen_futures::spawn_local(async move {
        let on_event = Rc::new(on_event);
        let mut index = 0;
        let mut failures: u32 = 0;
        let mut failed_connects = 0;
        let mut last_event_id = String::new();
        while !task_stop.stopped() && !options.transports.is_empty() {
            let transport = options.transports[index % options.transports.len()];
            let run = run_transport(transport, &client, &options, on_event.clone(), &mut last_event_id).boxed_local();
            let ended = match select(run, task_stop.wait().boxed_local()).await {
                Either::Left((ended, _)) => ended,
                Either::Right(_) => return,
            };
            let reason = match ended {
                Ended::Unsupported(reason) => {
                    on_event(PushEvent::Skipped { transport, reason });
                    index += 1;
                    if index >= options.transports.len() {
                        return;
                    }
                    continue;
                }
                Ended::Failed(reason) => {
                    failed_connects += 1;
                    reason
                }
                Ended::Dropped(reason) => {
                    failed_connects = 0;
                    reason
                }
            };
            if failed_connects >= 2 && index + 1 < options.transports.len() {
                index += 1;
                failed_connects = 0;
            }
            let delay = options.backoff.delay_ms(failures, js_sys::Math::random());
            failures = failures.saturating_add(1);
            on_event(PushEvent::Disconnected { transport, reason, retry_in_ms: delay });
            if let Either::Right(_) = select(sleep(delay as u32).boxed_local(), task_stop.wait().boxed_local()).await {
                return;
            }
        }
    });
    PushHandle { stop }
}

async fn run_transport(
    transport: Transport,
    client: &JmapClient,
    options: &PushOptions,
    on_event: Rc<dyn Fn(PushEvent)>,
    last_event_id: &mut String,
) -> Ended {
    match transport {
        Transport::WebSocket => run_websocket(client, options, on_event).await,
        Transport::EventSource => run_event_source(client, options, on_event, last_event_id).await,
        Transport::Polling => run_polling(client, options, on_event).await,
    }
}

async fn run_event_source(
    client: &JmapClient,
    options: &PushOptions,
    on_event: Rc<dyn Fn(PushEvent)>,
    last_event_id: &mut String,
) -> Ended {
    let session = client.session();
    let types: Vec<&str> = options.data_types.iter().map(String::as_str).collect();
    let Some(url) = session.event_source_url(&types, false, options.ping_secs) else {
        return Ended::Unsupported("no eventSourceUrl".into());
    };
    // A push stream is many small events: compressing them only delays each, and an edge runtime's
    // decoder may fail on a stream that stops mid-frame (Deno's on Cyrus's brotli). Browsers set
    // Accept-Encoding themselves and drop this one; edge runtimes send it.
    let mut request = HttpRequest::get(url)
        .header("accept", "text/event-stream")
        .header("accept-encoding", "identity")
        .header("authorization", client.credentials().authorization_header());
    if !last_event_id.is_empty() {
        request = request.header("last-event-id", last_event_id.clone());
    }
    let mut response = match fetch_stream(request).await {
        Ok(r) => r,
        Err(e) => return Ended::Failed(e.to_string()),
    };
    let is_stream = response.content_type.as_deref().is_some_and(|ct| ct.starts_with("text/event-stream"));
    if response.status == 204 || (response.status == 200 && !is_stream) {
        // Cyrus without push answers 204: the server has no event stream to give.
        return Ended::Unsupported(format!("HTTP {} {:?}", response.status, response.content_type));
    }
    if response.status != 200 {
        return Ended::Failed(format!("the event stream answered HTTP {}", response.status));
    }
    on_event(PushEvent::Connected(Transport::EventSource));
    let mut parser = SseParser::new(options.max_frame);
    let stall_ms = (options.ping_secs.max(1) as u64 * 2500).max(5000) as u32;
    loop {
        let next = select(response.next_chunk().boxed_local(), sleep(stall_ms).boxed_local()).await;
        let chunk = match next {
            Either::Left((Some(Ok(chunk)), _)) => chunk,
            Either::Left((Some(Err(e)), _)) => return Ended::Dropped(e.to_string()),
            Either::Left((None, _)) => return Ended::Dropped("the server closed the event stream".into()),
            Either::Right(_) => return Ended::Dropped(format!("no ping for {stall_ms} ms: the stream stalled")),
        };
        let events = match parser.feed(&chunk) {
            Ok(events) => events,
            Err(e) => return Ended::Dropped(e.to_string()),
        };
        *last_event_id = parser.last_event_id().to_owned();
        for event in events {
            if event.event == "state" {
                match StateChange::parse(&event.data) {
                    Ok(change) => on_event(PushEvent::StateChange(change)),
                    Err(e) => return Ended::Dropped(e.to_string()),
                }
            }
        }
    }
}

enum WsEvent {
    Open,
    Message(String),
    Closed(String),
}

/// Where the answer to one request sent over the socket arrives.
type AnswerQueue = LocalQueue<Result<Response, JmapError>>;

/// An open RFC 8887 connection: requests matched to responses by id, push frames to a callback.
pub struct JmapWebSocket {
    socket: web_sys::WebSocket,
    events: LocalQueue<WsEvent>,
    pending: Rc<RefCell<HashMap<String, AnswerQueue>>>,
    next_id: Cell<u64>,
    max_frame: usize,
    _callbacks: Vec<Closure<dyn FnMut(web_sys::Event)>>,
}

impl Drop for JmapWebSocket {
    fn drop(&mut self) {
        for (kind, callback) in ["open", "message", "close", "error"].into_iter().zip(&self._callbacks) {
            let _ = self.socket.remove_event_listener_with_callback(kind, callback.as_ref().unchecked_ref());
        }
        let _ = self.socket.close();
    }
}

/// workerd's client WebSocket: a fetch with an Upgrade header, answered 101 with the socket on
/// the response (not yet accepted). Returns it with the subprotocol the server chose.
async fn upgrade_through_fetch(url: &str, authorization: &str) -> Result<(web_sys::WebSocket, String), JmapError> {
    use js_sys::{Function, Promise, Reflect};
    let unreachable = |why: String| JmapError::Network(NetError::Unreachable(why));
    let headers = web_sys::Headers::new().map_err(|_| unreachable("no Headers".into()))?;
    for (name, value) in
        [("upgrade", "websocket"), ("sec-websocket-protocol", websocket::SUBPROTOCOL), ("authorization", authorization)]
    {
        headers.append(name, value).map_err(|_| unreachable("a WebSocket handshake header".into()))?;
    }
    let init = web_sys::RequestInit::new();
    init.set_headers(&headers);
    let global = js_sys::global();
    let fetch: Function = Reflect::get(&global, &"fetch".into())
        .ok()
        .and_then(|f| f.dyn_into().ok())
        .ok_or(JmapError::Runtime(crate::net::runtime::Missing(crate::net::runtime::Feature::Fetch)))?;
    let promise: Promise = fetch
        .call2(&global, &url.into(), &init)
        .map_err(|e| unreachable(crate::net::fetch_js_message(&e)))?
        .unchecked_into();
    let response: web_sys::Response = wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .map_err(|e| unreachable(crate::net::fetch_js_message(&e)))?
        .unchecked_into();
    match response.status() {
        101 => {}
        401 => return Err(JmapError::Unauthorized),
        status => return Err(JmapError::Http { status, detail: "the WebSocket handshake was refused".into() }),
    }
    let socket = Reflect::get(&response, &"webSocket".into())
        .ok()
        .filter(|s| !s.is_null() && !s.is_undefined())
        .ok_or_else(|| JmapError::Protocol("the 101 answer carried no WebSocket".into()))?;
    let protocol = response.headers().get("sec-websocket-protocol").ok().flatten().unwrap_or_default();
    Ok((socket.unchecked_into(), protocol))
}

impl JmapWebSocket {
    /// Opens the WebSocket the session advertises (or `url_override`) and waits until it is open.
    pub async fn connect(
        client: &JmapClient,
        url_override: Option<&str>,
        max_frame: usize,
    ) -> Result<JmapWebSocket, JmapError> {
        let session = client.session();
        let advertised = match url_override {
            Some(url) => url.to_owned(),
            None => session
                .capabilities
                .get(capability::WEBSOCKET)
                .and_then(|c| c.get("url"))
                .and_then(|u| u.as_str())
                .ok_or_else(|| JmapError::MissingCapability(capability::WEBSOCKET.into()))?
                .to_owned(),
        };
        crate::net::runtime::require(crate::net::runtime::Feature::WebSocket)?;
        // workerd opens client WebSockets only through fetch (which carries headers); elsewhere
        // `new WebSocket`, which cannot, so the credentials go in the URL.
        let through_fetch = js_sys::Reflect::has(&js_sys::global(), &"WebSocketPair".into()).unwrap_or(false);
        let (socket, chosen_protocol) = if through_fetch {
            let url = websocket::handshake_url(&session.url, &advertised)?;
            let (socket, protocol) = upgrade_through_fetch(&url, &client.credentials().authorization_header()).await?;
            (socket, Some(protocol))
        } else {
            let url = websocket::websocket_url(&session.url, &advertised, client.credentials())?;
            let socket = web_sys::WebSocket::new_with_str(&url, websocket::SUBPROTOCOL)
                .map_err(|_| JmapError::Network(NetError::Unreachable("the WebSocket URL was refused".into())))?;
            (socket, None)
        };
        let events = LocalQueue::new();
        let mut callbacks = Vec::new();
        let on = |events: &LocalQueue<WsEvent>, f: fn(web_sys::Event) -> WsEvent| {
            let events = events.clone();
            Closure::<dyn FnMut(web_sys::Event)>::new(move |e: web_sys::Event| events.push(f(e)))
        };
        let open = on(&events, |_| WsEvent::Open);
        let message = on(&events, |e| match e.dyn_ref::<web_sys::MessageEvent>().and_then(|m| m.data().as_string()) {
            Some(text) => WsEvent::Message(text),
            None => WsEvent::Message(String::new()),
        });
        let close = on(&events, |e| {
            let code = e.dyn_ref::<web_sys::CloseEvent>().map(|c| c.code()).unwrap_or(0);
            WsEvent::Closed(format!("the WebSocket closed (code {code})"))
        });
        let error = on(&events, |_| WsEvent::Closed("the WebSocket failed".into()));
        // Listeners, not on* attributes: workerd's sockets have only addEventListener.
        for (kind, callback) in [("open", &open), ("message", &message), ("close", &close), ("error", &error)] {
            let _ = socket.add_event_listener_with_callback(kind, callback.as_ref().unchecked_ref());
        }
        callbacks.extend([open, message, close, error]);
        let ws = JmapWebSocket {
            socket,
            events,
            pending: Rc::default(),
            next_id: Cell::new(0),
            max_frame,
            _callbacks: callbacks,
        };
        let protocol = match chosen_protocol {
            Some(protocol) => {
                // Accepted only now, with every listener in place: from here it is open.
                let accept = js_sys::Reflect::get(&ws.socket, &"accept".into())
                    .ok()
                    .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
                    .ok_or_else(|| JmapError::Protocol("the upgraded WebSocket cannot be accepted".into()))?;
                accept
                    .call0(&ws.socket)
                    .map_err(|_| JmapError::Protocol("the upgraded WebSocket was refused".into()))?;
                protocol
            }
            None => {
                match ws.events.next().await {
                    Some(WsEvent::Open) => {}
                    Some(WsEvent::Closed(reason)) => return Err(JmapError::Network(NetError::Unreachable(reason))),
                    _ => return Err(JmapError::Protocol("the WebSocket did not open".into())),
                }
                ws.socket.protocol()
            }
        };
        if protocol != websocket::SUBPROTOCOL {
            return Err(JmapError::Protocol(format!("the server chose subprotocol {protocol:?}, not jmap")));
        }
        Ok(ws)
    }

    /// Sends `request` over the socket; the answer comes when [`JmapWebSocket::run`] reads it.
    pub fn call(&self, request: &Request) -> Result<LocalQueue<Result<Response, JmapError>>, JmapError> {
        let id = format!("r{}", self.next_id.get());
        self.next_id.set(self.next_id.get() + 1);
        let answer = LocalQueue::new();
        self.pending.borrow_mut().insert(id.clone(), answer.clone());
        self.send_text(&websocket::request_frame(&id, request))?;
        Ok(answer)
    }

    pub fn enable_push(&self, data_types: &[&str]) -> Result<(), JmapError> {
        self.send_text(&websocket::push_enable_frame(data_types, None))
    }

    fn send_text(&self, text: &str) -> Result<(), JmapError> {
        self.socket
            .send_with_str(text)
            .map_err(|_| JmapError::Network(NetError::Interrupted("the WebSocket is closed".into())))
    }

    /// Reads frames until the socket closes: responses go to their callers, StateChanges to `on_change`.
    pub async fn run(&self, on_change: &dyn Fn(StateChange)) -> String {
        while let Some(event) = self.events.next().await {
            match event {
                WsEvent::Message(text) => match parse_frame(&text, self.max_frame) {
                    Ok(Inbound::StateChange(change)) => on_change(change),
                    Ok(Inbound::Response { request_id: Some(id), response }) => self.answer(&id, Ok(response)),
                    Ok(Inbound::RequestError { request_id: Some(id), error }) => self.answer(&id, Err(error)),
                    Ok(_) => {} // unknown frames, or answers without an id we sent
                    Err(e) => return e.to_string(),
                },
                WsEvent::Closed(reason) => return reason,
                WsEvent::Open => {}
            }
        }
        "the WebSocket ended".into()
    }

    fn answer(&self, id: &str, result: Result<Response, JmapError>) {
        if let Some(queue) = self.pending.borrow_mut().remove(id) {
            queue.push(result);
            queue.close();
        }
    }
}

async fn run_websocket(client: &JmapClient, options: &PushOptions, on_event: Rc<dyn Fn(PushEvent)>) -> Ended {
    let session = client.session();
    let supports_push = session
        .capabilities
        .get(capability::WEBSOCKET)
        .and_then(|c| c.get("supportsPush"))
        .and_then(|p| p.as_bool())
        .unwrap_or(false);
    if !supports_push && options.websocket_url.is_none() {
        return Ended::Unsupported("no WebSocket push".into());
    }
    let ws = match JmapWebSocket::connect(client, options.websocket_url.as_deref(), options.max_frame).await {
        Ok(ws) => ws,
        // No WebSocket in this runtime: the next transport at once, not a retry.
        Err(e @ JmapError::Runtime(_)) => return Ended::Unsupported(e.to_string()),
        Err(e) => return Ended::Failed(e.to_string()),
    };
    let types: Vec<&str> = options.data_types.iter().map(String::as_str).collect();
    if let Err(e) = ws.enable_push(&types) {
        return Ended::Failed(e.to_string());
    }
    on_event(PushEvent::Connected(Transport::WebSocket));
    let reason = ws.run(&|change| on_event(PushEvent::StateChange(change))).await;
    Ended::Dropped(reason)
}

async fn run_polling(client: &JmapClient, options: &PushOptions, on_event: Rc<dyn Fn(PushEvent)>) -> Ended {
    let account = match client.session().primary_account(capability::MAIL) {
        Ok(a) => a.to_owned(),
        Err(e) => return Ended::Unsupported(e.to_string()),
    };
    let mut known: BTreeMap<String, String> = BTreeMap::new();
    let mut connected = false;
    loop {
        // `Foo/get` with no ids costs nothing and returns the type's current state.
        let mut request = Request::new().using(capability::MAIL).using(capability::SUBMISSION);
        let calls: Vec<(String, crate::jmap::Call)> = options
            .data_types
            .iter()
            .map(|t| (t.clone(), request.call(&format!("{t}/get"), json!({ "accountId": account, "ids": [] }))))
            .collect();
        let mut response = match client.send(&request).await {
            Ok(r) => r,
            Err(e) if connected => return Ended::Dropped(e.to_string()),
            Err(e) => return Ended::Failed(e.to_string()),
        };
        if !connected {
            connected = true;
            on_event(PushEvent::Connected(Transport::Polling));
        }
        let mut changed = BTreeMap::new();
        for (data_type, call) in calls {
            let Ok(args) = response.take(&call) else { continue };
            let Some(state) = args.get("state").and_then(|s| s.as_str()) else { continue };
            if known.get(&data_type).is_some_and(|old| old != state) {
                changed.insert(data_type.clone(), state.to_owned());
            }
            known.insert(data_type, state.to_owned());
        }
        if !changed.is_empty() {
            let mut by_account = BTreeMap::new();
            by_account.insert(account.clone(), changed);
            on_event(PushEvent::StateChange(StateChange { changed: by_account, push_state: None }));
        }
        sleep(options.poll_interval_ms).await;
    }
}
