//! Petrel's filter script on the server (wasm): its text moves as a blob, through the SHA-256 check
//! both ways (see [`super::blob_io`]). The futures are boxed: compiled once here, not inlined into
//! every view that awaits them (that cost 40 KB of wasm).

use futures_util::future::{FutureExt, LocalBoxFuture};
use js_sys::Array;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

use super::blob::DigestStore;
use super::client::JmapClient;
use super::sieve;
use super::{blob_io, JmapError};
use crate::mail::filters::{self, Filters, ScriptProblem};
use crate::net::NetError;

/// Scripts larger than this are not read (Cyrus keeps 32 KB, Stalwart 1 MB).
const MAX_SCRIPT_BYTES: u64 = 1024 * 1024;

fn js_error(e: JsValue) -> JmapError {
    JmapError::Network(NetError::Interrupted(crate::net::fetch_js_message(&e)))
}

fn unsupported() -> JmapError {
    JmapError::MissingCapability(super::capability::SIEVE.to_owned())
}

/// The account's filters: Petrel's script read into rules (empty when it has none yet), and the
/// other script that is active, if any.
pub fn load<'a>(
    client: &'a JmapClient,
    digests: &'a dyn DigestStore,
) -> LocalBoxFuture<'a, Result<Filters, JmapError>> {
    load_now(client, digests).boxed_local()
}

async fn load_now(client: &JmapClient, digests: &dyn DigestStore) -> Result<Filters, JmapError> {
    let session = client.session();
    let (using, account) = sieve::offered(&session).ok_or_else(unsupported)?;
    let caps = sieve::capabilities(&session, using, &account);
    let mut req = super::Request::new().using(using);
    let call = sieve::get_request(&mut req, &account);
    let scripts = sieve::parse_scripts(client.send(&req).await?.take(&call)?)?;
    let ours = scripts.iter().find(|s| s.name() == filters::SCRIPT_NAME);
    let other_active =
        scripts.iter().find(|s| s.is_active && s.name() != filters::SCRIPT_NAME).map(|s| s.name().to_owned());
    let text = match ours {
        Some(script) => {
            let blob = blob_io::download(
                client,
                &account,
                &script.blob_id,
                "petrel.sieve",
                "application/sieve",
                digests,
                MAX_SCRIPT_BYTES,
            )
            .await?;
            JsFuture::from(blob.text()).await.map_err(js_error)?.as_string().unwrap_or_default()
        }
        None => String::new(),
    };
    Ok(Filters {
        script: filters::read_script(&text, &caps),
        text,
        caps,
        script_id: ours.map(|s| s.id.clone()),
        other_active,
    })
}

async fn upload(
    client: &JmapClient,
    account: &str,
    text: &str,
    digests: &dyn DigestStore,
) -> Result<String, JmapError> {
    let options = web_sys::BlobPropertyBag::new();
    options.set_type("application/sieve");
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&Array::of1(&JsValue::from_str(text)), &options)
        .map_err(js_error)?;
    Ok(blob_io::upload(client, account, &blob, "application/sieve", digests, &|_| {}).await?.blob_id)
}

/// The server's verdict on `text` as Sieve: `None` when it is valid.
pub fn validate<'a>(
    client: &'a JmapClient,
    text: &'a str,
    digests: &'a dyn DigestStore,
) -> LocalBoxFuture<'a, Result<Option<ScriptProblem>, JmapError>> {
    validate_now(client, text, digests).boxed_local()
}

async fn validate_now(
    client: &JmapClient,
    text: &str,
    digests: &dyn DigestStore,
) -> Result<Option<ScriptProblem>, JmapError> {
    let (using, account) = sieve::offered(&client.session()).ok_or_else(unsupported)?;
    let blob_id = upload(client, &account, text, digests).await?;
    let mut req = super::Request::new().using(using);
    let call = sieve::validate_request(&mut req, &account, &blob_id);
    sieve::parse_validate(client.send(&req).await?.take(&call)?)
}

/// Stores `text` as Petrel's script and makes it the active one; `Ok(Err(..))` when the server
/// refused the script (nothing changed then).
pub fn save<'a>(
    client: &'a JmapClient,
    script_id: Option<&'a str>,
    text: &'a str,
    digests: &'a dyn DigestStore,
) -> LocalBoxFuture<'a, Result<Result<(), ScriptProblem>, JmapError>> {
    save_now(client, script_id, text, digests).boxed_local()
}

async fn save_now(
    client: &JmapClient,
    script_id: Option<&str>,
    text: &str,
    digests: &dyn DigestStore,
) -> Result<Result<(), ScriptProblem>, JmapError> {
    let (using, account) = sieve::offered(&client.session()).ok_or_else(unsupported)?;
    let blob_id = upload(client, &account, text, digests).await?;
    let mut req = super::Request::new().using(using);
    let call = sieve::set_request(&mut req, &account, script_id, filters::SCRIPT_NAME, &blob_id);
    sieve::parse_set(client.send(&req).await?.take(&call)?)
}
