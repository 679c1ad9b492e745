//! Credentials for mail servers, Basic or Bearer.
//!
//! They live in memory only: `Debug` redacts them, and nothing here writes them anywhere.

use base64::Engine as _;

#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    /// A username and password, sent as HTTP Basic (RFC 7617) in UTF-8.
    Basic { username: String, password: String },
    /// An OAuth or app token, sent as `Authorization: Bearer`.
    Bearer { token: String },
}

impl Credentials {
    pub fn basic(username: impl Into<String>, password: impl Into<String>) -> Self {
        Credentials::Basic { username: username.into(), password: password.into() }
    }

    pub fn bearer(token: impl Into<String>) -> Self {
        Credentials::Bearer { token: token.into() }
    }

    /// The value of the `Authorization` header.
    pub fn authorization_header(&self) -> String {
        match self {
            Credentials::Basic { username, password } => {
                let raw = format!("{username}:{password}");
                format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(raw))
            }
            Credentials::Bearer { token } => format!("Bearer {token}"),
        }
    }

    /// The username, where the credentials have one (for display, never for auth).
    pub fn username(&self) -> Option<&str> {
        match self {
            Credentials::Basic { username, .. } => Some(username),
            Credentials::Bearer { .. } => None,
        }
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::Basic { username, .. } => {
                f.debug_struct("Basic").field("username", username).field("password", &"<redacted>").finish()
            }
            Credentials::Bearer { .. } => f.debug_struct("Bearer").field("token", &"<redacted>").finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_header_is_base64_of_user_colon_password() {
        let creds = Credentials::basic("Aladdin", "open sesame");
        assert_eq!(creds.authorization_header(), "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
    }

    #[test]
    fn basic_header_encodes_utf8() {
        let creds = Credentials::basic("test", "123£");
        assert_eq!(creds.authorization_header(), "Basic dGVzdDoxMjPCow==");
    }

    #[test]
    fn bearer_header() {
        assert_eq!(Credentials::bearer("abc.def").authorization_header(), "Bearer abc.def");
    }

    #[test]
    fn debug_never_shows_secrets() {
        let shown = format!("{:?} {:?}", Credentials::basic("alice", "hunter2"), Credentials::bearer("tok-123"));
        assert!(shown.contains("alice"));
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(!shown.contains("tok-123"), "{shown}");
    }
}
