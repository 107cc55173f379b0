//! What `template.yaml` gives one function, read from the file itself, so tests run a handler
//! with the settings that are deployed: its `Timeout` and the literal variables of its
//! `Environment` (references such as `!Ref` are the stack's resources, which tests make their own).
//!
//! A small line reader rather than a YAML parser: the template is ours and keeps one key per line.

use std::collections::BTreeMap;
use std::time::Duration;

/// One function's settings.
#[derive(Debug)]
pub struct FunctionSettings {
    /// `Timeout`: how long Lambda lets one invocation run.
    pub timeout: Duration,
    /// The literal variables of its `Environment`.
    pub environment: BTreeMap<String, String>,
}

/// The settings of the function with logical id `logical_id` (e.g. `WebhookFunction`).
pub fn function(logical_id: &str) -> FunctionSettings {
    let path = test_support::workspace_root().join("template.yaml");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("read {}: {error}", path.display()));
    let header = format!("  {logical_id}:");
    let lines: Vec<&str> = text
        .lines()
        .skip_while(|line| *line != header)
        .skip(1)
        // The resource ends where the next one (two spaces of indent) or the next section begins.
        .take_while(|line| line.is_empty() || line.starts_with("   "))
        .collect();
    assert!(
        !lines.is_empty(),
        "template.yaml has no resource {logical_id}"
    );
    let value = |line: &str| {
        let (_, value) = line.split_once(':')?;
        Some(value.trim().trim_matches('"').to_owned())
    };
    let timeout = lines
        .iter()
        .find(|line| line.trim_start().starts_with("Timeout:"))
        .and_then(|line| value(line)?.parse::<u64>().ok())
        .unwrap_or_else(|| panic!("{logical_id} in template.yaml has no Timeout in seconds"));
    let mut environment = BTreeMap::new();
    if let Some(start) = lines
        .iter()
        .position(|line| line.trim_start() == "Variables:")
    {
        let indent = |line: &str| line.len() - line.trim_start().len();
        let own = indent(lines[start]);
        for line in lines[start + 1..]
            .iter()
            .take_while(|line| indent(line) > own)
        {
            let trimmed = line.trim_start();
            if trimmed.starts_with('#') {
                continue;
            }
            if let (Some((name, _)), Some(value)) = (trimmed.split_once(':'), value(trimmed)) {
                if !value.starts_with('!') {
                    environment.insert(name.to_owned(), value);
                }
            }
        }
    }
    FunctionSettings {
        timeout: Duration::from_secs(timeout),
        environment,
    }
}
