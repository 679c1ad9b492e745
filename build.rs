//! Generates RustMailer's prost messages from protos/rustmailer.proto; the calls are in
//! src/rustmailer/client.rs (one codec for every answer, so both RustMailer wires read).
//! No transport: in the browser the channel is tonic-web-wasm-client.

fn main() {
    println!("cargo:rerun-if-changed=protos/rustmailer.proto");
    let generated = tonic_prost_build::configure()
        .build_server(false)
        .build_client(false)
        .build_transport(false)
        .compile_protos(&["protos/rustmailer.proto"], &["protos"]);
    if let Err(e) = generated {
        // The usual cause on a new machine: no protoc. scripts/setup installs it.
        panic!("generating RustMailer's gRPC code failed: {e}\n(is `protoc` installed? scripts/setup installs Debian's protobuf-compiler)");
    }
}
