//! Absolute URLs, parsed and resolved the WHATWG way: in wasm by the browser's own `URL` (present
//! in windows and workers alike), natively by the `url` crate, which implements the same standard.
//! The wasm build thus carries no URL parser of its own (the `url` crate pulls in idna and its
//! Unicode tables).

use std::fmt;

/// An absolute URL, kept serialized; operations parse it again (cheap next to the requests they
/// prepare), so it is plain data that can be cloned and sent anywhere.
#[derive(Clone, PartialEq, Eq)]
pub struct Url {
    href: String,
}

/// Why a string is not a URL, in the parser's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlError(pub String);

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Url {
    pub fn parse(input: &str) -> Result<Url, UrlError> {
        parsed(input, None).map(|u| Url { href: href_of(&u) })
    }

    /// `relative` resolved against this URL.
    pub fn join(&self, relative: &str) -> Result<Url, UrlError> {
        parsed(relative, Some(&self.href)).map(|u| Url { href: href_of(&u) })
    }

    pub fn as_str(&self) -> &str {
        &self.href
    }

    /// The scheme, without its colon.
    pub fn scheme(&self) -> String {
        self.read(|u| protocol_of(u).trim_end_matches(':').to_owned())
    }

    /// The host name, without a port (empty for URLs without one).
    pub fn host_name(&self) -> String {
        self.read(hostname_of)
    }

    pub fn path(&self) -> String {
        self.read(pathname_of)
    }

    /// `scheme://host[:port]`.
    pub fn origin(&self) -> String {
        self.read(|u| format!("{}//{}", protocol_of(u), host_of(u)))
    }

    pub fn set_path(&mut self, path: &str) {
        self.write(|u| set_pathname(u, path));
    }

    pub fn clear_fragment(&mut self) {
        self.write(clear_hash);
    }

    /// Changes the scheme (`ws` for `http`, …); `Err` when the URL cannot take it.
    pub fn set_scheme(&mut self, scheme: &str) -> Result<(), UrlError> {
        let before = self.href.clone();
        self.write(|u| set_protocol(u, scheme));
        if self.scheme() == scheme {
            Ok(())
        } else {
            self.href = before;
            Err(UrlError(format!("cannot be made a {scheme} URL")))
        }
    }

    pub fn set_credentials(&mut self, username: &str, password: &str) {
        self.write(|u| set_user_info(u, username, password));
    }

    pub fn append_query_pair(&mut self, name: &str, value: &str) {
        self.write(|u| append_pair(u, name, value));
    }

    // `href` came out of the parser, so it parses again.
    fn read(&self, f: impl FnOnce(&Parsed) -> String) -> String {
        parsed(&self.href, None).map(|u| f(&u)).unwrap_or_default()
    }

    fn write(&mut self, f: impl FnOnce(&mut Parsed)) {
        if let Ok(mut u) = parsed(&self.href, None) {
            f(&mut u);
            self.href = href_of(&u);
        }
    }
}

impl fmt::Display for Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.href)
    }
}

impl fmt::Debug for Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.href)
    }
}

#[cfg(target_arch = "wasm32")]
type Parsed = web_sys::Url;

#[cfg(target_arch = "wasm32")]
fn parsed(input: &str, base: Option<&str>) -> Result<Parsed, UrlError> {
    let result = match base {
        Some(base) => web_sys::Url::new_with_base(input, base),
        None => web_sys::Url::new(input),
    };
    result.map_err(|e| UrlError(crate::net::fetch_js_message(&e)))
}

#[cfg(target_arch = "wasm32")]
mod parts {
    use super::Parsed;

    pub fn href_of(u: &Parsed) -> String {
        u.href()
    }
    pub fn protocol_of(u: &Parsed) -> String {
        u.protocol()
    }
    pub fn host_of(u: &Parsed) -> String {
        u.host()
    }
    pub fn hostname_of(u: &Parsed) -> String {
        u.hostname()
    }
    pub fn pathname_of(u: &Parsed) -> String {
        u.pathname()
    }
    pub fn set_pathname(u: &mut Parsed, path: &str) {
        u.set_pathname(path)
    }
    pub fn clear_hash(u: &mut Parsed) {
        u.set_hash("")
    }
    pub fn set_protocol(u: &mut Parsed, scheme: &str) {
        u.set_protocol(scheme)
    }
    pub fn set_user_info(u: &mut Parsed, username: &str, password: &str) {
        u.set_username(username);
        u.set_password(password);
    }
    pub fn append_pair(u: &mut Parsed, name: &str, value: &str) {
        u.search_params().append(name, value)
    }
}

#[cfg(not(target_arch = "wasm32"))]
type Parsed = url::Url;

#[cfg(not(target_arch = "wasm32"))]
fn parsed(input: &str, base: Option<&str>) -> Result<Parsed, UrlError> {
    let result = match base {
        Some(base) => url::Url::parse(base).and_then(|b| b.join(input)),
        None => url::Url::parse(input),
    };
    result.map_err(|e| UrlError(e.to_string()))
}

#[cfg(not(target_arch = "wasm32"))]
mod parts {
    use super::Parsed;

    pub fn href_of(u: &Parsed) -> String {
        u.as_str().to_owned()
    }
    pub fn protocol_of(u: &Parsed) -> String {
        format!("{}:", u.scheme())
    }
    pub fn host_of(u: &Parsed) -> String {
        let host = u.host_str().unwrap_or_default();
        match u.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        }
    }
    pub fn hostname_of(u: &Parsed) -> String {
        u.host_str().unwrap_or_default().to_owned()
    }
    pub fn pathname_of(u: &Parsed) -> String {
        u.path().to_owned()
    }
    pub fn set_pathname(u: &mut Parsed, path: &str) {
        u.set_path(path)
    }
    pub fn clear_hash(u: &mut Parsed) {
        u.set_fragment(None)
    }
    pub fn set_protocol(u: &mut Parsed, scheme: &str) {
        let _ = u.set_scheme(scheme);
    }
    pub fn set_user_info(u: &mut Parsed, username: &str, password: &str) {
        let _ = u.set_username(username);
        let _ = u.set_password(Some(password));
    }
    pub fn append_pair(u: &mut Parsed, name: &str, value: &str) {
        u.query_pairs_mut().append_pair(name, value);
    }
}

use parts::*;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_join_and_setters() {
        let mut u = Url::parse("https://mail.example.com:8443/jmap/session#x").unwrap();
        assert_eq!(u.scheme(), "https");
        assert_eq!(u.host_name(), "mail.example.com");
        assert_eq!(u.origin(), "https://mail.example.com:8443");
        assert_eq!(u.path(), "/jmap/session");
        u.clear_fragment();
        assert_eq!(u.as_str(), "https://mail.example.com:8443/jmap/session");
        assert_eq!(u.join("/api/").unwrap().as_str(), "https://mail.example.com:8443/api/");
        assert_eq!(u.join("up").unwrap().as_str(), "https://mail.example.com:8443/jmap/up");
        u.set_scheme("wss").unwrap();
        u.set_credentials("a@b", "p w");
        u.append_query_pair("access_token", "t&1");
        assert_eq!(u.as_str(), "wss://a%40b:p%20w@mail.example.com:8443/jmap/session?access_token=t%261");
        assert!(Url::parse("not a url").is_err());
    }
}
