//! Generates `include/bearer.h` from `src/ffi` with cbindgen. The header is
//! committed, so it is rewritten only when its content changes; the test
//! suite fails while the committed copy is stale.

use std::path::PathBuf;

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    println!("cargo:rerun-if-changed=src/ffi");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    // A fixed soname lets a binding dlopen the library by absolute path and
    // then have `dlopen("libbearer.so")` (Mono's DllImport) find that copy.
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libbearer.so");
    }

    let mut config =
        cbindgen::Config::from_file(root.join("cbindgen.toml")).expect("cbindgen.toml is readable");
    let version = std::env::var("CARGO_PKG_VERSION").expect("cargo sets it");
    let part = |name: &str| std::env::var(name).expect("cargo sets it");
    config.after_includes = config.after_includes.map(|text| {
        text.replace("@MAJOR@", &part("CARGO_PKG_VERSION_MAJOR"))
            .replace("@MINOR@", &part("CARGO_PKG_VERSION_MINOR"))
            .replace("@PATCH@", &part("CARGO_PKG_VERSION_PATCH"))
            .replace("@VERSION@", &version)
    });

    let mut generated = Vec::new();
    cbindgen::Builder::new()
        .with_crate(&root)
        .with_config(config)
        .generate()
        .expect("cbindgen can read src/ffi")
        .write(&mut generated);

    let header = root.join("include").join("bearer.h");
    if std::fs::read(&header).ok().as_deref() != Some(generated.as_slice()) {
        std::fs::create_dir_all(header.parent().expect("has a parent"))
            .expect("include/ can be created");
        std::fs::write(&header, generated).expect("include/bearer.h can be written");
    }
}
