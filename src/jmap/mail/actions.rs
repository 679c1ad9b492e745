//! The user's actions on messages (flag, move, copy, delete) as `Email/set` patches, and the
//! reading of their answers.

use serde_json::{json, Map, Value};

use crate::jmap::set::SetResponse;
use crate::jmap::{Call, Request};
use crate::mail::action::Action;
use crate::mail::MailError;

/// Adds the calls that carry out `action` (mailbox ids already resolved to the server's).
pub fn action_request(request: &mut Request, account: &str, action: &Action) -> Call {
    let patch_all = |patch: Value, ids: &[String]| -> Value {
        let update: Map<String, Value> = ids.iter().map(|id| (id.clone(), patch.clone())).collect();
        json!({ "accountId": account, "update": update })
    };
    match action {
        Action::SetKeyword { ids, keyword, on } => {
            let value = if *on { json!(true) } else { Value::Null };
            request.call("Email/set", patch_all(json!({ format!("keywords/{}", pointer_escape(keyword)): value }), ids))
        }
        Action::Move { ids, from: Some(from), to } => request.call(
            "Email/set",
            patch_all(json!({ format!("mailboxIds/{}", pointer_escape(from)): null, format!("mailboxIds/{}", pointer_escape(to)): true }), ids),
        ),
        Action::Move { ids, from: None, to } => request.call("Email/set", patch_all(json!({ "mailboxIds": { to.clone(): true } }), ids)),
        Action::Copy { ids, to } => request.call("Email/set", patch_all(json!({ format!("mailboxIds/{}", pointer_escape(to)): true }), ids)),
        Action::Destroy { ids } => request.call("Email/set", json!({ "accountId": account, "destroy": ids })),
        Action::CreateMailbox { local_id, name, parent_id } => request.call(
            "Mailbox/set",
            json!({ "accountId": account, "create": { local_id.clone(): { "name": name, "parentId": parent_id } } }),
        ),
        Action::RenameMailbox { id, name } => {
            request.call("Mailbox/set", json!({ "accountId": account, "update": { id.clone(): { "name": name } } }))
        }
        Action::DestroyMailbox { id } => {
            request.call("Mailbox/set", json!({ "accountId": account, "destroy": [id], "onDestroyRemoveEmails": false }))
        }
    }
}

/// JSON Pointer escaping for patch paths (RFC 6901): keywords may hold `/` or `~`.
pub(super) fn pointer_escape(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

/// Reads the answer to an action: `Refused` with the server's reason when any part failed.
pub fn parse_action(action: &Action, value: Value) -> Result<Option<String>, MailError> {
    let set = SetResponse::parse(value)?;
    let refusal = set.not_created.values().chain(set.not_updated.values()).chain(set.not_destroyed.values()).next();
    if let Some(error) = refusal {
        return Err(MailError::Refused { what: action.describe(), reason: set_error_advice(error) });
    }
    Ok(match action {
        Action::CreateMailbox { local_id, .. } => set.created_id(local_id).map(str::to_owned),
        _ => None,
    })
}

pub(super) fn set_error_advice(error: &crate::jmap::set::SetError) -> String {
    match error.kind.as_str() {
        "notFound" => "it no longer exists on the server".to_owned(),
        "forbidden" => "you do not have permission".to_owned(),
        "mailboxHasEmail" => "the folder is not empty".to_owned(),
        "mailboxHasChild" => "the folder has folders inside it".to_owned(),
        "alreadyExists" => "a folder with that name already exists".to_owned(),
        "overQuota" => "the mailbox is full".to_owned(),
        "tooManyKeywords" | "tooManyMailboxes" => "the server's limit was reached".to_owned(),
        _ => error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_are_idempotent_patches() {
        let mut request = Request::new();
        let mv = Action::Move { ids: vec!["M1".into()], from: Some("in".into()), to: "a/b".into() };
        action_request(&mut request, "acc", &mv);
        assert_eq!(request.calls()[0].1["update"]["M1"], json!({ "mailboxIds/in": null, "mailboxIds/a~1b": true }));
        let refused = parse_action(&mv, json!({ "notUpdated": { "M1": { "type": "notFound" } } }));
        assert_eq!(
            refused,
            Err(MailError::Refused {
                what: "move 1 message".into(),
                reason: "it no longer exists on the server".into()
            })
        );
    }
}
