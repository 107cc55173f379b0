//! An email message and its MIME form. The local outbox writes the MIME bytes as a `.eml` file and
//! SES sends the very same bytes with `SendRawEmail`, so what a test reads back locally is what an
//! admin receives.

use mail_builder::headers::address::Address;
use mail_builder::MessageBuilder;
use std::fmt;

/// A file attached to an email.
#[derive(Clone, PartialEq, Eq)]
pub struct Attachment {
    /// File name shown to the reader (`errors.csv`).
    pub filename: String,
    /// MIME type (`text/csv`).
    pub content_type: String,
    /// The content.
    pub bytes: Vec<u8>,
}

/// One email: a text part, an HTML part and attachments.
#[derive(Clone, PartialEq, Eq)]
pub struct Email {
    /// Sender address.
    pub from: String,
    /// Recipients.
    pub to: Vec<String>,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub text: String,
    /// HTML body.
    pub html: String,
    /// Attachments.
    pub attachments: Vec<Attachment>,
}

impl Email {
    /// The message as RFC 5322 / MIME bytes (multipart/mixed with a multipart/alternative body).
    pub fn to_mime(&self) -> Vec<u8> {
        let recipients: Vec<Address<'_>> = self
            .to
            .iter()
            .map(|to| Address::new_address(None::<&str>, to.as_str()))
            .collect();
        let mut builder = MessageBuilder::new()
            .from(self.from.as_str())
            .to(recipients)
            .subject(self.subject.as_str())
            .text_body(self.text.as_str())
            .html_body(self.html.as_str());
        for attachment in &self.attachments {
            builder = builder.attachment(
                attachment.content_type.as_str(),
                attachment.filename.as_str(),
                attachment.bytes.as_slice(),
            );
        }
        // Writing into a Vec cannot fail: the only error source is the writer.
        builder.write_to_vec().unwrap_or_default()
    }
}

impl fmt::Debug for Email {
    // Recipients and content are personal data: never printed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Email")
            .field("to", &self.to.len())
            .field("attachments", &self.attachments.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mime_has_text_html_and_attachment() {
        let email = Email {
            from: "sync@vendor.example".into(),
            to: vec!["it@acme.example".into(), "hr@acme.example".into()],
            subject: "personio-sync: 3 created".into(),
            text: "3 users created".into(),
            html: "<p>3 users created</p>".into(),
            attachments: vec![Attachment {
                filename: "errors.csv".into(),
                content_type: "text/csv".into(),
                bytes: b"person,action,message,hint\n".to_vec(),
            }],
        };
        let mime = String::from_utf8(email.to_mime()).unwrap();
        assert!(mime.contains("Subject: personio-sync: 3 created"));
        assert!(mime.contains("it@acme.example"));
        assert!(mime.contains("hr@acme.example"));
        assert!(mime.contains("multipart/mixed"));
        assert!(mime.contains("text/html"));
        assert!(mime.contains("filename=\"errors.csv\""));
    }
}
