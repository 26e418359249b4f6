//! pyko's sample Rust program with real crates.io dependencies: it parses JSON with
//! serde_json and reports errors with anyhow, so its SBOM has crates to list.
use anyhow::Context;

fn main() -> anyhow::Result<()> {
    let value: serde_json::Value =
        serde_json::from_str(r#"{"greeting": "hello from a crate with dependencies"}"#)
            .context("parsing the built-in JSON")?;
    let data = std::env::var("KO_DATA_PATH").unwrap_or_default();
    let kodata = std::fs::read_to_string(format!("{data}/note.txt")).unwrap_or_default();
    println!(
        "{} ({}/{}) kodata={}",
        value["greeting"].as_str().unwrap_or("?"),
        std::env::consts::OS,
        std::env::consts::ARCH,
        kodata.trim()
    );
    Ok(())
}
