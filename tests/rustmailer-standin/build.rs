//! Server stubs for the stand-in, from the same .proto the client uses.

fn main() {
    println!("cargo:rerun-if-changed=../../protos/rustmailer.proto");
    let generated = tonic_prost_build::configure()
        .build_server(true)
        .build_client(false)
        .generate_default_stubs(true)
        .compile_protos(&["../../protos/rustmailer.proto"], &["../../protos"]);
    if let Err(e) = generated {
        panic!("generating RustMailer's gRPC code failed: {e}\n(is `protoc` installed? scripts/setup installs Debian's protobuf-compiler)");
    }
}
