//! Command-line flags and their environment-variable twins.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;
use hyper::Uri;

/// Serves the Petrel web app and proxies mail protocols to it from the same origin.
#[derive(Debug, Clone, Parser)]
#[command(name = "petrel-gateway", version)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "PETREL_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Folder holding the built app (Trunk's `dist`).
    #[arg(long, env = "PETREL_APP_DIR", default_value = "dist")]
    pub app_dir: PathBuf,

    /// JMAP server to proxy `/.well-known/jmap` and `/jmap/...` to, e.g. http://127.0.0.1:8008.
    #[arg(long, env = "PETREL_JMAP_UPSTREAM", value_parser = parse_upstream)]
    pub jmap_upstream: Option<Uri>,

    /// RustMailer's gRPC port to translate gRPC-web to (HTTP/2, cleartext), e.g. http://127.0.0.1:16630.
    #[arg(long, env = "PETREL_RUSTMAILER_UPSTREAM", value_parser = parse_upstream)]
    pub rustmailer_upstream: Option<Uri>,

    /// Token RustMailer's event hooks must carry (`Authorization: Bearer ...`) when posting to
    /// `/rustmailer/webhook`; without it the webhook endpoint is off.
    #[arg(long, env = "PETREL_RUSTMAILER_WEBHOOK_TOKEN", hide_env_values = true)]
    pub rustmailer_webhook_token: Option<String>,

    /// Origins other than the gateway's own allowed to call the proxied APIs (CORS), comma
    /// separated; `*` allows any. Same-origin use needs none.
    #[arg(long = "cors-origin", env = "PETREL_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,

    /// Writes the app's edge manifest (what petrel-edge serves, with this gateway's headers) to
    /// this file and exits, serving nothing.
    #[arg(long, value_name = "FILE")]
    pub write_edge_manifest: Option<PathBuf>,

    /// Demo mode only: `LOGIN:PASSWORD` the app signs in with by itself. Never use on a real server.
    #[arg(long, env = "PETREL_DEMO_LOGIN", value_parser = parse_demo_login, hide_env_values = true)]
    pub demo_login: Option<(String, String)>,
}

fn parse_upstream(value: &str) -> Result<Uri, String> {
    let uri: Uri = value.parse().map_err(|e| format!("not a URL ({e})"))?;
    match uri.scheme_str() {
        Some("http") => {}
        Some("https") => {
            return Err(
                "https upstreams are not supported yet: put the gateway beside the server and use http on loopback"
                    .into(),
            )
        }
        _ => return Err("the upstream must be an http:// URL".into()),
    }
    if uri.authority().is_none() {
        return Err("the upstream URL has no host".into());
    }
    if uri.path() != "/" && !uri.path().is_empty() || uri.query().is_some() {
        return Err("give only scheme, host and port (the paths are proxied as they are)".into());
    }
    Ok(uri)
}

fn parse_demo_login(value: &str) -> Result<(String, String), String> {
    match value.split_once(':') {
        Some((login, password)) if !login.is_empty() && !password.is_empty() => Ok((login.into(), password.into())),
        _ => Err("expected LOGIN:PASSWORD".into()),
    }
}

impl Config {
    pub fn allows_origin(&self, origin: &str) -> bool {
        self.cors_origins.iter().any(|o| o == "*" || o.trim_end_matches('/') == origin)
    }
}
