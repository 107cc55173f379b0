//! The link key of a console on one machine: 32 random bytes in hex, in a file of the state folder
//! created on first use (readable by its owner only). Deleting the file invalidates every link and
//! session, which is how a local operator rotates it.

use std::io::Write as _;
use std::path::Path;
use sync_core::links::{LinkKey, LinkKeys};

/// The key's id in the tokens it signs.
const KEY_ID: &str = "local";

/// Why the key file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    /// It could not be read or created.
    #[error("could not read or create the console key {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// It does not hold a key.
    #[error("the console key {path} is damaged; delete it and a new one is made (links given out so far stop working)")]
    Damaged {
        /// The file.
        path: String,
    },
}

/// The keys in `path`, made there first if it does not exist.
pub fn load_or_create(path: &Path) -> Result<LinkKeys, KeyFileError> {
    let io = |source| KeyFileError::Io {
        path: path.display().to_string(),
        source,
    };
    if !path.exists() {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let secret: [u8; 32] = rand::random();
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(path) {
            Ok(mut file) => {
                file.write_all(hex(&secret).as_bytes()).map_err(io)?;
                file.sync_all().map_err(io)?;
            }
            // Made by another process at the same moment: read theirs.
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(error) => return Err(io(error)),
        }
    }
    let text = std::fs::read_to_string(path).map_err(io)?;
    let damaged = || KeyFileError::Damaged {
        path: path.display().to_string(),
    };
    let secret = unhex(text.trim()).ok_or_else(damaged)?;
    let key = LinkKey::new(KEY_ID, secret).map_err(|_| damaged())?;
    Ok(LinkKeys::new(key, None))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, Utc};
    use sync_core::ids::TenantId;
    use sync_core::links::{Access, Grant};

    #[test]
    fn the_key_is_made_once_and_opens_what_it_signed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state").join("console.key");
        let first = load_or_create(&path).unwrap();
        let grant = Grant {
            tenant: TenantId::parse("acme").unwrap(),
            access: Access::View,
            expires: Utc::now() + Duration::hours(1),
        };
        let link = first.link(&grant);
        let again = load_or_create(&path).unwrap();
        assert!(again.open_link(&link, Utc::now()).is_ok());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "{mode:o}");
        }
        std::fs::write(&path, "not hex").unwrap();
        assert!(matches!(
            load_or_create(&path),
            Err(KeyFileError::Damaged { .. })
        ));
        std::fs::write(&path, "00ff").unwrap();
        assert!(matches!(
            load_or_create(&path),
            Err(KeyFileError::Damaged { .. })
        ));
    }
}
