//! The RustMailer client names its calls by path (`/rustmailer.grpc.<Service>/<Method>`, written
//! by hand in src/rustmailer/client.rs, since one codec serves every answer): each must be an RPC of
//! that service in protos/rustmailer.proto, or the call would only fail at run time.

#![cfg(not(target_arch = "wasm32"))]

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

fn rpcs(proto: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut service = None;
    for line in proto.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("service ") {
            service = rest.split_whitespace().next().map(str::to_owned);
        } else if line == "}" {
            service = None;
        } else if let (Some(s), Some(rest)) = (&service, line.strip_prefix("rpc ")) {
            let method = rest.split('(').next().unwrap_or_default().trim();
            found.insert(format!("/rustmailer.grpc.{s}/{method}"));
        }
    }
    found
}

#[test]
fn every_path_the_client_calls_is_an_rpc_of_the_proto() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let known = rpcs(&fs::read_to_string(root.join("protos/rustmailer.proto")).expect("the proto"));
    assert!(known.len() >= 40, "the proto's RPCs were not found: {known:?}");
    let client = fs::read_to_string(root.join("src/rustmailer/client.rs")).expect("the client");
    let called: Vec<&str> = client.split('"').filter(|s| s.starts_with("/rustmailer.grpc.")).collect();
    assert!(called.len() >= 25, "the client's paths were not found: {called:?}");
    let unknown: Vec<&&str> = called.iter().filter(|p| !known.contains(**p)).collect();
    assert!(unknown.is_empty(), "paths with no RPC in protos/rustmailer.proto: {unknown:?}");
}
