//! Local adapters: everything a run on one machine needs, with no AWS and no credentials, kept in
//! folders.
//!
//! # Layout
//! - [`store`]: [`FolderStore`], the `Store` port as one JSON file per link, group, run and held
//!   run.
//! - [`directory`]: [`DirectoryDestination`], the `Destination` port as a JSON user and group
//!   store that behaves like an app's directory (unique user names, never deletes).
//! - [`outbox`]: [`OutboxMailer`], the `Mailer` port as `.eml` files.
//! - [`pictures`]: [`FolderPictures`], the `PictureStore` port as a folder of content-addressed
//!   files with `file://` URLs.
//! - [`events`]: [`FolderStore`] as the `EventLog` port: one marker file per webhook delivery
//!   seen, created with create-new semantics so concurrent duplicates collapse.
//! - `files`: the atomic write every adapter uses, so a crash never leaves a torn file.

mod files;

pub mod directory;
pub mod events;
pub mod outbox;
pub mod pictures;
mod progress;
pub mod secrets;
pub mod store;

pub use directory::{DirectoryDestination, StoredGroup, StoredUser};
pub use outbox::OutboxMailer;
pub use pictures::FolderPictures;
pub use store::FolderStore;

/// Opens directory destinations for the adapter factory: the CLI's and the tests' way to let a
/// tenant's `kind = "directory"` through (the Lambdas do not link this crate).
#[derive(Clone, Copy, Debug, Default)]
pub struct Directories;

impl sync_core::ports::LocalDestinations for Directories {
    fn directory(&self, path: &str) -> Result<Box<dyn sync_core::ports::Destination>, String> {
        DirectoryDestination::open(path)
            .map(|destination| Box::new(destination) as Box<dyn sync_core::ports::Destination>)
            .map_err(|error| error.to_string())
    }
}
