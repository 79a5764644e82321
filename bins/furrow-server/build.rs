// The PostgreSQL suite exists only when FURROW_TEST_DATABASE_URL is set at build time, so a run without a
// server has no silently skipped tests: `cfg(furrow_pg)` turns it on.
fn main() {
    println!("cargo::rustc-check-cfg=cfg(furrow_pg)");
    // The S3 variants exist only with an S3-compatible server to run on (`.ci/run` starts moto).
    println!("cargo::rustc-check-cfg=cfg(furrow_s3)");
    println!("cargo::rerun-if-env-changed=FURROW_TEST_S3_ENDPOINT");
    if std::env::var("FURROW_TEST_S3_ENDPOINT").is_ok_and(|v| !v.is_empty()) {
        println!("cargo::rustc-cfg=furrow_s3");
    }
    println!("cargo::rerun-if-env-changed=FURROW_TEST_DATABASE_URL");
    if std::env::var("FURROW_TEST_DATABASE_URL").is_ok_and(|v| !v.is_empty()) {
        println!("cargo::rustc-cfg=furrow_pg");
    }
}
