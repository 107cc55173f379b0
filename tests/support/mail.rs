//! The mail SES "sent", and just enough MIME (RFC 2045/2046) to read subject, parts and
//! attachments back. moto keeps every `SendRawEmail` under `data.json` → `ses` →
//! `RawMessage` (`destinations` as a plain list, `raw_data` the MIME text), for every account and
//! region, so a test picks its own by recipients only it uses.

use serde_json::Value;
use std::collections::BTreeSet;

/// One message SES accepted.
#[derive(Debug)]
pub struct SentMail {
    /// The envelope recipients.
    pub destinations: BTreeSet<String>,
    /// The parsed message.
    pub message: Part,
    /// The raw MIME text.
    pub raw: String,
}

impl SentMail {
    /// The decoded text of the attachment named `filename`.
    pub fn attachment(&self, filename: &str) -> Option<String> {
        self.message
            .leaves()
            .into_iter()
            .find(|part| part.filename().as_deref() == Some(filename))
            .map(|part| String::from_utf8_lossy(&part.decoded()).replace("\r\n", "\n"))
    }

    /// The decoded text of every `text/plain` and `text/html` part, joined.
    pub fn text(&self) -> String {
        self.message
            .leaves()
            .into_iter()
            .filter(|part| {
                part.header("content-type")
                    .is_some_and(|t| t.starts_with("text/plain") || t.starts_with("text/html"))
            })
            .map(|part| String::from_utf8_lossy(&part.decoded()).into_owned())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Every raw message in `data` (moto's data.json) with at least one recipient in `recipients`.
pub fn sent_to(data: &Value, recipients: &[String]) -> Vec<SentMail> {
    data["ses"]["RawMessage"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|message| {
            let destinations: BTreeSet<String> = message["destinations"]
                .as_array()?
                .iter()
                .filter_map(|address| address.as_str().map(str::to_owned))
                .collect();
            if !recipients.iter().any(|r| destinations.contains(r)) {
                return None;
            }
            let raw = message["raw_data"].as_str()?.to_owned();
            Some(SentMail {
                destinations,
                message: Part::parse(&raw),
                raw,
            })
        })
        .collect()
}

/// One MIME entity: headers and body, with its sub-parts when it is multipart.
#[derive(Debug)]
pub struct Part {
    headers: Vec<(String, String)>,
    body: String,
    parts: Vec<Part>,
}

impl Part {
    /// Parses a MIME entity.
    pub fn parse(text: &str) -> Self {
        let (head, body) = text
            .split_once("\r\n\r\n")
            .or_else(|| text.split_once("\n\n"))
            .unwrap_or((text, ""));
        let mut headers: Vec<(String, String)> = Vec::new();
        for line in head.lines() {
            if line.starts_with([' ', '\t']) {
                // A folded header continues the previous one.
                if let Some((_, value)) = headers.last_mut() {
                    value.push(' ');
                    value.push_str(line.trim());
                }
            } else if let Some((name, value)) = line.split_once(':') {
                headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
            }
        }
        let mut part = Part {
            headers,
            body: body.to_owned(),
            parts: Vec::new(),
        };
        if let Some(boundary) = part.param("content-type", "boundary") {
            let delimiter = format!("--{boundary}");
            part.parts = body
                .split(delimiter.as_str())
                .skip(1)
                .take_while(|chunk| !chunk.starts_with("--"))
                .map(|chunk| {
                    // The line break before a delimiter belongs to the delimiter (RFC 2046 §5.1.1).
                    let chunk = chunk
                        .strip_suffix("\r\n")
                        .or_else(|| chunk.strip_suffix('\n'))
                        .unwrap_or(chunk);
                    Part::parse(chunk.trim_start_matches(['\r', '\n']))
                })
                .collect();
        }
        part
    }

    /// The first header called `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn param(&self, header: &str, name: &str) -> Option<String> {
        self.header(header)?.split(';').skip(1).find_map(|param| {
            let (key, value) = param.split_once('=')?;
            (key.trim().eq_ignore_ascii_case(name))
                .then(|| value.trim().trim_matches('"').to_owned())
        })
    }

    /// The attachment's file name, if it is one.
    pub fn filename(&self) -> Option<String> {
        self.param("content-disposition", "filename")
            .or_else(|| self.param("content-type", "name"))
    }

    /// Every non-multipart part, depth first.
    pub fn leaves(&self) -> Vec<&Part> {
        if self.parts.is_empty() {
            vec![self]
        } else {
            self.parts.iter().flat_map(Part::leaves).collect()
        }
    }

    /// The body with its transfer encoding undone.
    pub fn decoded(&self) -> Vec<u8> {
        match self
            .header("content-transfer-encoding")
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("base64") => decode_base64(&self.body),
            Some("quoted-printable") => quoted_printable(&self.body),
            _ => self.body.as_bytes().to_vec(),
        }
    }
}

/// Decodes base64 text, skipping line breaks and padding.
pub fn decode_base64(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let sextets: Vec<u32> = text
        .bytes()
        .filter_map(|b| ALPHABET.iter().position(|&a| a == b).map(|p| p as u32))
        .collect();
    let mut out = Vec::new();
    for group in sextets.chunks(4) {
        let value = group
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, s)| acc | (s << (18 - 6 * i)));
        let bytes = value.to_be_bytes();
        out.extend_from_slice(&bytes[1..group.len()]);
    }
    out
}

fn quoted_printable(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let bytes = text.replace("=\r\n", "").replace("=\n", "").into_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() {
            if let Ok(byte) = u8::from_str_radix(&String::from_utf8_lossy(&bytes[i + 1..i + 3]), 16)
            {
                out.push(byte);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}
