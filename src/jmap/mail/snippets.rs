//! Search snippets (`SearchSnippet/get`): the matching words of each message found.

use serde::Deserialize;
use serde_json::Value;

use crate::jmap::JmapError;
use crate::mail::model::{null_as_default, Snippet};

use super::*;

pub fn parse_snippets(value: Value) -> Result<Vec<Snippet>, JmapError> {
    #[derive(Deserialize)]
    struct List {
        #[serde(default, deserialize_with = "null_as_default")]
        list: Vec<Snippet>,
    }
    Ok(serde_json::from_value::<List>(value).map_err(|e| malformed("SearchSnippet/get", e))?.list)
}
