//! Writing to one existing resource (a User or a Group) whatever the server supports: PATCH when
//! it has it, else GET-modify-PUT; `If-Match` with the ETag of the read the write was derived
//! from, re-reading and retrying once when the server answers 412.
//!
//! Writes whose outcome does not depend on the current state (set `active`, set `externalId`)
//! go out as a "blind" PATCH without a read: one request, and nothing an ETag would protect.

use crate::client::Verb;
use crate::error::Failure;
use crate::json::member;
use crate::patch;
use crate::ScimDestination;
use serde_json::Value;
use sync_core::ids::DestinationId;
use sync_core::ports::DestinationError;

/// The resource a write is about.
#[derive(Clone, Copy)]
pub(crate) struct Target<'a> {
    /// `Users` or `Groups`.
    pub collection: &'static str,
    /// `user` or `group`, for error messages.
    pub what: &'static str,
    /// Its id.
    pub id: &'a DestinationId,
}

/// A resource as the server holds it now.
pub(crate) struct Current {
    /// The resource.
    pub body: Value,
    /// Its version, from the `ETag` header or `meta.version`.
    pub etag: Option<String>,
}

/// One write, in the forms the different server capabilities need.
pub(crate) struct Edit<'a> {
    /// Operations to send without reading first, when the write does not depend on the current
    /// state; `None` to always derive the operations from a read.
    pub blind: Option<Vec<Value>>,
    /// The PATCH operations that bring the current resource to the desired one.
    pub operations: &'a (dyn Fn(&Value) -> Vec<Value> + Sync),
    /// The whole desired resource, for a PUT; `None` when the current one already is.
    pub rewrite: &'a (dyn Fn(&Value) -> Option<Value> + Sync),
}

impl ScimDestination {
    /// Reads one resource.
    pub(crate) async fn read(&self, target: Target<'_>) -> Result<Current, Failure> {
        let reply = self
            .client
            .send(
                Verb::Get,
                &[target.collection, target.id.as_str()],
                &[],
                None,
                None,
            )
            .await?;
        let body = reply.body.ok_or_else(|| {
            Failure::Malformed(format!(
                "the destination returned {} {} without a body",
                target.what, target.id
            ))
        })?;
        let etag = reply.etag.or_else(|| {
            member(&body, "meta")
                .and_then(|meta| member(meta, "version"))
                .and_then(Value::as_str)
                .map(str::to_owned)
        });
        Ok(Current { body, etag })
    }

    /// Applies `edit` to `target` with PATCH, or PUT when the server has no PATCH.
    pub(crate) async fn write(
        &self,
        target: Target<'_>,
        edit: Edit<'_>,
    ) -> Result<(), DestinationError> {
        let error = |failure: Failure| {
            failure.into_error(self.client.tenant(), target.what, target.id.as_str())
        };
        let capabilities = self.client.capabilities().await.map_err(error)?;
        if capabilities.patch {
            let outcome = match &edit.blind {
                Some(operations) => {
                    let outcome = self.patch(target, operations.clone(), None).await;
                    match outcome {
                        // A strict server refuses to remove what is not there, or to replace
                        // inside an element that does not exist: derive the operations from the
                        // current state instead.
                        Err(Failure::Refused(refusal)) if refusal.is_no_target() => {
                            self.read_then_patch(target, edit.operations, capabilities.etag)
                                .await
                        }
                        other => other,
                    }
                }
                None => {
                    self.read_then_patch(target, edit.operations, capabilities.etag)
                        .await
                }
            };
            match outcome {
                Err(Failure::Refused(refusal)) if refusal.status == 501 => {
                    self.client.note_patch_refused()
                }
                other => return other.map_err(error),
            }
        }
        self.read_then_put(target, edit.rewrite, capabilities.etag)
            .await
            .map_err(error)
    }

    async fn patch(
        &self,
        target: Target<'_>,
        operations: Vec<Value>,
        if_match: Option<&str>,
    ) -> Result<(), Failure> {
        let body = patch::request(operations);
        // RFC 7644 §3.5.2: the answer is 200 with the resource or 204 without; either is success
        // and neither body is needed.
        self.client
            .send(
                Verb::Patch,
                &[target.collection, target.id.as_str()],
                &[],
                Some(&body),
                if_match,
            )
            .await
            .map(drop)
    }

    async fn read_then_patch(
        &self,
        target: Target<'_>,
        operations: &(dyn Fn(&Value) -> Vec<Value> + Sync),
        use_etag: bool,
    ) -> Result<(), Failure> {
        let body = |current: &Value| {
            let operations = operations(current);
            (!operations.is_empty()).then(|| patch::request(operations))
        };
        self.read_then_send(target, Verb::Patch, &body, use_etag)
            .await
    }

    async fn read_then_put(
        &self,
        target: Target<'_>,
        rewrite: &(dyn Fn(&Value) -> Option<Value> + Sync),
        use_etag: bool,
    ) -> Result<(), Failure> {
        let body = |current: &Value| {
            let mut replacement = rewrite(current)?;
            // `meta` is read-only (RFC 7643 §3.1); servers ignore it at best, so do not send it.
            if let Some(object) = replacement.as_object_mut() {
                object.retain(|key, _| !key.eq_ignore_ascii_case("meta"));
            }
            Some(replacement)
        };
        self.read_then_send(target, Verb::Put, &body, use_etag)
            .await
    }

    /// Reads `target`, derives the request body from what it holds (`None`: nothing to write)
    /// and sends it with `verb` under `If-Match` with the ETag of that read. A 412 means the
    /// resource changed in between: read and derive again, once.
    async fn read_then_send(
        &self,
        target: Target<'_>,
        verb: Verb,
        body: &(dyn Fn(&Value) -> Option<Value> + Sync),
        use_etag: bool,
    ) -> Result<(), Failure> {
        let mut round = 0;
        loop {
            round += 1;
            let current = self.read(target).await?;
            let Some(body) = body(&current.body) else {
                return Ok(());
            };
            let if_match = current.etag.as_deref().filter(|_| use_etag);
            // RFC 7644 §3.5.1/§3.5.2: 200 with the resource or 204 without; either is success
            // and neither body is needed.
            let outcome = self
                .client
                .send(
                    verb,
                    &[target.collection, target.id.as_str()],
                    &[],
                    Some(&body),
                    if_match,
                )
                .await;
            match outcome {
                Err(Failure::Refused(refusal)) if refusal.status == 412 => {
                    if round >= 2 {
                        return Err(changed_meanwhile(target, round));
                    }
                    tracing::debug!(id = %target.id, ?verb, "412; reading again");
                }
                other => return other.map(drop),
            }
        }
    }
}

fn changed_meanwhile(target: Target<'_>, attempts: u32) -> Failure {
    Failure::Exhausted {
        attempts,
        detail: format!(
            "the {} changed on the destination between reading and writing it (HTTP 412 each time)",
            target.what
        ),
    }
}
