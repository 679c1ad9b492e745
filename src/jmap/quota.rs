//! Quota/get: RFC 9425 (`urn:ietf:params:jmap:quota`), and Cyrus's older extension
//! (`https://cyrusimap.org/ns/jmap/quota`, offered with `jmap_nonstandard_extensions`), whose
//! objects say `total` where RFC 9425 says `hardLimit`.

use serde::Deserialize;
use serde_json::Value;

use super::request::GetResponse;
use super::JmapError;
use crate::mail::quota::Quota;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct QuotaObject {
    #[serde(default)]
    resource_type: Option<String>,
    #[serde(default)]
    types: Option<Vec<String>>,
    used: u64,
    #[serde(default)]
    hard_limit: Option<u64>,
    #[serde(default)]
    total: Option<u64>,
}

/// The mail storage quota in a Quota/get answer: the first one counting octets (not messages)
/// that applies to mail. `None` when the server sets no such limit.
pub fn parse_quota(value: Value) -> Result<Option<Quota>, JmapError> {
    let list = GetResponse::<QuotaObject>::parse("Quota/get", value)?.list;
    Ok(list.into_iter().find_map(|q| {
        // Cyrus's objects have neither field: one storage quota per account.
        let octets = q.resource_type.as_deref().is_none_or(|t| t == "octets");
        let mail = q.types.as_ref().is_none_or(|t| t.is_empty() || t.iter().any(|t| t == "Email"));
        let limit = q.hard_limit.or(q.total)?;
        (octets && mail && limit > 0).then_some(Quota { used: q.used, limit })
    }))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn reads_rfc_9425_and_cyrus_objects() {
        let rfc = json!({"accountId": "a", "state": "1", "notFound": [], "list": [
            {"id": "count", "resourceType": "count", "scope": "account", "used": 5, "hardLimit": 10, "types": ["Email"]},
            {"id": "cal", "resourceType": "octets", "scope": "account", "used": 1, "hardLimit": 9, "types": ["Calendar"]},
            {"id": "mail", "resourceType": "octets", "scope": "account", "used": 2048, "hardLimit": 4096, "types": ["Email", "SieveScript"]},
        ]});
        assert_eq!(parse_quota(rfc).unwrap(), Some(Quota { used: 2048, limit: 4096 }));
        let cyrus = json!({"accountId": "a", "state": "1", "notFound": [], "list": [{"id": "mail", "used": 7, "total": 102400}]});
        assert_eq!(parse_quota(cyrus).unwrap(), Some(Quota { used: 7, limit: 102400 }));
    }

    #[test]
    fn no_limit_is_none_and_junk_is_an_error() {
        let none = json!({"accountId": "a", "state": "1", "notFound": [], "list": []});
        assert_eq!(parse_quota(none).unwrap(), None);
        let unlimited = json!({"accountId": "a", "state": "1", "notFound": [], "list": [{"id": "m", "used": 7}]});
        assert_eq!(parse_quota(unlimited).unwrap(), None);
        let junk = json!({"accountId": "a", "state": "1", "notFound": [], "list": [{"id": "m", "used": "lots"}]});
        assert!(parse_quota(junk).is_err());
    }
}
