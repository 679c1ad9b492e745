//! Mailboxes over JMAP (RFC 8621 §2): `Mailbox/get` of an account's folders, read into the mail
//! model's [`Mailbox`].

use serde_json::{json, Value};

#[cfg(target_arch = "wasm32")]
use crate::jmap::client::JmapClient;
use crate::jmap::{capability, Call, JmapError, Request};
use crate::mail::Mailbox;

/// The properties `Mailbox/get` asks for.
pub const PROPERTIES: [&str; 8] =
    ["id", "name", "parentId", "role", "sortOrder", "totalEmails", "unreadEmails", "myRights"];

/// Adds a `Mailbox/get` of every mailbox of `account_id` to `request`.
pub fn request_all(request: &mut Request, account_id: &str) -> Call {
    request.call("Mailbox/get", json!({ "accountId": account_id, "ids": null, "properties": PROPERTIES }))
}

/// The capability `request_all` needs.
pub const CAPABILITY: &str = capability::MAIL;

/// Reads the `list` of a `Mailbox/get` response.
pub fn parse_get(arguments: Value) -> Result<Vec<Mailbox>, JmapError> {
    super::parse_list("Mailbox/get", arguments)
}

/// Fetches every mailbox of the signed-in account.
#[cfg(target_arch = "wasm32")]
pub async fn fetch_all(client: &JmapClient) -> Result<Vec<Mailbox>, JmapError> {
    let account = client.session().primary_account(CAPABILITY)?.to_owned();
    let mut request = Request::new().using(CAPABILITY);
    let call = request_all(&mut request, &account);
    let mut response = client.send(&request).await?;
    parse_get(response.take(&call)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::Role;

    #[test]
    fn parses_cyrus_mailbox_get() {
        let list = parse_get(json!({"state": "22", "accountId": "x", "notFound": [], "list": [
            {"id": "1o1", "name": "Inbox", "parentId": null, "role": "inbox", "totalEmails": 11,
             "unreadEmails": 7, "sortOrder": 1},
            {"id": "k4l", "name": "Archive", "parentId": null, "role": "archive", "totalEmails": 2,
             "unreadEmails": 0, "sortOrder": 3}
        ]}))
        .unwrap();
        assert_eq!(list[0].role, Role::Inbox);
        assert_eq!(list[0].unread_emails, 7);
        assert_eq!(list[1].role, Role::Archive);
        assert!(parse_get(json!({"list": [{"id": 5}]})).is_err());
        assert!(parse_get(json!(null)).is_err());
    }
}
