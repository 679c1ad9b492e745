//! Generates RustMailer's prost messages and tonic client stubs from protos/rustmailer.proto.
//! Client only, no transport: in the browser the channel is tonic-web-wasm-client.

fn main() {
    println!("cargo:rerun-if-changed=protos/rustmailer.proto");
    let generated = tonic_prost_build::configure()
        .build_server(false)
        .build_client(true)
        .build_transport(false)
        .compile_protos(&["protos/rustmailer.proto"], &["protos"]);
    if let Err(e) = generated {
        // The usual cause on a new machine: no protoc. scripts/setup installs it.
        panic!("generating RustMailer's gRPC code failed: {e}\n(is `protoc` installed? scripts/setup installs Debian's protobuf-compiler)");
    }
}
