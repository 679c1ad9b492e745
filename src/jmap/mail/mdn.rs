//! Read receipts over JMAP (RFC 9007, `urn:ietf:params:jmap:mdn`): `MDN/send` of a "displayed"
//! receipt the user chose to send, which also marks the message `$mdnsent` on the server.
//!
//! Cyrus 3.6 speaks the draft before the RFC: it refuses `identityId` and `onSuccessUpdateEmail`
//! (it sends from the account's address and sets `$mdnsent` itself) and reads `sendingMode` as
//! RFC 8098 spells it, which the RFC's case-insensitive tokens allow everywhere.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{json, Value};

use super::actions::set_error_advice;
use super::malformed;
use crate::jmap::request::{Call, Request};
use crate::jmap::set::SetError;
use crate::mail::model::keyword;
use crate::mail::MailError;

/// Adds the `MDN/send` of a receipt for `email_id` to `request`: as RFC 9007 has it when
/// `identity_id` is given, else in Cyrus's older form.
pub fn send_request(
    request: &mut Request,
    account: &str,
    identity_id: Option<&str>,
    email_id: &str,
    subject: &str,
) -> Call {
    let mut args = json!({
        "accountId": account,
        "send": { "r": {
            "forEmailId": email_id,
            "subject": format!("Read: {subject}"),
            "textBody": format!("Your message \"{subject}\" was displayed on the recipient's screen. This says nothing of whether it was read or understood."),
            "reportingUA": "Petrel",
            // The user clicked "Send receipt" for this message: manual action, sent manually.
            "disposition": { "actionMode": "manual-action", "sendingMode": "MDN-sent-manually", "type": "displayed" },
        } },
    });
    if let Some(id) = identity_id {
        args["identityId"] = json!(id);
        args["onSuccessUpdateEmail"] = json!({ "#r": { format!("keywords/{}", keyword::MDN_SENT): true } });
    }
    request.call("MDN/send", args)
}

/// Reads an `MDN/send` answer: `Ok` when the receipt was sent.
pub fn parse_sent(value: Value) -> Result<(), MailError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Answer {
        #[serde(default)]
        sent: Option<BTreeMap<String, Value>>,
        #[serde(default)]
        not_sent: Option<BTreeMap<String, SetError>>,
    }
    let answer: Answer = serde_json::from_value(value).map_err(|e| MailError::from(malformed("MDN/send", e)))?;
    if let Some(e) = answer.not_sent.as_ref().and_then(|n| n.values().next()) {
        return Err(MailError::Refused { what: "send the read receipt".into(), reason: set_error_advice(e) });
    }
    if answer.sent.is_some_and(|s| s.contains_key("r")) {
        Ok(())
    } else {
        Err(MailError::from(malformed("MDN/send", "the receipt is neither sent nor refused")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sent_refused_and_malformed_answers() {
        assert!(parse_sent(json!({"accountId": "a", "sent": {"r": {"finalRecipient": "rfc822; demo@example.org"}}}))
            .is_ok());
        let refused = parse_sent(json!({"accountId": "a", "notSent": {"r": {"type": "forbidden"}}}));
        assert!(matches!(refused, Err(MailError::Refused { .. })), "{refused:?}");
        assert!(parse_sent(json!({"accountId": "a", "sent": {}})).is_err());
        assert!(parse_sent(json!({"sent": 5})).is_err());
    }

    #[test]
    fn the_request_marks_the_message_when_sent() {
        let mut request = Request::new();
        send_request(&mut request, "acc", Some("I1"), "M1", "Q3 plan");
        let args = &request.calls()[0].1;
        assert_eq!(args["send"]["r"]["forEmailId"], "M1");
        assert_eq!(args["send"]["r"]["disposition"]["type"], "displayed");
        assert_eq!(args["onSuccessUpdateEmail"]["#r"]["keywords/$mdnsent"], true);
        assert_eq!(args["identityId"], "I1");
        let mut older = Request::new();
        send_request(&mut older, "acc", None, "M1", "Q3 plan");
        let args = &older.calls()[0].1;
        assert!(args.get("identityId").is_none() && args.get("onSuccessUpdateEmail").is_none());
    }
}
