//! Invitations, sensitive fields and several Personio accounts.

use chrono::Days;
use fake_personio::FakePersonio;
use test_support::harness::*;
use test_support::personio::*;

#[tokio::test]
async fn welcome_email_goes_out_once_on_the_hire_date() {
    let extra = "[invite]\npolicy = \"on_hire_date\"\nsubject = \"Welcome {given_name}\"\n";
    let harness = Harness::with(extra, company(20)).await;
    let hire = day(TODAY).checked_add_days(Days::new(2)).expect("date");
    let mut id = 0;
    harness
        .fake
        .update(|company| id = company.new_hire("Katherine", "Johnson", hire));
    harness.run().await;
    let welcome = |emails: &[String]| {
        emails
            .iter()
            .filter(|e| e.contains("Subject: Welcome Katherine"))
            .count()
    };
    assert_eq!(welcome(&harness.emails()), 0, "not before the hire date");
    let on_the_day = harness
        .run_at(at(&hire.to_string(), "07:00:00"))
        .await
        .expect("run");
    assert_eq!(on_the_day.record.counts.invited, 1);
    let later = hire.checked_add_days(Days::new(1)).expect("date");
    harness
        .run_at(at(&later.to_string(), "07:00:00"))
        .await
        .expect("run");
    let emails = harness.emails();
    assert_eq!(welcome(&emails), 1, "exactly once");
    let email = emails
        .iter()
        .find(|e| e.contains("Subject: Welcome Katherine"))
        .expect("welcome");
    let address = harness
        .user(id)
        .await
        .expect("user")
        .fields
        .text("email")
        .expect("email");
    assert!(email.contains(&format!("To: <{address}>")), "{email}");
}

#[tokio::test]
async fn sensitive_values_never_reach_history_or_email() {
    let harness = Harness::new(30).await;
    harness.run().await;
    let person = first_with_status(&harness.fake.company(), "active");
    harness.fake.update(|company| {
        company
            .employee_mut(person)
            .expect("person")
            .custom
            .insert("dynamic_180883".into(), serde_json::json!("1977-07-07"));
    });
    let outcome = harness.run().await;
    let change = outcome
        .record
        .changes
        .iter()
        .find(|c| c.person == key(person))
        .expect("change");
    let birthday = change
        .fields
        .iter()
        .find(|f| f.field == "birthday")
        .expect("birthday listed");
    assert!(birthday.sensitive && birthday.old.is_none() && birthday.new.is_none());
    assert_eq!(
        harness
            .user(person)
            .await
            .expect("user")
            .fields
            .text("birthday")
            .as_deref(),
        Some("1977-07-07"),
        "still synced"
    );
    let history = std::fs::read_to_string(
        harness
            .path()
            .join(format!("state/e2e-tenant/runs/{}.json", outcome.record.id)),
    )
    .expect("run file");
    assert!(!history.contains("1977-07-07"));
    assert!(!harness.emails().iter().any(|e| e.contains("1977-07-07")));
    assert!(harness
        .emails()
        .last()
        .expect("email")
        .contains("birthday changed"));
}

#[tokio::test]
async fn two_personio_accounts_feed_one_destination_without_id_collisions() {
    let mut harness = Harness::new(25).await;
    let mut subsidiary = fake_personio::generate_company(&fake_personio::CompanySpec {
        employees: 25,
        seed: 99,
        today: day(TODAY),
    });
    for employee in &mut subsidiary.employees {
        employee.email = employee
            .email
            .replace(&format!("@{}", subsidiary.domain), "@subsidiary.example");
    }
    let second = FakePersonio::start(subsidiary, fake_config())
        .await
        .expect("fake");
    harness.add_account("sub", &second);
    let outcome = harness.run().await;
    let users = harness.users().await;
    let main = users
        .iter()
        .filter(|u| {
            u.external_id
                .as_deref()
                .is_some_and(|id| id.starts_with("main:"))
        })
        .count();
    let sub = users
        .iter()
        .filter(|u| {
            u.external_id
                .as_deref()
                .is_some_and(|id| id.starts_with("sub:"))
        })
        .count();
    assert!(main > 15 && sub > 15, "{main} + {sub}");
    assert_eq!(main + sub, outcome.record.counts.created);
    // Both companies number their people from 1000: the same id in two accounts is two people.
    assert!(
        harness.user(1000).await.is_some()
            || users
                .iter()
                .any(|u| u.external_id.as_deref() == Some("sub:1000"))
    );
    let again = harness.run().await;
    assert!(!again.record.counts.changed_anything());
}
