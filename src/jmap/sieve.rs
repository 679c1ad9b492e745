//! SieveScript: RFC 9661 (`urn:ietf:params:jmap:sieve`), and Cyrus's namespace before it
//! (`https://cyrusimap.org/ns/jmap/sieve`, offered with `jmap_nonstandard_extensions`), which has
//! the same methods. A script's text is a blob; moving it is [`super::sieve_io`]'s (wasm).

use serde::Deserialize;
use serde_json::{json, Value};

use super::request::GetResponse;
use super::set::SetResponse;
use super::{capability, Call, JmapError, Request, Session};
use crate::mail::filters::{ScriptProblem, SieveCapabilities};

/// The Sieve capability this session offers, RFC 9661's first, and its account.
pub fn offered(session: &Session) -> Option<(&'static str, String)> {
    [capability::SIEVE, capability::CYRUS_SIEVE]
        .into_iter()
        .find(|c| session.has_capability(c))
        .and_then(|c| Some((c, session.primary_account(c).ok()?.to_owned())))
}

/// What the account's Sieve offers, from its account capability (RFC 9661 §2: `sieveExtensions`,
/// `maxNumberRedirects`; Cyrus says `maxRedirects`).
pub fn capabilities(session: &Session, using: &str, account: &str) -> SieveCapabilities {
    let Some(caps) = session.accounts.get(account).and_then(|a| a.account_capabilities.get(using)) else {
        return SieveCapabilities::default();
    };
    let extensions = caps["sieveExtensions"]
        .as_array()
        .map(|list| list.iter().filter_map(|e| e.as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    let max_redirects = caps["maxNumberRedirects"].as_u64().or(caps["maxRedirects"].as_u64());
    SieveCapabilities { extensions, max_redirects }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScriptInfo {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    pub blob_id: String,
    #[serde(default)]
    pub is_active: bool,
}

impl ScriptInfo {
    pub fn name(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.id)
    }
}

pub fn get_request(req: &mut Request, account: &str) -> Call {
    req.call("SieveScript/get", json!({ "accountId": account, "ids": null }))
}

pub fn parse_scripts(value: Value) -> Result<Vec<ScriptInfo>, JmapError> {
    Ok(GetResponse::<ScriptInfo>::parse("SieveScript/get", value)?.list)
}

/// Stores `blob_id` as the script (a new one named `name` when `existing` is `None`) and makes it
/// the active one.
pub fn set_request(req: &mut Request, account: &str, existing: Option<&str>, name: &str, blob_id: &str) -> Call {
    let (change, active) = match existing {
        Some(id) => (json!({ "update": { id: { "blobId": blob_id } } }), id.to_owned()),
        None => (json!({ "create": { "petrel": { "name": name, "blobId": blob_id } } }), "#petrel".to_owned()),
    };
    let mut args = json!({ "accountId": account, "onSuccessActivateScript": active });
    if let (Some(args), Some(change)) = (args.as_object_mut(), change.as_object()) {
        args.extend(change.clone());
    }
    req.call("SieveScript/set", args)
}

/// The server's refusal of a script, in its words where it gave some.
fn problem(kind: &str, description: Option<&str>) -> ScriptProblem {
    let message = description.map(|d| d.trim().to_owned()).filter(|d| !d.is_empty()).unwrap_or_else(|| match kind {
        "invalidScript" => "the server says the script is not valid Sieve".to_owned(),
        "overQuota" => "the server keeps no more scripts for this account".to_owned(),
        other => format!("the server refused the script ({other})"),
    });
    ScriptProblem::from_message(&message)
}

/// A SieveScript/set answer: `Ok(Err(problem))` when the server refused the script itself.
pub fn parse_set(value: Value) -> Result<Result<(), ScriptProblem>, JmapError> {
    let set = SetResponse::parse(value)?;
    Ok(match set.not_created.values().chain(set.not_updated.values()).next() {
        Some(e) => Err(problem(&e.kind, e.description.as_deref())),
        None => Ok(()),
    })
}

pub fn validate_request(req: &mut Request, account: &str, blob_id: &str) -> Call {
    req.call("SieveScript/validate", json!({ "accountId": account, "blobId": blob_id }))
}

/// A SieveScript/validate answer: `None` when the script is valid.
pub fn parse_validate(value: Value) -> Result<Option<ScriptProblem>, JmapError> {
    #[derive(Deserialize)]
    struct Problem {
        #[serde(rename = "type")]
        kind: String,
        #[serde(default)]
        description: Option<String>,
    }
    #[derive(Deserialize)]
    struct Answer {
        #[serde(default)]
        error: Option<Problem>,
    }
    let answer: Answer = serde_json::from_value(value)
        .map_err(|e| JmapError::Protocol(format!("SieveScript/validate response is malformed ({e})")))?;
    Ok(answer.error.map(|p| problem(&p.kind, p.description.as_deref())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_scripts_and_refusals_from_both_servers() {
        let cyrus = json!({"state": "88", "notFound": [], "accountId": "a", "list": [
            {"id": "u1", "name": "petrel", "isActive": true, "blobId": "G7"}]});
        assert_eq!(
            parse_scripts(cyrus).unwrap(),
            vec![ScriptInfo { id: "u1".into(), name: Some("petrel".into()), blob_id: "G7".into(), is_active: true }]
        );
        assert!(parse_scripts(json!({"list": [{"id": 4}]})).is_err());

        let stalwart = json!({"accountId": "c", "error": {"type": "invalidScript",
            "description": "Expected token \"';'\" but found \"}\" at line 3, column 27."}});
        let problem = parse_validate(stalwart).unwrap().unwrap();
        assert_eq!(problem.line, Some(3));
        let cyrus =
            json!({"accountId": "a", "error": {"type": "invalidScript", "description": "line 3: syntax error\r\n"}});
        assert_eq!(
            parse_validate(cyrus).unwrap(),
            Some(ScriptProblem { line: Some(3), message: "syntax error".into() })
        );
        assert_eq!(parse_validate(json!({"accountId": "a", "error": null})).unwrap(), None);
        assert_eq!(parse_validate(json!({"accountId": "a"})).unwrap(), None);

        let refused = json!({"accountId": "c", "notCreated": {"petrel": {"type": "invalidScript",
            "description": "Undeclared capability 'mailbox' at line 2, column 83."}}});
        assert_eq!(parse_set(refused).unwrap().unwrap_err().line, Some(2));
        let quota = json!({"accountId": "c", "notUpdated": {"u1": {"type": "overQuota"}}});
        assert_eq!(parse_set(quota).unwrap().unwrap_err().message, "the server keeps no more scripts for this account");
        assert_eq!(parse_set(json!({"accountId": "c", "updated": {"u1": null}})).unwrap(), Ok(()));
    }

    #[test]
    fn a_new_script_is_created_and_activated_in_one_call() {
        let mut req = Request::new();
        set_request(&mut req, "a", None, "petrel", "B1");
        let args = &req.calls()[0].1;
        assert_eq!(args["create"]["petrel"], json!({"name": "petrel", "blobId": "B1"}));
        assert_eq!(args["onSuccessActivateScript"], "#petrel");
        let mut req = Request::new();
        set_request(&mut req, "a", Some("u1"), "petrel", "B2");
        let args = &req.calls()[0].1;
        assert_eq!(args["update"]["u1"], json!({"blobId": "B2"}));
        assert_eq!(args["onSuccessActivateScript"], "u1");
    }
}
