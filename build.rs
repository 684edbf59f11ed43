//! Rust test and bench binaries link pyo3 (through Polars' error type) without the Python
//! extension module around them, so they get libpython linked in explicitly. The
//! extension module itself is left alone: Python provides those symbols at import.

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=PYO3_PYTHON");
    let python = std::env::var("PYO3_PYTHON").unwrap_or_else(|_| "python3".to_string());
    let query = "import sysconfig as s; print(s.get_config_var('LIBDIR')); \
                 print(s.get_config_var('LDVERSION') or s.get_config_var('VERSION'))";
    let Ok(output) = Command::new(&python).args(["-c", query]).output() else { return };
    let text = String::from_utf8_lossy(&output.stdout);
    let mut lines = text.lines();
    let (Some(libdir), Some(version)) = (lines.next(), lines.next()) else { return };
    for target in ["tests", "benches"] {
        println!("cargo:rustc-link-arg-{target}=-L{libdir}");
        println!("cargo:rustc-link-arg-{target}=-lpython{version}");
        println!("cargo:rustc-link-arg-{target}=-Wl,-rpath,{libdir}");
    }
}
