//! What `template.yaml` gives one function, read from the file itself, so tests run a handler
//! with the settings that are deployed: its `Timeout`, its `MemorySize` (its own or the
//! `Globals`') and the literal variables of its `Environment` (references such as `!Ref` are the
//! stack's resources, which tests make their own); and a parameter's `Default`.
//!
//! A small line reader rather than a YAML parser: the template is ours and keeps one key per line.

use std::collections::BTreeMap;
use std::time::Duration;

/// One function's settings.
#[derive(Clone, Debug)]
pub struct FunctionSettings {
    /// `Timeout`: how long Lambda lets one invocation run.
    pub timeout: Duration,
    /// `MemorySize` in MB: what Lambda bills GB-seconds by.
    pub memory_mb: u64,
    /// The literal variables of its `Environment`.
    pub environment: BTreeMap<String, String>,
}

/// The settings of the function with logical id `logical_id` (e.g. `WebhookFunction`).
pub fn function(logical_id: &str) -> FunctionSettings {
    let text = template();
    let lines = block(&text, &format!("  {logical_id}:"));
    assert!(
        !lines.is_empty(),
        "template.yaml has no resource {logical_id}"
    );
    let timeout = number(&lines, "Timeout:")
        .unwrap_or_else(|| panic!("{logical_id} in template.yaml has no Timeout in seconds"));
    let memory_mb = number(&lines, "MemorySize:")
        .or_else(|| number(&block(&text, "  Function:"), "MemorySize:"))
        .unwrap_or_else(|| panic!("{logical_id} in template.yaml has no MemorySize"));
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
        memory_mb,
        environment,
    }
}

/// A number among the properties of resource `logical_id` (e.g. `VisibilityTimeout` of
/// `JobsQueue`).
pub fn resource_number(logical_id: &str, property: &str) -> u64 {
    let text = template();
    number(
        &block(&text, &format!("  {logical_id}:")),
        &format!("{property}:"),
    )
    .unwrap_or_else(|| panic!("{logical_id} in template.yaml has no number {property}"))
}

/// The `Default` of the template's parameter `name` (e.g. `WorkerConcurrency`).
pub fn parameter_default(name: &str) -> String {
    let text = template();
    let lines = block(&text, &format!("  {name}:"));
    lines
        .iter()
        .find(|line| line.trim_start().starts_with("Default:"))
        .and_then(|line| value(line))
        .unwrap_or_else(|| panic!("template.yaml has no parameter {name} with a Default"))
}

fn template() -> String {
    let path = test_support::workspace_root().join("template.yaml");
    std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("read {}: {error}", path.display()))
}

/// The lines under `header` (a line of two spaces of indent): they end where the next entry
/// (two spaces of indent) or the next section begins. The first such block in the file.
fn block<'a>(text: &'a str, header: &str) -> Vec<&'a str> {
    text.lines()
        .skip_while(|line| *line != header)
        .skip(1)
        .take_while(|line| line.is_empty() || line.starts_with("   "))
        .collect()
}

/// The value after `key` on the first line that starts with it, as a number.
fn number(lines: &[&str], key: &str) -> Option<u64> {
    lines
        .iter()
        .find(|line| line.trim_start().starts_with(key))
        .and_then(|line| value(line)?.parse().ok())
}

/// What follows the first `:` of a line, unquoted.
fn value(line: &str) -> Option<String> {
    let (_, value) = line.split_once(':')?;
    Some(value.trim().trim_matches('"').to_owned())
}
