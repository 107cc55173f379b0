//! `register-webhook` and `rotate-webhook-token`: subscribe this service to a tenant's Personio
//! events, and give the subscription a new token. Both read the tenant config and the Personio
//! credentials like `run` does, talk to Personio's v2 API (`sync_core::personio::webhooks`), and
//! print the new token exactly once, with the secret to store for the webhook receiver.

use crate::{wiring, Done, Place};
use anyhow::{bail, Context};
use secrecy::{ExposeSecret, SecretString};
use sync_core::config::{AccountConfig, TenantConfig};
use sync_core::personio::webhooks::{
    self, NewWebhook, V2Credentials, WebhookInfo, DEFAULT_EVENTS, EVENTS,
};

/// A token chosen by an admin must be at least this long (the generated ones have 64 digits).
const MIN_TOKEN_CHARS: usize = 32;

/// Arguments of `register-webhook`.
#[derive(clap::Args)]
pub struct RegisterWebhook {
    #[command(flatten)]
    place: Place,
    /// Our HTTPS endpoint for this tenant, ending in /webhooks/<tenant id>.
    #[arg(long)]
    url: String,
    /// Events to subscribe, comma-separated or repeated. Default: every person and employment event.
    #[arg(long, value_delimiter = ',')]
    events: Vec<String>,
    /// The Personio account (default: the first in the config).
    #[arg(long)]
    account: Option<String>,
    /// The Personio company id; put into the printed secret, deliveries from other companies are refused.
    #[arg(long)]
    company_id: Option<String>,
}

/// Arguments of `rotate-webhook-token`.
#[derive(clap::Args)]
pub struct RotateWebhookToken {
    #[command(flatten)]
    place: Place,
    /// The webhook's id, as `register-webhook` printed it.
    #[arg(long, required_unless_present = "url", conflicts_with = "url")]
    id: Option<String>,
    /// Or the webhook's URL, to look its id up.
    #[arg(long)]
    url: Option<String>,
    /// The Personio account (default: the first in the config).
    #[arg(long)]
    account: Option<String>,
    /// The Personio company id; put into the printed secret.
    #[arg(long)]
    company_id: Option<String>,
    /// Take the new token from this environment variable instead of generating one, so it can be
    /// stored in the secret before Personio starts sending it.
    #[arg(long)]
    token_env: Option<String>,
}

/// `register-webhook`: creates an enabled `TOKEN` webhook with a new random token.
pub async fn register(args: RegisterWebhook) -> anyhow::Result<Done> {
    let loaded = wiring::load(&args.place)?;
    let account = account(&loaded.config, args.account.as_deref())?;
    let credentials = credentials(&loaded, account)?;
    check_url(&args.url, &loaded.config)?;
    let events = events(args.events)?;
    let token = webhooks::new_webhook_token();
    let description = format!("personio-sync for tenant {}", loaded.config.tenant);
    let webhook = webhooks::register_webhook(
        &credentials,
        &NewWebhook {
            url: &args.url,
            token: &token,
            events: &events,
            description: &description,
        },
    )
    .await
    .context("could not register the webhook with Personio")?;
    out!(
        "registered webhook {} for {} (account {}; events: {})",
        webhook.id,
        webhook.url,
        account.name,
        webhook.enabled_events.join(", ")
    );
    print_secret(&loaded.config, account, &token, args.company_id.as_deref());
    Ok(Done::Ok)
}

/// `rotate-webhook-token`: gives an existing webhook a new token.
pub async fn rotate(args: RotateWebhookToken) -> anyhow::Result<Done> {
    let loaded = wiring::load(&args.place)?;
    let account = account(&loaded.config, args.account.as_deref())?;
    let credentials = credentials(&loaded, account)?;
    let token = match &args.token_env {
        Some(name) => chosen_token(name)?,
        None => webhooks::new_webhook_token(),
    };
    let id = match (&args.id, &args.url) {
        (Some(id), _) => id.clone(),
        (None, Some(url)) => find_by_url(&credentials, url).await?.id,
        (None, None) => bail!("name the webhook with --id or --url"),
    };
    let webhook = webhooks::rotate_webhook_token(&credentials, &id, &token)
        .await
        .context("could not give the webhook a new token")?;
    out!(
        "webhook {} for {} now sends the new token",
        webhook.id,
        webhook.url
    );
    print_secret(&loaded.config, account, &token, args.company_id.as_deref());
    out!(
        "keep the old token as \"previous_token\" in that secret for 3 days: Personio may still retry older deliveries with it"
    );
    Ok(Done::Ok)
}

fn account<'a>(config: &'a TenantConfig, name: Option<&str>) -> anyhow::Result<&'a AccountConfig> {
    let accounts = &config.personio.accounts;
    match name {
        None => accounts
            .first()
            .context("the configuration has no Personio account"),
        Some(name) => accounts
            .iter()
            .find(|account| account.name.as_str() == name)
            .with_context(|| format!("the configuration has no Personio account named {name}")),
    }
}

fn credentials(loaded: &wiring::Loaded, account: &AccountConfig) -> anyhow::Result<V2Credentials> {
    let credentials = loaded.local_secrets().personio_credentials(&account.name)?;
    Ok(V2Credentials {
        account: account.name.clone(),
        base_url: account.base_url.clone(),
        client_id: credentials.client_id,
        client_secret: credentials.client_secret,
    })
}

/// Personio delivers only to HTTPS; plain HTTP is allowed on loopback for local trials.
fn check_url(url: &str, config: &TenantConfig) -> anyhow::Result<()> {
    let loopback = ["http://127.0.0.1", "http://localhost", "http://[::1]"]
        .iter()
        .any(|prefix| url.starts_with(prefix));
    if !(url.starts_with("https://") || loopback) {
        bail!("--url must be an https:// URL (Personio delivers only over HTTPS)");
    }
    let suffix = format!("/{}", config.tenant);
    if !url.trim_end_matches('/').ends_with(&suffix) {
        bail!(
            "--url must end with /{}: the receiver tells tenants apart by that path",
            config.tenant
        );
    }
    Ok(())
}

fn events(chosen: Vec<String>) -> anyhow::Result<Vec<String>> {
    if chosen.is_empty() {
        return Ok(DEFAULT_EVENTS
            .iter()
            .map(|event| event.to_string())
            .collect());
    }
    let chosen: Vec<String> = chosen.into_iter().map(|e| e.trim().to_owned()).collect();
    if let Some(unknown) = chosen.iter().find(|e| !EVENTS.contains(&e.as_str())) {
        bail!(
            "{unknown} is not a Personio webhook event; choose from {}",
            EVENTS.join(", ")
        );
    }
    Ok(chosen)
}

fn chosen_token(name: &str) -> anyhow::Result<SecretString> {
    let value = std::env::var(name)
        .ok()
        .map(|value| value.trim().to_owned())
        .filter(|value| !value.is_empty())
        .with_context(|| format!("the environment variable {name} is not set"))?;
    if value.chars().count() < MIN_TOKEN_CHARS {
        bail!("the token in {name} must have at least {MIN_TOKEN_CHARS} characters");
    }
    Ok(SecretString::from(value))
}

async fn find_by_url(credentials: &V2Credentials, url: &str) -> anyhow::Result<WebhookInfo> {
    let all = webhooks::list_webhooks(credentials)
        .await
        .context("could not list the webhooks in Personio")?;
    let mut found = all.into_iter().filter(|webhook| webhook.url == url);
    match (found.next(), found.next()) {
        (Some(webhook), None) => Ok(webhook),
        (None, _) => bail!("Personio has no webhook for {url}; `register-webhook` creates one"),
        (Some(_), Some(_)) => bail!("Personio has several webhooks for {url}; name one with --id"),
    }
}

/// Prints the token once, and the secret the receiver reads (see the webhook crate's `secret`).
fn print_secret(
    config: &TenantConfig,
    account: &AccountConfig,
    token: &SecretString,
    company_id: Option<&str>,
) {
    let mut secret = serde_json::json!({ "token": token.expose_secret() });
    if let Some(company) = company_id {
        secret["company_id"] = company.into();
        if config.personio.accounts.len() > 1 {
            secret["account"] = account.name.as_str().into();
        }
    }
    out!("new webhook token (shown once): {}", token.expose_secret());
    out!(
        "store it now as the tenant's webhook secret (Secrets Manager: personio-sync/{}/webhook):",
        config.tenant
    );
    out!("{secret}");
    if company_id.is_none() {
        out!(
            "add \"company_id\": \"<Personio company id>\" to it (or pass --company-id) to refuse deliveries naming another company"
        );
    }
}
