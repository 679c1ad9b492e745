//! RustMailer's messages and client stubs, generated at build time from protos/rustmailer.proto.
#![allow(clippy::all, missing_docs, rustdoc::all)]

include!(concat!(env!("OUT_DIR"), "/rustmailer.grpc.rs"));
