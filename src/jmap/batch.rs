//! Splitting one logical request into HTTP requests that respect the server's limits, and merging
//! the answers back so the caller sees one response under its own call ids.
//!
//! - A `*/get` with more explicit ids than `maxObjectsInGet`, or a `*/set` touching more objects than
//!   `maxObjectsInSet`, becomes several calls (`c3.0`, `c3.1`, ...) whose results are merged.
//! - Calls linked by result references stay in one HTTP request (a reference cannot cross requests).
//! - Requests are packed up to `maxCallsInRequest` calls and `maxSizeRequest` bytes, in order, and
//!   must be sent one after another (later calls may depend on earlier ones).

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::request::{Invocation, Request, Response};
use super::session::CoreLimits;
use super::JmapError;

/// The limits that shape batches, from the session's core capability.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_calls: usize,
    pub max_objects_in_get: usize,
    pub max_objects_in_set: usize,
    pub max_size_request: usize,
}

impl From<&CoreLimits> for Limits {
    fn from(core: &CoreLimits) -> Self {
        // A server advertising 0 would make every request impossible: treat it as 1.
        Limits {
            max_calls: core.max_calls_in_request.max(1) as usize,
            max_objects_in_get: core.max_objects_in_get.max(1) as usize,
            max_objects_in_set: core.max_objects_in_set.max(1) as usize,
            max_size_request: core.max_size_request.max(1024) as usize,
        }
    }
}

impl Limits {
    /// The smaller of these limits and `cap`, field by field.
    pub fn capped(self, cap: Option<Limits>) -> Limits {
        let Some(cap) = cap else { return self };
        Limits {
            max_calls: self.max_calls.min(cap.max_calls).max(1),
            max_objects_in_get: self.max_objects_in_get.min(cap.max_objects_in_get).max(1),
            max_objects_in_set: self.max_objects_in_set.min(cap.max_objects_in_set).max(1),
            max_size_request: self.max_size_request.min(cap.max_size_request),
        }
    }
}

/// How one original call was sent: under its own id, or in parts.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Sent {
    Whole,
    Parts(usize),
}

/// The HTTP requests to send, in order, and how to put their answers back together.
#[derive(Debug, Clone)]
pub struct Plan {
    pub requests: Vec<Request>,
    originals: Vec<(Invocation, Sent)>,
}

fn limit_error(limit: &str, detail: String) -> JmapError {
    JmapError::Request { kind: "limit".into(), limit: Some(limit.into()), detail }
}

/// The call ids an invocation's `#` arguments refer to.
fn referenced_calls(args: &Value) -> Vec<String> {
    let Some(map) = args.as_object() else { return Vec::new() };
    map.iter()
        .filter(|(k, _)| k.starts_with('#'))
        .filter_map(|(_, v)| v.get("resultOf").and_then(Value::as_str).map(str::to_owned))
        .collect()
}

fn method_kind(name: &str) -> &str {
    name.rsplit('/').next().unwrap_or("")
}

/// Splits `get` ids or `set` operations into parts within the object limits.
fn split_call(call: &Invocation, limits: &Limits, referenced: bool) -> Result<Vec<Value>, JmapError> {
    let Invocation(name, args, _) = call;
    match method_kind(name) {
        "get" => {
            let Some(ids) = args.get("ids").and_then(Value::as_array) else { return Ok(vec![args.clone()]) };
            if ids.len() <= limits.max_objects_in_get {
                return Ok(vec![args.clone()]);
            }
            if referenced {
                return Err(limit_error(
                    "maxObjectsInGet",
                    format!("{name} asks for {} objects and its result is referenced", ids.len()),
                ));
            }
            Ok(ids
                .chunks(limits.max_objects_in_get)
                .map(|chunk| {
                    let mut part = args.clone();
                    part["ids"] = Value::Array(chunk.to_vec());
                    part
                })
                .collect())
        }
        "set" => {
            let count = |key: &str| match args.get(key) {
                Some(Value::Object(m)) => m.len(),
                Some(Value::Array(a)) => a.len(),
                _ => 0,
            };
            let total = count("create") + count("update") + count("destroy");
            if total <= limits.max_objects_in_set {
                return Ok(vec![args.clone()]);
            }
            if referenced || args.get("ifInState").is_some_and(|v| !v.is_null()) {
                return Err(limit_error(
                    "maxObjectsInSet",
                    format!("{name} changes {total} objects and cannot be split (ifInState or a reference to it)"),
                ));
            }
            let mut ops: Vec<(&str, Value)> = Vec::new();
            if let Some(Value::Object(m)) = args.get("create") {
                ops.extend(creation_order(m).into_iter().map(|k| ("create", json!([k, m[k]]))));
            }
            if let Some(Value::Object(m)) = args.get("update") {
                ops.extend(m.iter().map(|(k, v)| ("update", json!([k, v]))));
            }
            if let Some(Value::Array(ids)) = args.get("destroy") {
                ops.extend(ids.iter().map(|id| ("destroy", id.clone())));
            }
            Ok(ops
                .chunks(limits.max_objects_in_set)
                .map(|chunk| {
                    let mut part = args.clone();
                    let obj = part.as_object_mut().expect("set arguments are an object");
                    obj.remove("create");
                    obj.remove("update");
                    obj.remove("destroy");
                    for (key, op) in chunk {
                        match *key {
                            "destroy" => {
                                let list = obj.entry("destroy").or_insert_with(|| json!([]));
                                list.as_array_mut().expect("destroy list").push(op.clone());
                            }
                            _ => {
                                let map = obj.entry(*key).or_insert_with(|| json!({}));
                                map.as_object_mut()
                                    .expect("operation map")
                                    .insert(op[0].as_str().unwrap_or_default().to_owned(), op[1].clone());
                            }
                        }
                    }
                    part
                })
                .collect())
        }
        _ => Ok(vec![args.clone()]),
    }
}

/// Creation ids in an order where each comes after those it refers to (`"#parent"`), so a split
/// never sends a reference before its target exists. Cycles keep their given order.
fn creation_order(creates: &Map<String, Value>) -> Vec<&String> {
    fn refers_to(value: &Value, id: &str) -> bool {
        match value {
            Value::String(s) => s.strip_prefix('#') == Some(id),
            Value::Array(a) => a.iter().any(|v| refers_to(v, id)),
            Value::Object(o) => o.iter().any(|(k, v)| k.strip_prefix('#') == Some(id) || refers_to(v, id)),
            _ => false,
        }
    }
    let mut pending: Vec<&String> = creates.keys().collect();
    let mut ordered = Vec::with_capacity(pending.len());
    while !pending.is_empty() {
        let ready = pending
            .iter()
            .position(|k| !pending.iter().any(|other| other != k && refers_to(&creates[*k], other)))
            .unwrap_or(0);
        ordered.push(pending.remove(ready));
    }
    ordered
}

/// Plans the HTTP requests for `request` under `limits`.
pub fn plan(request: &Request, limits: &Limits) -> Result<Plan, JmapError> {
    let calls = request.calls();
    let index_of: BTreeMap<&str, usize> = calls.iter().enumerate().map(|(i, c)| (c.2.as_str(), i)).collect();

    // Groups: a call joins the group of every earlier call it references.
    let mut group: Vec<usize> = (0..calls.len()).collect();
    fn root(group: &mut [usize], mut i: usize) -> usize {
        while group[i] != i {
            group[i] = group[group[i]];
            i = group[i];
        }
        i
    }
    let mut referenced = vec![false; calls.len()];
    for (i, call) in calls.iter().enumerate() {
        for target in referenced_calls(&call.1) {
            let Some(&t) = index_of.get(target.as_str()) else {
                return Err(JmapError::Protocol(format!("call {} refers to unknown call {target}", call.2)));
            };
            referenced[t] = true;
            let (a, b) = (root(&mut group, i), root(&mut group, t));
            group[a.max(b)] = a.min(b);
        }
    }

    // Expand each call into its parts, keeping group order.
    let mut originals = Vec::with_capacity(calls.len());
    let mut units: Vec<(usize, Vec<Invocation>)> = Vec::new(); // (group root, invocations)
    for (i, call) in calls.iter().enumerate() {
        let parts = split_call(call, limits, referenced[i])?;
        let sent = if parts.len() == 1 { Sent::Whole } else { Sent::Parts(parts.len()) };
        let invocations: Vec<Invocation> = if parts.len() == 1 {
            vec![Invocation(call.0.clone(), parts.into_iter().next().unwrap_or(Value::Null), call.2.clone())]
        } else {
            parts
                .into_iter()
                .enumerate()
                .map(|(p, args)| Invocation(call.0.clone(), args, format!("{}.{p}", call.2)))
                .collect()
        };
        let g = root(&mut group, i);
        match units.last_mut() {
            Some((last_group, list)) if *last_group == g => list.extend(invocations),
            _ => units.push((g, invocations)),
        }
        originals.push((call.clone(), sent));
    }
    // A group interleaved with others (a reference back past unrelated calls) is merged into one unit.
    let mut merged: Vec<(usize, Vec<Invocation>)> = Vec::new();
    for (g, list) in units {
        if let Some(pos) = merged.iter().position(|(mg, _)| *mg == g) {
            let tail: Vec<(usize, Vec<Invocation>)> = merged.drain(pos + 1..).collect();
            for (_, l) in tail {
                merged[pos].1.extend(l);
            }
            merged[pos].1.extend(list);
        } else {
            merged.push((g, list));
        }
    }

    let using = request.using_list();
    let envelope = |calls: &[Invocation]| Request::from_parts(using.clone(), calls.to_vec());
    let mut requests: Vec<Request> = Vec::new();
    let mut current: Vec<Invocation> = Vec::new();
    for (_, unit) in merged {
        // Parts of one split call may go out in separate requests; other units travel whole.
        let chunks: Vec<Vec<Invocation>> = if unit.len() > limits.max_calls && unit.iter().all(|c| c.2.contains('.')) {
            unit.chunks(limits.max_calls).map(<[Invocation]>::to_vec).collect()
        } else {
            vec![unit]
        };
        for chunk in chunks {
            if chunk.len() > limits.max_calls {
                return Err(limit_error(
                    "maxCallsInRequest",
                    format!("{} calls are linked by references", chunk.len()),
                ));
            }
            let alone = envelope(&chunk).to_json().len();
            if alone > limits.max_size_request {
                return Err(limit_error(
                    "maxSizeRequest",
                    format!("a request of {alone} bytes cannot be made smaller"),
                ));
            }
            let mut candidate = current.clone();
            candidate.extend(chunk.iter().cloned());
            let fits =
                candidate.len() <= limits.max_calls && envelope(&candidate).to_json().len() <= limits.max_size_request;
            if fits {
                current = candidate;
            } else {
                requests.push(envelope(&current));
                current = chunk;
            }
        }
    }
    if !current.is_empty() || requests.is_empty() {
        requests.push(envelope(&current));
    }
    Ok(Plan { requests, originals })
}

impl Plan {
    /// Puts the responses to [`Plan::requests`] (same order) back together as one response.
    pub fn merge(&self, responses: Vec<Response>) -> Result<Response, JmapError> {
        let session_state = responses.last().map(|r| r.session_state.clone()).unwrap_or_default();
        let mut by_id: BTreeMap<String, Vec<Invocation>> = BTreeMap::new();
        for response in responses {
            for inv in response.method_responses {
                by_id.entry(inv.2.clone()).or_default().push(inv);
            }
        }
        let mut out = Vec::new();
        for (call, sent) in &self.originals {
            match sent {
                Sent::Whole => out.extend(by_id.remove(&call.2).unwrap_or_default()),
                Sent::Parts(n) => {
                    let mut parts = Vec::with_capacity(*n);
                    for p in 0..*n {
                        let answers = by_id.remove(&format!("{}.{p}", call.2)).unwrap_or_default();
                        if let Some(err) = answers.iter().find(|a| a.0 == "error") {
                            // One failed part fails the call, as the caller sent one call.
                            parts.clear();
                            out.push(Invocation("error".into(), err.1.clone(), call.2.clone()));
                            break;
                        }
                        match answers.into_iter().find(|a| a.0 == call.0) {
                            Some(answer) => parts.push(answer.1),
                            None => return Err(JmapError::Protocol(format!("no answer for part {p} of {}", call.2))),
                        }
                    }
                    if !parts.is_empty() {
                        out.push(Invocation(call.0.clone(), merge_parts(method_kind(&call.0), parts), call.2.clone()));
                    }
                }
            }
        }
        Ok(Response { method_responses: out, session_state, created_ids: None })
    }
}

/// Joins the results of a split get or set.
fn merge_parts(kind: &str, parts: Vec<Value>) -> Value {
    let mut merged = Map::new();
    let last_index = parts.len().saturating_sub(1);
    for (i, part) in parts.into_iter().enumerate() {
        let Value::Object(map) = part else { continue };
        for (key, value) in map {
            let concat = matches!((kind, key.as_str()), ("get", "list" | "notFound") | ("set", "destroyed"));
            let union = kind == "set"
                && matches!(key.as_str(), "created" | "updated" | "notCreated" | "notUpdated" | "notDestroyed");
            if concat {
                let entry = merged.entry(key).or_insert_with(|| json!([]));
                if let (Some(list), Value::Array(more)) = (entry.as_array_mut(), value) {
                    list.extend(more);
                }
            } else if union {
                let entry = merged.entry(key).or_insert_with(|| json!({}));
                if let (Some(map), Value::Object(more)) = (entry.as_object_mut(), value) {
                    map.extend(more);
                }
            } else if key == "oldState" {
                merged.entry(key).or_insert(value);
            } else if i == last_index || !merged.contains_key(&key) {
                merged.insert(key, value);
            }
        }
    }
    Value::Object(merged)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jmap::capability;

    fn limits(calls: usize, get: usize, set: usize, size: usize) -> Limits {
        Limits { max_calls: calls, max_objects_in_get: get, max_objects_in_set: set, max_size_request: size }
    }

    fn ids(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("M{i}")).collect()
    }

    #[test]
    fn small_requests_go_out_as_they_are() {
        let mut r = Request::new().using(capability::MAIL);
        r.call("Mailbox/get", json!({"accountId": "a"}));
        let plan = plan(&r, &limits(50, 10, 10, 1 << 20)).unwrap();
        assert_eq!(plan.requests.len(), 1);
        assert_eq!(plan.requests[0].to_json(), r.to_json());
    }

    #[test]
    fn too_many_calls_are_spread_over_requests_in_order() {
        let mut r = Request::new();
        for i in 0..7 {
            r.call("Core/echo", json!({"n": i}));
        }
        let plan = plan(&r, &limits(3, 10, 10, 1 << 20)).unwrap();
        let sizes: Vec<usize> = plan.requests.iter().map(Request::len).collect();
        assert_eq!(sizes, [3, 3, 1]);
        let order: Vec<i64> =
            plan.requests.iter().flat_map(|q| q.calls().iter().map(|c| c.1["n"].as_i64().unwrap())).collect();
        assert_eq!(order, [0, 1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn referenced_calls_stay_together() {
        let mut r = Request::new();
        r.call("Core/echo", json!({}));
        let q = r.call("Email/query", json!({"accountId": "a"}));
        r.call("Email/get", json!({"accountId": "a", "#ids": q.result("/ids")}));
        let plan = plan(&r, &limits(2, 10, 10, 1 << 20)).unwrap();
        let sizes: Vec<usize> = plan.requests.iter().map(Request::len).collect();
        assert_eq!(sizes, [1, 2], "query and get must share a request");
        let mut chain = Request::new();
        let a = chain.call("Email/query", json!({}));
        let b = chain.call("Email/get", json!({"#ids": a.result("/ids")}));
        chain.call("Thread/get", json!({"#ids": b.result("/list/*/threadId")}));
        assert!(
            matches!(plan_err(&chain, limits(2, 10, 10, 1 << 20)), JmapError::Request { limit: Some(l), .. } if l == "maxCallsInRequest")
        );
    }

    fn plan_err(r: &Request, l: Limits) -> JmapError {
        plan(r, &l).unwrap_err()
    }

    #[test]
    fn big_gets_are_split_and_merged_back() {
        let mut r = Request::new();
        let get = r.call("Email/get", json!({"accountId": "a", "ids": ids(25), "properties": ["subject"]}));
        let plan = plan(&r, &limits(2, 10, 10, 1 << 20)).unwrap();
        let parts: Vec<Vec<String>> = plan
            .requests
            .iter()
            .flat_map(|q| q.calls().iter().map(|c| c.2.clone()).collect::<Vec<_>>().into_iter().map(|id| vec![id]))
            .collect();
        assert_eq!(parts.concat(), ["c0.0", "c0.1", "c0.2"]);
        assert_eq!(plan.requests.len(), 2, "two calls per request");
        let answer = |part: &str, range: std::ops::Range<usize>| {
            let list: Vec<Value> = range.map(|i| json!({"id": format!("M{i}")})).collect();
            Invocation("Email/get".into(), json!({"state": part, "list": list, "notFound": []}), part.into())
        };
        let responses = vec![
            Response {
                method_responses: vec![answer("c0.0", 0..10), answer("c0.1", 10..20)],
                session_state: "s".into(),
                created_ids: None,
            },
            Response { method_responses: vec![answer("c0.2", 20..25)], session_state: "s".into(), created_ids: None },
        ];
        let mut merged = plan.merge(responses).unwrap();
        let args = merged.take(&get).unwrap();
        assert_eq!(args["list"].as_array().unwrap().len(), 25);
        assert_eq!(args["list"][24]["id"], "M24");
        assert_eq!(args["state"], "c0.2");
    }

    #[test]
    fn big_sets_are_split_and_their_results_unioned() {
        let mut r = Request::new();
        let creates: Map<String, Value> = (0..3).map(|i| (format!("k{i}"), json!({"name": i}))).collect();
        let set = r.call("Mailbox/set", json!({"accountId": "a", "create": creates, "destroy": ["X1", "X2"]}));
        let plan = plan(&r, &limits(50, 10, 2, 1 << 20)).unwrap();
        let calls = plan.requests[0].calls();
        assert_eq!(calls.len(), 3);
        assert_eq!(calls[0].1["create"].as_object().unwrap().len(), 2);
        assert_eq!(calls[1].1["create"].as_object().unwrap().len(), 1);
        assert_eq!(calls[1].1["destroy"], json!(["X1"]));
        assert_eq!(calls[2].1["destroy"], json!(["X2"]));
        let responses = vec![Response {
            method_responses: vec![
                Invocation(
                    "Mailbox/set".into(),
                    json!({"oldState": "1", "newState": "2", "created": {"k0": {"id": "A"}, "k1": {"id": "B"}}}),
                    "c0.0".into(),
                ),
                Invocation(
                    "Mailbox/set".into(),
                    json!({"oldState": "2", "newState": "3", "created": {"k2": {"id": "C"}}, "destroyed": ["X1"]}),
                    "c0.1".into(),
                ),
                Invocation(
                    "Mailbox/set".into(),
                    json!({"oldState": "3", "newState": "4", "created": null, "notDestroyed": {"X2": {"type": "notFound"}}}),
                    "c0.2".into(),
                ),
            ],
            session_state: "s".into(),
            created_ids: None,
        }];
        let merged = plan.merge(responses).unwrap().take(&set).unwrap();
        assert_eq!(merged["created"].as_object().unwrap().len(), 3);
        assert_eq!(merged["oldState"], "1");
        assert_eq!(merged["newState"], "4");
        assert_eq!(merged["destroyed"], json!(["X1"]));
        assert_eq!(merged["notDestroyed"]["X2"]["type"], "notFound");
    }

    #[test]
    fn split_creations_come_after_what_they_refer_to() {
        let mut r = Request::new();
        r.call(
            "Mailbox/set",
            json!({"create": {
                "a-grandchild": {"name": "g", "parentId": "#b-child"},
                "b-child": {"name": "c", "parentId": "#c-parent"},
                "c-parent": {"name": "p"},
            }}),
        );
        let plan = plan(&r, &limits(50, 10, 1, 1 << 20)).unwrap();
        let order: Vec<String> = plan.requests[0]
            .calls()
            .iter()
            .map(|c| c.1["create"].as_object().unwrap().keys().next().unwrap().clone())
            .collect();
        assert_eq!(order, ["c-parent", "b-child", "a-grandchild"]);
    }

    #[test]
    fn a_failed_part_fails_the_call() {
        let mut r = Request::new();
        let get = r.call("Email/get", json!({"ids": ids(4)}));
        let plan = plan(&r, &limits(50, 2, 2, 1 << 20)).unwrap();
        let responses = vec![Response {
            method_responses: vec![
                Invocation("Email/get".into(), json!({"list": []}), "c0.0".into()),
                Invocation("error".into(), json!({"type": "serverFail"}), "c0.1".into()),
            ],
            session_state: "s".into(),
            created_ids: None,
        }];
        let err = plan.merge(responses).unwrap().take(&get).unwrap_err();
        assert!(matches!(err, JmapError::Method { ref kind, .. } if kind == "serverFail"), "{err:?}");
    }

    #[test]
    fn unsplittable_requests_are_limit_errors() {
        let mut r = Request::new();
        r.call("Mailbox/set", json!({"ifInState": "5", "destroy": ["a", "b", "c"]}));
        assert!(
            matches!(plan_err(&r, limits(50, 2, 2, 1 << 20)), JmapError::Request { limit: Some(l), .. } if l == "maxObjectsInSet")
        );
        let mut big = Request::new();
        big.call("Email/set", json!({"create": {"k": {"textBody": "x".repeat(5000)}}}));
        assert!(
            matches!(plan_err(&big, limits(50, 2, 2, 2048)), JmapError::Request { limit: Some(l), .. } if l == "maxSizeRequest")
        );
        let mut dangling = Request::new();
        dangling.call("Email/get", json!({"#ids": {"resultOf": "c9", "name": "Email/query", "path": "/ids"}}));
        assert!(matches!(plan_err(&dangling, limits(50, 2, 2, 1 << 20)), JmapError::Protocol(_)));
    }

    #[test]
    fn size_limit_spreads_calls_over_requests() {
        let mut r = Request::new();
        for _ in 0..4 {
            r.call("Core/echo", json!({"pad": "y".repeat(600)}));
        }
        let plan = plan(&r, &limits(50, 10, 10, 1500)).unwrap();
        assert!(plan.requests.len() >= 2);
        assert!(plan.requests.iter().all(|q| q.to_json().len() <= 1500));
        assert_eq!(plan.requests.iter().map(Request::len).sum::<usize>(), 4);
    }
}
