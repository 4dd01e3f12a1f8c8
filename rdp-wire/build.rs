//! Marks the tests that need the shared corpus (`../shared/corpus` beside the project root)
//! as ignored when it is missing, so that `cargo test` says "ignored" rather than passing them
//! silently; under CI (`CI=true`) they run anyway and fail, since CI must have the corpus.
fn main() {
    println!("cargo::rustc-check-cfg=cfg(shared_corpus_missing)");
    println!("cargo::rerun-if-env-changed=CI");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus");
    // Watching the folder (not its files) is enough to notice it appearing or going.
    println!("cargo::rerun-if-changed={}", dir.display());
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    if !dir.is_dir() && !ci {
        println!("cargo::rustc-cfg=shared_corpus_missing");
    }
}
