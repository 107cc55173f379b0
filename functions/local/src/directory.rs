//! [`DirectoryDestination`]: a stand-in for an app's user store, one JSON file per user and per
//! group, that behaves like a real directory: user names are unique without regard to case, a
//! retried create returns the user it already made, unknown ids are "not found", and a user is
//! deleted (its file removed) only when retention asks for it.
//!
//! ```text
//! <dir>/users/<id>.json    {"id","externalId","userName","active","manager","fields","meta"}
//! <dir>/groups/<id>.json   {"id","displayName","members"}
//! ```
//!
//! The engine applies with bounded concurrency, so every change runs under one async lock that
//! also guards an in-memory index of user names and emails: a uniqueness check and the write it
//! allows cannot interleave with another. The index is built from the files on first use; one
//! process at a time should own the folder.

mod model;

pub use model::{Meta, StoredGroup, StoredUser, EMPLOYEE_NUMBER};

use crate::files::{self, ReadError};
use async_trait::async_trait;
use chrono::Utc;
use model::Index;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use sync_core::ids::DestinationId;
use sync_core::ports::{Destination, DestinationError, DestinationUser, FieldPlacement, NewUser};
use sync_core::record::{FieldChange, UserRecord, USER_NAME};
use tokio::sync::{MappedMutexGuard, Mutex, MutexGuard};

/// A user and group store kept as JSON files in a folder.
#[derive(Debug)]
pub struct DirectoryDestination {
    dir: PathBuf,
    /// `None` until first use; see the module docs for why one lock guards every change.
    index: Mutex<Option<Index>>,
    /// Mutating calls that changed a file. Only ever incremented, so relaxed ordering suffices.
    writes: AtomicU64,
}

/// Which kind of file an id names.
#[derive(Clone, Copy)]
enum Kind {
    User,
    Group,
}

impl Kind {
    fn folder(self) -> &'static str {
        match self {
            Self::User => "users",
            Self::Group => "groups",
        }
    }
    fn what(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Group => "group",
        }
    }
    fn id_prefix(self) -> &'static str {
        match self {
            Self::User => "u",
            Self::Group => "g",
        }
    }
}

fn transport(action: &str, path: &Path, detail: impl std::fmt::Display) -> DestinationError {
    DestinationError::Transport {
        detail: format!("could not {action} {}: {detail}", path.display()),
    }
}

fn read_error(path: &Path, err: ReadError) -> DestinationError {
    match err {
        ReadError::Io(err) => transport("read", path, err),
        ReadError::Corrupt(detail) => DestinationError::Transport {
            detail: format!(
                "{} is damaged ({detail}); restore it from a backup",
                path.display()
            ),
        },
    }
}

/// Runs blocking file work on tokio's blocking pool.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, DestinationError> + Send + 'static,
) -> Result<T, DestinationError> {
    tokio::task::spawn_blocking(work)
        .await
        .unwrap_or_else(|join| {
            Err(DestinationError::Transport {
                detail: format!("the file task stopped unexpectedly: {join}"),
            })
        })
}

fn read_all<T: DeserializeOwned + Send>(dir: &Path) -> Result<Vec<T>, DestinationError> {
    let paths = files::data_files(dir, "json").map_err(|err| transport("list", dir, err))?;
    let read = files::read_json_all(paths).map_err(|(path, err)| read_error(&path, err))?;
    Ok(read.into_iter().map(|(_, value)| value).collect())
}

/// The user name a record carries; a directory user cannot exist without one.
fn required_user_name(record: &UserRecord) -> Result<String, DestinationError> {
    record
        .text(USER_NAME)
        .filter(|name| !name.trim().is_empty())
        .ok_or_else(|| DestinationError::Rejected {
            status: 400,
            scim_type: Some("invalidValue".into()),
            detail: format!("userName is required (the `{USER_NAME}` field is empty or unset)"),
        })
}

fn taken(owner: &DestinationId) -> DestinationError {
    DestinationError::Conflict {
        detail: format!("user {owner} already has this userName"),
    }
}

impl DirectoryDestination {
    /// Opens (and creates, if needed) a directory at `dir`. Existing files are read on first use.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self, DestinationError> {
        let dir = dir.into();
        for kind in [Kind::User, Kind::Group] {
            let folder = dir.join(kind.folder());
            std::fs::create_dir_all(&folder).map_err(|err| transport("create", &folder, err))?;
        }
        Ok(Self {
            dir,
            index: Mutex::new(None),
            writes: AtomicU64::new(0),
        })
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// How many mutating calls changed a file since [`DirectoryDestination::open`]. A run that
    /// has nothing to do leaves it unchanged.
    pub fn writes(&self) -> u64 {
        self.writes.load(Ordering::Relaxed)
    }

    /// The user with id `id`, as stored.
    pub async fn read_user(
        &self,
        id: &DestinationId,
    ) -> Result<Option<StoredUser>, DestinationError> {
        self.read(Kind::User, id).await
    }

    /// The group with id `id`, as stored.
    pub async fn read_group(
        &self,
        id: &DestinationId,
    ) -> Result<Option<StoredGroup>, DestinationError> {
        self.read(Kind::Group, id).await
    }

    /// Every user, by id.
    pub async fn read_all_users(&self) -> Result<Vec<StoredUser>, DestinationError> {
        let dir = self.dir.join(Kind::User.folder());
        let mut users: Vec<StoredUser> = blocking(move || read_all(&dir)).await?;
        users.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(users)
    }

    /// Every group, by id.
    pub async fn read_all_groups(&self) -> Result<Vec<StoredGroup>, DestinationError> {
        let dir = self.dir.join(Kind::Group.folder());
        let mut groups: Vec<StoredGroup> = blocking(move || read_all(&dir)).await?;
        groups.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(groups)
    }

    /// Adds a user the app had before any sync, without an `externalId`: what a first sync finds
    /// and adopts. For tests and the demo.
    pub async fn seed_user(
        &self,
        record: &UserRecord,
        active: bool,
    ) -> Result<DestinationId, DestinationError> {
        let user_name = required_user_name(record)?;
        let mut index = self.lock().await?;
        if let Some(owner) = index.owner_of(&user_name) {
            return Err(taken(owner));
        }
        self.insert_user(&mut index, None, user_name, record, active)
            .await
    }

    /// The file of `id`, or `None` for ids that cannot be ours: ids reach file names here, so
    /// anything but letters, digits, `-` and `_` (a `/`, a `..`) is refused before any file access.
    fn path(&self, kind: Kind, id: &DestinationId) -> Option<PathBuf> {
        let safe = id
            .as_str()
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        safe.then(|| {
            self.dir
                .join(kind.folder())
                .join(format!("{}.json", id.as_str()))
        })
    }

    async fn read<T: DeserializeOwned + Send + 'static>(
        &self,
        kind: Kind,
        id: &DestinationId,
    ) -> Result<Option<T>, DestinationError> {
        let Some(path) = self.path(kind, id) else {
            return Ok(None);
        };
        blocking(move || files::read_json(&path).map_err(|err| read_error(&path, err))).await
    }

    async fn existing<T: DeserializeOwned + Send + 'static>(
        &self,
        kind: Kind,
        id: &DestinationId,
    ) -> Result<T, DestinationError> {
        self.read(kind, id)
            .await?
            .ok_or_else(|| DestinationError::NotFound {
                what: kind.what(),
                id: id.to_string(),
            })
    }

    async fn write<T: Serialize>(
        &self,
        kind: Kind,
        id: &DestinationId,
        value: &T,
    ) -> Result<(), DestinationError> {
        let path = self
            .path(kind, id)
            .ok_or_else(|| DestinationError::NotFound {
                what: kind.what(),
                id: id.to_string(),
            })?;
        let bytes =
            serde_json::to_vec_pretty(value).map_err(|err| transport("encode", &path, err))?;
        blocking(move || {
            files::write_atomic(&path, &bytes).map_err(|err| transport("write", &path, err))
        })
        .await?;
        self.writes.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Takes the lock that every change holds, building the index on first use.
    async fn lock(&self) -> Result<MappedMutexGuard<'_, Index>, DestinationError> {
        let mut slot = self.index.lock().await;
        if slot.is_none() {
            let dir = self.dir.join(Kind::User.folder());
            let users: Vec<StoredUser> = blocking(move || read_all(&dir)).await?;
            *slot = Some(Index::from_users(&users));
            tracing::debug!(users = users.len(), "directory index built");
        }
        Ok(MutexGuard::map(slot, |slot| {
            slot.get_or_insert_with(Index::default)
        }))
    }

    /// A fresh id: `u-` or `g-` and 48 random bits in hex, checked against existing files.
    async fn new_id(&self, kind: Kind) -> Result<DestinationId, DestinationError> {
        loop {
            let bits = rand::random::<u64>() & 0xffff_ffff_ffff;
            let id = DestinationId::parse(&format!("{}-{bits:012x}", kind.id_prefix())).map_err(
                |err| DestinationError::Transport {
                    detail: err.to_string(),
                },
            )?;
            let Some(path) = self.path(kind, &id) else {
                continue;
            };
            let exists = blocking(move || {
                path.try_exists()
                    .map_err(|err| transport("check", &path, err))
            })
            .await?;
            if !exists {
                return Ok(id);
            }
        }
    }

    async fn insert_user(
        &self,
        index: &mut Index,
        external_id: Option<String>,
        user_name: String,
        record: &UserRecord,
        active: bool,
    ) -> Result<DestinationId, DestinationError> {
        let id = self.new_id(Kind::User).await?;
        let now = Utc::now();
        let user = StoredUser {
            id: id.clone(),
            external_id,
            user_name,
            active,
            manager: None,
            fields: record.clone(),
            meta: Meta {
                created: now,
                last_modified: now,
            },
        };
        self.write(Kind::User, &id, &user).await?;
        index.insert(&user);
        tracing::debug!(destination_id = %id, "directory user created");
        Ok(id)
    }

    /// Reads user `id`, lets `change` edit it, and writes it back only when something changed.
    async fn modify_user(
        &self,
        id: &DestinationId,
        change: impl FnOnce(&mut StoredUser, &Index) -> Result<(), DestinationError> + Send,
    ) -> Result<(), DestinationError> {
        let mut index = self.lock().await?;
        let before: StoredUser = self.existing(Kind::User, id).await?;
        let mut after = before.clone();
        change(&mut after, &index)?;
        if after.same_content(&before) {
            return Ok(());
        }
        after.meta.last_modified = Utc::now();
        self.write(Kind::User, id, &after).await?;
        index.remove(&before);
        index.insert(&after);
        Ok(())
    }

    /// Fails with `NotFound` unless user `id` exists.
    async fn require_user(&self, id: &DestinationId) -> Result<(), DestinationError> {
        self.existing::<StoredUser>(Kind::User, id).await.map(drop)
    }
}

#[async_trait]
impl Destination for DirectoryDestination {
    async fn users(&self) -> Result<Vec<DestinationUser>, DestinationError> {
        let users = self.read_all_users().await?;
        Ok(users.iter().map(StoredUser::to_destination_user).collect())
    }

    async fn find_user(
        &self,
        user_name: &str,
    ) -> Result<Option<DestinationUser>, DestinationError> {
        let found = self.lock().await?.find(user_name).cloned();
        let Some(id) = found else { return Ok(None) };
        let user: Option<StoredUser> = self.read(Kind::User, &id).await?;
        Ok(user.map(|user| user.to_destination_user()))
    }

    async fn create(&self, user: &NewUser) -> Result<DestinationId, DestinationError> {
        let user_name = required_user_name(&user.record)?;
        let mut index = self.lock().await?;
        if let Some(owner) = index.owner_of(&user_name).cloned() {
            let existing: StoredUser = self.existing(Kind::User, &owner).await?;
            // A create that timed out after the directory made the user comes back as this
            // conflict; the externalId shows it is ours, so it is the same user, not a second one.
            if existing.external_id.as_deref() == Some(user.external_id.as_str()) {
                tracing::debug!(destination_id = %owner, "create retried; the user exists already");
                return Ok(owner);
            }
            return Err(taken(&owner));
        }
        self.insert_user(
            &mut index,
            Some(user.external_id.clone()),
            user_name,
            &user.record,
            user.active,
        )
        .await
    }

    async fn update(
        &self,
        id: &DestinationId,
        changes: &[FieldChange],
    ) -> Result<(), DestinationError> {
        self.modify_user(id, |user, index| {
            let mut fields = user.fields.clone();
            fields.apply(changes);
            let user_name = required_user_name(&fields)?;
            match index.owner_of(&user_name) {
                Some(owner) if owner != &user.id => return Err(taken(owner)),
                _ => {}
            }
            user.fields = fields;
            user.user_name = user_name;
            Ok(())
        })
        .await
    }

    async fn adopt(&self, id: &DestinationId, external_id: &str) -> Result<(), DestinationError> {
        self.modify_user(id, |user, _| {
            user.external_id = Some(external_id.to_owned());
            Ok(())
        })
        .await
    }

    async fn set_active(&self, id: &DestinationId, active: bool) -> Result<(), DestinationError> {
        self.modify_user(id, |user, _| {
            user.active = active;
            Ok(())
        })
        .await
    }

    async fn delete_user(&self, id: &DestinationId) -> Result<(), DestinationError> {
        let mut index = self.lock().await?;
        let Some(before) = self.read::<StoredUser>(Kind::User, id).await? else {
            return Ok(());
        };
        let Some(path) = self.path(Kind::User, id) else {
            return Ok(());
        };
        let removed = path.clone();
        blocking(move || match std::fs::remove_file(&removed) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
                Err(transport("delete", &removed, error))
            }
            _ => Ok(()),
        })
        .await?;
        index.remove(&before);
        self.writes.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    async fn set_manager(
        &self,
        id: &DestinationId,
        manager: Option<&DestinationId>,
    ) -> Result<(), DestinationError> {
        if let Some(manager) = manager {
            // Only retention deletes, and only leavers: a manager that exists now still exists
            // at the write.
            self.require_user(manager).await?;
        }
        self.modify_user(id, |user, _| {
            user.manager = manager.cloned();
            Ok(())
        })
        .await
    }

    async fn create_group(
        &self,
        display_name: &str,
        external_id: &str,
        members: &[DestinationId],
    ) -> Result<DestinationId, DestinationError> {
        let mut unique: Vec<DestinationId> = Vec::with_capacity(members.len());
        for member in members {
            if !unique.contains(member) {
                self.require_user(member).await?;
                unique.push(member.clone());
            }
        }
        let existing = self
            .read_all_groups()
            .await?
            .into_iter()
            .find(|group| group.external_id.as_deref() == Some(external_id));
        if let Some(existing) = existing {
            // Ours from a create whose link was lost: reuse it rather than make a twin.
            self.update_group(&existing.id, &unique, &[]).await?;
            return Ok(existing.id);
        }
        // Held for the id check and write, so two creates cannot pick the same id.
        let _guard = self.lock().await?;
        let id = self.new_id(Kind::Group).await?;
        let group = StoredGroup {
            id: id.clone(),
            display_name: display_name.to_owned(),
            external_id: Some(external_id.to_owned()),
            members: unique,
        };
        self.write(Kind::Group, &id, &group).await?;
        tracing::debug!(group_id = %id, members = group.members.len(), "directory group created");
        Ok(id)
    }

    async fn update_group(
        &self,
        id: &DestinationId,
        add: &[DestinationId],
        remove: &[DestinationId],
    ) -> Result<(), DestinationError> {
        let _guard = self.lock().await?;
        let before: StoredGroup = self.existing(Kind::Group, id).await?;
        let mut after = before.clone();
        for member in add {
            if !after.members.contains(member) {
                self.require_user(member).await?;
                after.members.push(member.clone());
            }
        }
        after.members.retain(|member| !remove.contains(member));
        if after == before {
            return Ok(());
        }
        self.write(Kind::Group, id, &after).await
    }

    async fn field_placements(
        &self,
        fields: &[String],
    ) -> Result<Vec<FieldPlacement>, DestinationError> {
        Ok(fields
            .iter()
            .map(|field| FieldPlacement {
                field: field.clone(),
                place: Some(format!("fields.{field}")),
                why: "kept as it is in the user's file".into(),
            })
            .collect())
    }
}
