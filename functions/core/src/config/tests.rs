//! Parsing and validation of tenant configs.

use super::*;
use std::collections::BTreeMap;

const MINIMAL: &str = r#"
    tenant = "acme"
    [[personio.accounts]]
    [destination]
    kind = "directory"
    path = "directory"
"#;

#[test]
fn minimal_config_gets_the_defaults() {
    let config = TenantConfig::from_toml(MINIMAL).unwrap();
    assert_eq!(config.personio.accounts[0].name.as_str(), "main");
    assert_eq!(config.personio.accounts[0].rate_limit_per_minute, 300);
    assert_eq!(config.lifecycle.pre_hire_days, 7);
    // 17 seed fields (the 18th, supervisor, is the manager link) plus user_name.
    assert_eq!(config.mapping.effective_fields().len(), 18);
}

#[test]
fn unknown_keys_are_named() {
    let err = TenantConfig::from_toml(&format!("{MINIMAL}\n[guard]\nmax_deactivation = 3\n"))
        .unwrap_err();
    assert!(err.to_string().contains("max_deactivation"), "{err}");
}

#[test]
fn every_problem_is_listed_at_once() {
    let text = r#"
        tenant = "acme"
        [personio]
        accounts = []
        [destination]
        kind = "scim"
        base_url = " "
        [matching]
        field = "nickname"
    "#;
    let err = TenantConfig::from_toml(text).unwrap_err().to_string();
    assert!(err.contains("personio.accounts"), "{err}");
    assert!(err.contains("destination.base_url"), "{err}");
    assert!(err.contains("matching.field"), "{err}");
}

#[test]
fn a_destination_carries_what_its_kind_needs_and_nothing_else() {
    let scim_without_url = MINIMAL.replace(
        "kind = \"directory\"\n    path = \"directory\"",
        "kind = \"scim\"",
    );
    let err = TenantConfig::from_toml(&scim_without_url)
        .unwrap_err()
        .to_string();
    assert!(err.contains("base_url"), "{err}");
    let directory_with_url = MINIMAL.replace(
        "path = \"directory\"",
        "path = \"d\"\n    base_url = \"https://x\"",
    );
    let err = TenantConfig::from_toml(&directory_with_url)
        .unwrap_err()
        .to_string();
    assert!(err.contains("base_url"), "{err}");
    let with_token_env = MINIMAL.replace(
        "path = \"directory\"",
        "path = \"d\"\n    token_env = \"T\"",
    );
    assert!(
        TenantConfig::from_toml(&with_token_env).is_err(),
        "a secret's source is not tenant config"
    );
}

#[test]
fn a_config_stored_by_an_earlier_version_still_parses_without_its_secret_sources() {
    let stored = r#"{"tenant": "acme",
        "personio": {"accounts": [{"name": "main", "client_id_env": "PERSONIO_CLIENT_ID",
            "client_secret_env": "PERSONIO_CLIENT_SECRET", "credentials_file": null}]},
        "destination": {"kind": "scim", "path": null, "base_url": "https://app.example/scim/v2",
            "token_env": "SCIM_TOKEN", "token_file": null, "attribute_paths": {}}}"#;
    let config = TenantConfig::from_json(stored).unwrap();
    assert_eq!(
        config.destination,
        DestinationConfig::Scim {
            base_url: "https://app.example/scim/v2".to_owned(),
            attribute_paths: BTreeMap::new()
        }
    );
    let saved = serde_json::to_string(&config).unwrap();
    assert!(
        !saved.contains("token_env") && !saved.contains("client_id_env"),
        "{saved}"
    );
}

#[test]
fn office_time_zone_wins_over_the_tenant_one() {
    let text = format!("{MINIMAL}\n[lifecycle.office_timezones]\nLondon = \"Europe/London\"\n");
    let config = TenantConfig::from_toml(&text).unwrap();
    assert_eq!(
        config.timezone_for(Some("London")),
        chrono_tz::Europe::London
    );
    assert_eq!(
        config.timezone_for(Some("Berlin")),
        chrono_tz::Europe::Berlin
    );
    assert_eq!(config.timezone_for(None), chrono_tz::Europe::Berlin);
}

#[test]
fn plain_http_is_a_problem_for_personio_and_scim_unless_it_stays_on_this_machine() {
    let with_urls = |personio: &str, scim: &str| {
        format!(
            "tenant = \"acme\"\n[[personio.accounts]]\nbase_url = \"{personio}\"\n\
             [destination]\nkind = \"scim\"\nbase_url = \"{scim}\"\n"
        )
    };
    let err = TenantConfig::from_toml(&with_urls(
        "http://app.example",
        "http://app.example/scim/v2",
    ))
    .unwrap_err()
    .to_string();
    assert!(err.contains("personio.accounts.main.base_url"), "{err}");
    assert!(err.contains("destination.base_url"), "{err}");
    assert!(err.contains("https"), "{err}");
    for (personio, scim) in [
        ("http://127.0.0.1:8080", "http://127.0.0.1:9090/scim/v2"),
        ("http://localhost", "http://localhost/scim/v2"),
        ("http://[::1]:8080", "http://127.0.0.2/scim/v2"),
        ("https://api.personio.de", "https://app.example/scim/v2"),
    ] {
        let config = TenantConfig::from_toml(&with_urls(personio, scim));
        assert!(config.is_ok(), "{personio} {scim}: {:?}", config.err());
    }
}
