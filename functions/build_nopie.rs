//! Build script shared by the Lambda function packages (and the bare hello they are measured
//! against): their binaries link as position-dependent executables. A PIE of this size carries
//! ~100,000 relative relocations (vtables, string tables, the SDKs' endpoint rules) that the
//! loader applies at every cold start, writing 1–2 MB of `.data.rel.ro` page by page; without
//! PIE the linker resolves them once, and those pages load lazily from the file. The price is
//! a fixed load address for the executable image (shared libraries, stack and heap are still
//! randomised); a Lambda sandbox runs one function's code.
/// `HERALD_PIE=1` builds position-independent executables instead.
fn main() {
    println!("cargo::rerun-if-env-changed=HERALD_PIE");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if os == "linux" && std::env::var("HERALD_PIE").is_err() {
        println!("cargo::rustc-link-arg-bins=-no-pie");
    }
}
