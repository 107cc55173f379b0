//! [`SesMailer`]: the `Mailer` port on SES `SendRawEmail`: the very MIME bytes of
//! `Email::to_mime` that the local outbox writes as `.eml` files.
//!
//! SES error messages can quote addresses (an unverified recipient in the sandbox), so errors
//! carry the SES error code and a fixed hint, never the service's message.

use async_trait::async_trait;
use aws_sdk_ses::error::ProvideErrorMetadata;
use aws_sdk_ses::primitives::Blob;
use aws_sdk_ses::types::RawMessage;
use aws_sdk_ses::Client;
use sync_core::email::Email;
use sync_core::ports::{MailError, Mailer};

/// Sends email through SES.
#[derive(Clone, Debug)]
pub struct SesMailer {
    client: Client,
    sender: Option<String>,
}

impl SesMailer {
    /// A mailer using `client`, sending from each email's own `from`.
    pub fn new(client: Client) -> Self {
        Self {
            client,
            sender: None,
        }
    }

    /// Sends every email from `sender` (the deployment's verified SES identity, `SENDER`): SES
    /// refuses other senders, and the function's IAM policy allows only this one.
    pub fn with_sender(mut self, sender: impl Into<String>) -> Self {
        self.sender = Some(sender.into());
        self
    }

    /// The SDK client.
    pub fn client(&self) -> &Client {
        &self.client
    }
}

/// What an admin can do about an SES error code (the codes `SendRawEmail` documents, and
/// `Throttling`, which SES answers for the sending rate and the daily quota alike).
fn hint(code: &str) -> &'static str {
    match code {
        "MessageRejected" => {
            "SES rejected the message; check that the sender is a verified identity and, while \
             the account is in the SES sandbox, that the recipients are verified too"
        }
        "MailFromDomainNotVerifiedException" => {
            "the sender's MAIL FROM domain is not verified in SES"
        }
        "AccountSendingPausedException" => "SES sending is paused for this AWS account",
        "ConfigurationSetSendingPausedException" => {
            "SES sending is paused for the configuration set"
        }
        "Throttling" => {
            "the SES sending rate or quota is used up; the tenant's next run sends this summary again"
        }
        "ConfigurationSetDoesNotExistException" => "the configuration set does not exist in SES",
        "InvalidParameterValue" => "SES refused the request as malformed",
        _ => "see the SES console for the account's sending status",
    }
}

#[async_trait]
impl Mailer for SesMailer {
    async fn send(&self, email: &Email) -> Result<(), MailError> {
        if email.to.is_empty() {
            return Err(MailError {
                detail: "the email has no recipients; add admin addresses to the tenant's email settings"
                    .to_owned(),
                transient: false,
            });
        }
        let rewritten;
        let email = match &self.sender {
            Some(sender) if *sender != email.from => {
                rewritten = Email {
                    from: sender.clone(),
                    ..email.clone()
                };
                &rewritten
            }
            _ => email,
        };
        let raw = RawMessage::builder()
            .data(Blob::new(email.to_mime()))
            .build()
            .map_err(|err| MailError {
                detail: format!("could not build the SES request: {err}"),
                transient: false,
            })?;
        // `Source` and `Destinations` are the envelope, as SES v2's `FromEmailAddress` and
        // `Destination` were: SES checks `Source` against the verified identities and the IAM
        // policy's `ses:FromAddress`, and delivers to the listed admins.
        let sent = self
            .client
            .send_raw_email()
            .source(&email.from)
            .set_destinations(Some(email.to.clone()))
            .raw_message(raw)
            .send()
            .await;
        match sent {
            Ok(output) => {
                // The message id identifies the mail in SES's logs; no address is logged.
                tracing::info!(
                    message_id = output.message_id(),
                    recipients = email.to.len(),
                    "email sent through SES"
                );
                Ok(())
            }
            Err(err) => {
                let detail = match err.code() {
                    Some(code) => format!("SES answered {code}: {}", hint(code)),
                    None => "SES did not answer (timeout or connection failure)".to_owned(),
                };
                // Past the SDK's own retries: a throttle or no answer may pass by the next run.
                let transient = matches!(
                    err.code(),
                    None | Some("Throttling" | "TooManyRequestsException" | "ServiceUnavailable")
                );
                Err(MailError { detail, transient })
            }
        }
    }
}
