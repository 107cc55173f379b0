//! Prints the personio-sync SCIM extension schema (RFC 7643 §7) that apps load to receive the
//! seed fields SCIM has no attribute for: `docs/scim/personio-sync-extension.json`.
//!
//! `cargo run -p sync-scim --example extension_schema > docs/scim/personio-sync-extension.json`

fn main() {
    let schema = sync_scim::homes::extension_schema();
    match serde_json::to_string_pretty(&schema) {
        Ok(text) => println!("{text}"),
        Err(error) => {
            eprintln!("could not encode the schema: {error}");
            std::process::exit(1);
        }
    }
}
