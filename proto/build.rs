//! Compiles `crossdesk/v1/` with protox (a pure-Rust protobuf compiler, so no system
//! `protoc` is needed) and generates the tonic client and server from it. The
//! descriptor set is kept for gRPC server reflection and JSON transcoding.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto_root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let files = [
        proto_root.join("crossdesk/v1/events.proto"),
        proto_root.join("crossdesk/v1/admin.proto"),
    ];
    println!(
        "cargo:rerun-if-changed={}",
        proto_root.join("crossdesk").display()
    );

    let descriptors = protox::compile(&files, [&proto_root])?;
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(
        out_dir.join("crossdesk_descriptor.bin"),
        prost::Message::encode_to_vec(&descriptors),
    )?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        // Ordered maps encode deterministically: event hashes key the caches.
        .btree_map(".")
        .compile_fds(descriptors)?;
    Ok(())
}
