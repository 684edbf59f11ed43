//! Links the crate's test binaries against libpython when POLARS_AVRO_TEST_LIBPYTHON names
//! the library's file. CI's `cargo test` builds with the `python` feature in the wheel's own
//! environment, so that it reuses the wheel's build of Polars instead of building Polars a
//! second time; the wheel (an extension module) leaves Python's symbols to the interpreter
//! that loads it, but a test binary must find them itself.

use std::path::Path;

fn main() {
    println!("cargo:rerun-if-env-changed=POLARS_AVRO_TEST_LIBPYTHON");
    let unix = std::env::var("CARGO_CFG_TARGET_FAMILY").is_ok_and(|family| family == "unix");
    if let Some(library) = std::env::var_os("POLARS_AVRO_TEST_LIBPYTHON").filter(|_| unix) {
        let library = Path::new(&library);
        if let Some(folder) = library.parent() {
            println!("cargo:rustc-link-arg=-Wl,-rpath,{}", folder.display());
        }
        println!("cargo:rustc-link-arg={}", library.display());
        if std::env::var("CARGO_CFG_TARGET_OS").is_ok_and(|os| os == "linux") {
            // libpython was built against this machine's C library, newer than the oldest
            // one zig links the wheel for: the test binaries run only here, where it is.
            println!("cargo:rustc-link-arg=-Wl,--allow-shlib-undefined");
        }
    }
}
