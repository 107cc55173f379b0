//! Per-person decisions: create, adopt, update, activate, deactivate or leave alone.

use super::retention::{self, Leaver};
use super::{Action, ActionKind, Plan, PlanInput, Skip};
use crate::config::{InvitePolicy, OutOfScope, TenantConfig};
use crate::employee::EmploymentStatus;
use crate::history::RecordError;
use crate::ids::PersonKey;
use crate::lifecycle::{self, Desired};
use crate::people::Person;
use crate::record::{FieldChange, FieldValue, UserRecord};
use crate::scope::ScopeDecision;
use crate::state::{Link, LinkState};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// What the per-person pass leaves for managers and groups.
pub(super) struct Outcome {
    /// The state each person's user will be in after the plan, for everyone who has or gets one.
    pub final_state: BTreeMap<PersonKey, LinkState>,
    /// People whose user is left exactly as it is (protected, errors, left out of scope): their
    /// manager and group memberships do not change either.
    pub untouched: BTreeSet<PersonKey>,
    /// Leavers without a user (never had one, or retention deleted it): a report whose
    /// supervisor is one of them gets no manager rather than an error on every run.
    pub retired: BTreeSet<PersonKey>,
}

pub(super) fn plan_people(input: &mut PlanInput<'_>, plan: &mut Plan) -> Outcome {
    let config = input.config;
    let (snapshot, protected, candidates, now) =
        (input.snapshot, input.protected, input.candidates, input.now);
    let rules = config.mapping.effective_fields();
    let create_only: BTreeSet<String> = rules
        .iter()
        .filter(|rule| rule.create_only)
        .map(|rule| rule.target.clone())
        .collect();
    let mut outcome = Outcome {
        final_state: input
            .snapshot
            .links
            .values()
            .map(|link| (link.key.clone(), link.state))
            .collect(),
        untouched: input.protected.clone(),
        retired: BTreeSet::new(),
    };
    let duplicates = duplicate_keys(config, input.people);
    let mut seen = BTreeSet::new();
    let mut today_by_zone: HashMap<chrono_tz::Tz, chrono::NaiveDate> = HashMap::new();
    let mut leavers = Vec::new();
    // Built on the first person without a user: a run of linked people never needs it.
    let mut departed: Option<HashMap<String, &Link>> = None;

    for person in input.people.iter_mut() {
        let key = person.key().clone();
        seen.insert(key.clone());
        if protected.contains(&key) {
            plan.skips.push(skip(
                &key,
                "could not be read from Personio this run; left as it is",
            ));
            continue;
        }
        // Taken, not copied: the plan owns the records it writes, and a first sync of 50,000
        // people must not hold every record twice.
        let mut record = match std::mem::replace(&mut person.record, Ok(UserRecord::new())) {
            Ok(record) => record,
            Err(errors) => {
                plan.errors.extend(errors);
                outcome.untouched.insert(key);
                continue;
            }
        };
        if let Some(error) = duplicates.get(&key) {
            plan.errors.push(error.clone());
            outcome.untouched.insert(key);
            continue;
        }
        let link = snapshot.links.get(&key);
        if let (Some(field), Some(link)) = (&config.invite.field, link) {
            // Keep the invitation flag we set earlier, or every run would try to unset it.
            if link.invited_on.is_some() {
                record.set(field.clone(), FieldValue::Text("true".into()));
            }
        }
        let zone = config.timezone_for(person.employee.office());
        // Few zones, many people: convert "now" once per zone.
        let today = *today_by_zone
            .entry(zone)
            .or_insert_with(|| lifecycle::today_in(zone, now));
        let desired = lifecycle::desired(&person.employee, today, config.lifecycle.pre_hire_days);
        if matches!(desired, Desired::Gone(_)) && link.is_none() {
            outcome.retired.insert(key.clone());
        }
        if matches!(person.scope, ScopeDecision::In) && !matches!(desired, Desired::Gone(_)) {
            plan.in_scope += 1;
        }
        let decision = decide(config, &person.scope, desired, link);
        let rehire = match (&decision, link) {
            (Decision::Exist(_, _), None) => {
                let departed = departed.get_or_insert_with(|| departed_accounts(config, snapshot));
                rehire_of(config, departed, &key, &record)
            }
            _ => None,
        };
        let changes = |link: &Link| link.record.diff(&record, &create_only);
        let action = match (decision, link) {
            (Decision::Nothing, _) => None,
            (Decision::Skip(reason), _) => {
                if link.is_some() {
                    outcome.untouched.insert(key.clone());
                }
                plan.skips.push(skip(&key, &reason));
                None
            }
            (Decision::Exist(_, _), None) if rehire.is_some() => {
                if let Some(departed) = rehire {
                    plan.skips.push(skip(&key, &held_rehire(&key, departed)));
                }
                outcome.untouched.insert(key.clone());
                None
            }
            (Decision::Exist(state, reason), Some(link)) if link.relinked_from.is_some() => {
                let from = link.relinked_from.as_ref().map(ToString::to_string);
                Some((
                    ActionKind::Adopt {
                        destination_id: link.destination_id.clone(),
                        record,
                        state,
                    },
                    format!(
                        "{reason}; re-linked to the user of departed Personio profile {} (an admin's decision)",
                        from.unwrap_or_default()
                    ),
                ))
            }
            (Decision::Exist(state, reason), None) => {
                match adoption(config, candidates, &key, &record) {
                    Adoption::None => {
                        if invite_due(config, None, state, None) {
                            mark_invite(config, &mut record, plan, &key);
                        }
                        Some((ActionKind::Create { record, state }, reason))
                    }
                    Adoption::Adopt(destination_id) => Some((
                        ActionKind::Adopt {
                            destination_id,
                            record,
                            state,
                        },
                        format!("{reason}; matched an existing user in the app"),
                    )),
                    Adoption::Refused(error) => {
                        plan.errors.push(error);
                        outcome.untouched.insert(key.clone());
                        None
                    }
                }
            }
            (Decision::Exist(state, reason), Some(link)) => {
                let mut changes = changes(link);
                let destination_id = link.destination_id.clone();
                if invite_due(config, Some(link), state, Some(link.state)) {
                    mark_invite(config, &mut record, plan, &key);
                    changes = link.record.diff(&record, &create_only);
                }
                match (link.state, state) {
                    (from, LinkState::Active) if from != LinkState::Active => Some((
                        ActionKind::Activate {
                            destination_id,
                            changes,
                            from,
                        },
                        reason,
                    )),
                    (LinkState::Active, to) if to != LinkState::Active => Some((
                        ActionKind::Deactivate {
                            destination_id,
                            changes,
                            to,
                        },
                        reason,
                    )),
                    (from, to) if from != to => Some((
                        ActionKind::Update {
                            destination_id,
                            changes,
                            to,
                        },
                        reason,
                    )),
                    (_, to) if !changes.is_empty() => {
                        let reason = describe_changes(&changes);
                        Some((
                            ActionKind::Update {
                                destination_id,
                                changes,
                                to,
                            },
                            reason,
                        ))
                    }
                    _ => None,
                }
            }
        };
        match action {
            Some((kind, reason)) => {
                if let Some(state) = final_state(&kind) {
                    outcome.final_state.insert(key.clone(), state);
                }
                plan.actions.push(Action { key, kind, reason });
            }
            None if matches!(desired, Desired::Gone(_))
                && link.is_some_and(|link| link.state == LinkState::Inactive)
                && !outcome.untouched.contains(&key) =>
            {
                leavers.push(Leaver {
                    key,
                    termination: person.employee.termination_date,
                });
            }
            None => {}
        }
    }

    for link in input.snapshot.links.values() {
        let missing = input.complete && !seen.contains(&link.key);
        let left = (missing || input.gone.contains(&link.key)) && !protected.contains(&link.key);
        if left && link.state == LinkState::Inactive {
            leavers.push(Leaver {
                key: link.key.clone(),
                termination: None,
            });
        }
        if left && link.state != LinkState::Inactive {
            outcome
                .final_state
                .insert(link.key.clone(), LinkState::Inactive);
            plan.actions.push(Action {
                key: link.key.clone(),
                kind: ActionKind::Deactivate {
                    destination_id: link.destination_id.clone(),
                    changes: Vec::new(),
                    to: LinkState::Inactive,
                },
                reason: "no longer returned by Personio (deleted there, or no longer readable by the API credential)".to_owned(),
            });
        }
    }
    let today = lifecycle::today_in(config.timezone, now);
    for key in retention::plan_deletions(config, snapshot, &leavers, today, plan) {
        // No user after the run: no manager link, no group membership.
        outcome.final_state.remove(&key);
        outcome.retired.insert(key);
    }
    outcome
}

/// Where a person's user should stand, before looking at the link.
enum Decision {
    /// No user and none wanted.
    Nothing,
    /// Leave as it is, reported with a reason.
    Skip(String),
    /// A user in this state, with the reason for the summary.
    Exist(LinkState, String),
}

fn decide(
    config: &TenantConfig,
    scope: &ScopeDecision,
    desired: Desired,
    link: Option<&Link>,
) -> Decision {
    let linked = link.is_some();
    let active_link = link.is_some_and(|link| link.state != LinkState::Inactive);
    match desired {
        Desired::Gone(reason) => {
            let sync_leavers = config.scope.statuses.contains(&EmploymentStatus::Inactive);
            if linked || (sync_leavers && matches!(scope, ScopeDecision::In)) {
                Decision::Exist(LinkState::Inactive, reason.describe())
            } else {
                Decision::Nothing
            }
        }
        _ if !matches!(scope, ScopeDecision::In) => {
            let ScopeDecision::Out(why) = scope else {
                return Decision::Nothing;
            };
            match (active_link, config.scope.out_of_scope) {
                (true, OutOfScope::Deactivate) => {
                    Decision::Exist(LinkState::Inactive, format!("left scope: {why}"))
                }
                (true, OutOfScope::Leave) => {
                    Decision::Skip(format!("out of scope ({why}); left as it is"))
                }
                // Already inactive, or never created: nothing to write.
                (false, _) => Decision::Nothing,
            }
        }
        Desired::NotYet { hire_date } => {
            if linked {
                let reason = match hire_date {
                    Some(date) => format!("hire date moved to {date}"),
                    None => "onboarding without a hire date".to_owned(),
                };
                Decision::Exist(LinkState::PreHire, reason)
            } else {
                Decision::Skip(match hire_date {
                    Some(date) => format!(
                        "starts on {date}, more than {} days away",
                        config.lifecycle.pre_hire_days
                    ),
                    None => "onboarding without a hire date".to_owned(),
                })
            }
        }
        Desired::PreHire { hire_date } => Decision::Exist(
            LinkState::PreHire,
            format!("starts on {hire_date}; created ahead, inactive"),
        ),
        Desired::Active => {
            let reason = match link.map(|link| link.state) {
                None => "joined".to_owned(),
                Some(LinkState::PreHire) => "hire date reached".to_owned(),
                Some(LinkState::Inactive) => {
                    "active again in Personio (rehired or back in scope)".to_owned()
                }
                Some(LinkState::Active) => String::new(),
            };
            Decision::Exist(LinkState::Active, reason)
        }
    }
}

fn final_state(kind: &ActionKind) -> Option<LinkState> {
    match kind {
        ActionKind::Create { state, .. } | ActionKind::Adopt { state, .. } => Some(*state),
        ActionKind::Update { to, .. } | ActionKind::Deactivate { to, .. } => Some(*to),
        ActionKind::Activate { .. } => Some(LinkState::Active),
        ActionKind::Delete { .. } => None,
    }
}

fn skip(key: &PersonKey, reason: &str) -> Skip {
    Skip {
        key: key.clone(),
        reason: reason.to_owned(),
    }
}

fn describe_changes(changes: &[FieldChange]) -> String {
    if changes.is_empty() {
        return "state changed".to_owned();
    }
    let names: Vec<&str> = changes.iter().map(|change| change.field.as_str()).collect();
    format!("{} changed", names.join(", "))
}

/// The lower-cased value a person is matched on, if mapped.
fn match_value(config: &TenantConfig, record: &UserRecord) -> Option<String> {
    record
        .text(&config.matching.field)
        .map(|value| value.trim().to_lowercase())
        .filter(|value| !value.is_empty())
}

/// People who claim the same user name (or match value) as someone else in this run: all of them
/// become errors and nothing is written for them, since either could be the real owner.
fn duplicate_keys(config: &TenantConfig, people: &[Person]) -> BTreeMap<PersonKey, RecordError> {
    // Borrowed text where it is already lower-case (user names and emails are, by the default
    // transforms), so the common case allocates nothing per person.
    fn folded(text: &str) -> std::borrow::Cow<'_, str> {
        let text = text.trim();
        if text.chars().any(char::is_uppercase) {
            std::borrow::Cow::Owned(text.to_lowercase())
        } else {
            std::borrow::Cow::Borrowed(text)
        }
    }
    let match_field = config.matching.field.as_str();
    // The first claimant of each value, and the values claimed more than once: people rarely
    // share an address, so the common case stores one borrowed key per value.
    let mut first: HashMap<std::borrow::Cow<'_, str>, &PersonKey> =
        HashMap::with_capacity(people.len());
    let mut shared: HashMap<std::borrow::Cow<'_, str>, Vec<&PersonKey>> = HashMap::new();
    for person in people {
        let Ok(record) = &person.record else { continue };
        let user_name = record.text_ref(crate::record::USER_NAME).map(folded);
        let other = (match_field != crate::record::USER_NAME)
            .then(|| record.text_ref(match_field).map(folded))
            .flatten()
            .filter(|value| Some(value) != user_name.as_ref());
        for value in user_name.into_iter().chain(other) {
            match first.get(&value) {
                None => {
                    first.insert(value, person.key());
                }
                Some(owner) => shared
                    .entry(value)
                    .or_insert_with(|| vec![owner])
                    .push(person.key()),
            }
        }
    }
    let claims = shared;
    let mut errors = BTreeMap::new();
    for keys in claims.values().filter(|keys| keys.len() > 1) {
        for key in keys {
            let others: Vec<String> = keys
                .iter()
                .filter(|other| *other != key)
                .map(|other| other.to_string())
                .collect();
            errors.insert(
                (*key).clone(),
                RecordError {
                    name: None,
                    person: Some((*key).clone()),
                    action: "match".to_owned(),
                    message: format!(
                        "has the same user name or email as Personio person {}; neither is synced",
                        others.join(", ")
                    ),
                    hint: "give each person their own work email in Personio".to_owned(),
                },
            );
        }
    }
    errors
}

/// Inactive users of departed profiles by their lower-cased match value: a new profile with
/// the same value may be the same person rehired.
fn departed_accounts<'a>(
    config: &TenantConfig,
    snapshot: &'a crate::state::Snapshot,
) -> HashMap<String, &'a Link> {
    snapshot
        .links
        .values()
        .filter(|link| link.state == LinkState::Inactive)
        .filter_map(|link| Some((match_value(config, &link.record)?, link)))
        .collect()
}

/// The departed profile's link whose user `key` (a person without a user) would take over, unless
/// an admin chose a new user for `key` already.
fn rehire_of<'a>(
    config: &TenantConfig,
    departed: &HashMap<String, &'a Link>,
    key: &PersonKey,
    record: &UserRecord,
) -> Option<&'a Link> {
    let link = departed.get(&match_value(config, record)?)?;
    (link.key != *key && !link.rehire_declined.contains(key)).then_some(*link)
}

/// Why a possible rehire waits, and how an admin decides.
fn held_rehire(key: &PersonKey, departed: &Link) -> String {
    format!(
        "{}: has the user name of departed Personio profile {} (app user {}); an admin re-links that user or chooses a new one: personio-sync rehire --person {key} --previous {} --relink (or --create-new), or the admin API's POST /tenants/{{tenant}}/rehires",
        crate::rehire::HELD,
        departed.key,
        departed.destination_id,
        departed.key
    )
}

enum Adoption {
    None,
    Adopt(crate::ids::DestinationId),
    Refused(RecordError),
}

fn adoption(
    config: &TenantConfig,
    candidates: &BTreeMap<String, crate::ports::DestinationUser>,
    key: &PersonKey,
    record: &UserRecord,
) -> Adoption {
    let Some(value) = match_value(config, record) else {
        return Adoption::None;
    };
    let Some(candidate) = candidates.get(&value) else {
        return Adoption::None;
    };
    let refused = |message: String, hint: &str| {
        Adoption::Refused(RecordError {
            name: None,
            person: Some(key.clone()),
            action: "adopt".to_owned(),
            message,
            hint: hint.to_owned(),
        })
    };
    match candidate.external_id.as_deref() {
        // Ours already: a create whose link was lost (a crash between write and snapshot).
        Some(external) if external == key.external_id() => Adoption::Adopt(candidate.id.clone()),
        Some(other) if !other.is_empty() => refused(
            format!(
                "the app already has user {} with this {} and another external id; it is not managed by this integration",
                candidate.id, config.matching.field
            ),
            "remove the other external id in the app, or change the person's email in Personio",
        ),
        _ if !config.matching.adopt => refused(
            format!(
                "the app already has user {} with this {}, and adoption is off",
                candidate.id, config.matching.field
            ),
            "turn on matching.adopt to link existing users on first sync",
        ),
        _ => Adoption::Adopt(candidate.id.clone()),
    }
}

fn invite_due(
    config: &TenantConfig,
    link: Option<&Link>,
    to: LinkState,
    from: Option<LinkState>,
) -> bool {
    if link.is_some_and(|link| link.invited_on.is_some()) {
        return false;
    }
    match config.invite.policy {
        InvitePolicy::Never => false,
        InvitePolicy::OnCreation => from.is_none() && to != LinkState::Inactive,
        InvitePolicy::OnHireDate => {
            to == LinkState::Active && matches!(from, None | Some(LinkState::PreHire))
        }
    }
}

fn mark_invite(config: &TenantConfig, record: &mut UserRecord, plan: &mut Plan, key: &PersonKey) {
    if let Some(field) = &config.invite.field {
        record.set(field.clone(), FieldValue::Text("true".into()));
    }
    plan.invites.push(key.clone());
}
