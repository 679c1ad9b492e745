//! Read receipts over JMAP (RFC 9007, `urn:ietf:params:jmap:mdn`): `MDN/send` of a "displayed"
//! receipt the user chose to send, which also marks the message `$mdnsent` on the server; and the
//! search for receipts that came back (plain RFC 8621 mail: no MDN capability needed).
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
use crate::mail::model::{keyword, BodyPart};
use crate::mail::receipts::{ReportMail, MAX_REPORT_BYTES};
use crate::mail::MailError;

/// How many reports since a message was sent are read for its receipts.
const MAX_REPORTS: u32 = 50;
/// How much of the mail since then is looked through as well.
const MAX_RECENT: u32 = 100;

/// Adds the search for read receipts since `after`: mail whose Content-Type says it is a
/// disposition notification (a header filter, which Cyrus matches within the value; Stalwart 0.16
/// matches no header filter at all), and the first mail since then, whose parts show it. Returns
/// the calls: each query with its fetch, the header filter's first.
pub fn reports_request(request: &mut Request, account: &str, after: &str) -> Vec<(Call, Call)> {
    let by_header = json!({ "header": ["Content-Type", "disposition-notification"], "after": after });
    [(by_header, MAX_REPORTS), (json!({ "after": after }), MAX_RECENT)]
        .into_iter()
        .map(|(filter, limit)| {
            let query = request.call(
                "Email/query",
                json!({
                    "accountId": account,
                    "filter": filter,
                    // Receipts come soon after the mail: the oldest since then first.
                    "sort": [{ "property": "receivedAt", "isAscending": true }],
                    "limit": limit,
                }),
            );
            let properties = ["id", "receivedAt", "attachments"];
            let get = request.call(
                "Email/get",
                json!({ "accountId": account, "#ids": query.result("/ids"), "properties": properties }),
            );
            (query, get)
        })
        .collect()
}

/// Reads the Email/get of [`reports_request`]: each mail with its report part (mail without
/// one, or with one too large to be a report, is left out).
pub fn parse_reports(value: Value) -> Result<Vec<ReportMail>, MailError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Mail {
        id: String,
        #[serde(default)]
        received_at: Option<String>,
        #[serde(default)]
        attachments: Option<Vec<BodyPart>>,
    }
    #[derive(Deserialize)]
    struct Answer {
        list: Vec<Mail>,
    }
    let answer: Answer = serde_json::from_value(value).map_err(|e| MailError::from(malformed("Email/get", e)))?;
    Ok(answer
        .list
        .into_iter()
        .filter_map(|mail| {
            let report = mail.attachments.unwrap_or_default().into_iter().find(|p| {
                let t = p.content_type.to_ascii_lowercase();
                // RFC 6533's form for internationalised addresses carries the same fields.
                (t == "message/disposition-notification" || t == "message/global-disposition-notification")
                    && p.blob_id.is_some()
                    && p.size <= MAX_REPORT_BYTES
            })?;
            Some(ReportMail { email_id: mail.id, received_at: mail.received_at.unwrap_or_default(), report })
        })
        .collect())
}

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
    fn reports_keep_their_report_part_only() {
        let get = json!({"accountId": "a", "list": [
            {"id": "R1", "receivedAt": "2026-12-06T10:00:00Z", "attachments": [
                {"partId": "2", "blobId": "B2", "size": 145, "type": "message/disposition-notification"}]},
            {"id": "R2", "receivedAt": "2026-12-06T10:01:00Z", "attachments": [
                {"partId": "2", "blobId": "B3", "size": 999999, "type": "message/disposition-notification"}]},
            {"id": "R3", "attachments": null},
        ]});
        let reports = parse_reports(get).expect("parsed");
        assert_eq!(reports.len(), 1, "too large or without a report part: left out");
        assert_eq!((reports[0].email_id.as_str(), reports[0].report.blob_id.as_deref()), ("R1", Some("B2")));
        assert!(parse_reports(json!({"list": 3})).is_err());
        let mut request = Request::new();
        assert_eq!(reports_request(&mut request, "acc", "2026-12-01T00:00:00Z").len(), 2);
        assert_eq!(request.calls()[0].1["filter"]["header"][1], "disposition-notification");
        assert_eq!(request.calls()[2].1["filter"]["after"], "2026-12-01T00:00:00Z");
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
