//! The seeded company generator: the same [`CompanySpec`] always gives the same [`Company`].
//!
//! Shape of the result: a CEO (no supervisor), one head per department reporting to the CEO, one
//! lead per team reporting to their head, everyone else reporting to their team's lead. Supervisors
//! are always generated before their reports, so a supervisor's id is lower and the tree has no
//! cycle. Ids start at 1000 with a few gaps, as real Personio ids are not contiguous.

use crate::company::{email_part, Company, CostCenterShare, EmptyStyle, FakeEmployee, OffsetStyle};
use crate::org::{cost_center_name, org_structure, MANAGEMENT_COST_CENTER};
use crate::roster::{
    DepartmentPlan, BIRTHDAY, DEPARTMENTS, DESK_NUMBER, FIRST_NAMES, LAST_NAMES, LINKEDIN, OFFICES,
    SHIRT_SIZE, SHIRT_SIZES, SKILLS, SKILLS_KEY, SUBCOMPANIES, TERMINATION_REASONS,
    TERMINATION_TYPES, TITLE, WEEKLY_HOURS,
};
use chrono::{Duration, Months, NaiveDate, NaiveDateTime};
use rand::rngs::SmallRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

/// What to generate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CompanySpec {
    /// Headcount, including leavers and people still onboarding.
    pub employees: usize,
    /// Seed of the random choices; same seed and headcount, same company.
    pub seed: u64,
    /// The day the data is realistic for: onboarding hire dates lie after it, leavers' termination
    /// dates before it.
    pub today: NaiveDate,
}

/// Generates a realistic company for `spec`. About 85% of people are `active` (a few of them in
/// their notice period, with a termination date ahead), 4% on `leave`, 5% `onboarding` (hire date
/// within 7 days for half of them, up to four months ahead for the rest) and 6% `inactive` with a
/// termination date behind `today`.
pub fn generate_company(spec: &CompanySpec) -> Company {
    let mut company = org_structure(spec.today);
    let mut generator = Generator {
        rng: SmallRng::seed_from_u64(spec.seed),
        today: spec.today,
        domain: company.domain.clone(),
        next_id: 1000,
        ceo: None,
        heads: vec![None; DEPARTMENTS.len()],
        team_leads: HashMap::new(),
        email_counts: HashMap::with_capacity(spec.employees),
    };
    company.employees.reserve(spec.employees);
    for index in 0..spec.employees {
        let person = generator.person(index);
        company.employees.push(person);
    }
    company
}

/// Where a person sits in the org chart.
#[derive(Clone, Copy)]
enum Role {
    Ceo,
    Head(usize),
    TeamLead(usize, usize),
    Member(usize, usize),
}

struct Generator {
    rng: SmallRng,
    today: NaiveDate,
    domain: String,
    next_id: u64,
    ceo: Option<u64>,
    heads: Vec<Option<u64>>,
    /// Lead of each (department, team).
    team_leads: HashMap<(usize, usize), u64>,
    /// How often each email local part was handed out, to number duplicates in O(1).
    email_counts: HashMap<String, u32>,
}

impl Generator {
    fn person(&mut self, index: usize) -> FakeEmployee {
        let id = self.take_id(index);
        let (role, supervisor) = self.place(index, id);
        let first = &FIRST_NAMES[self.rng.gen_range(0..FIRST_NAMES.len())];
        let last_name = LAST_NAMES[self.rng.gen_range(0..LAST_NAMES.len())];
        let leader = !matches!(role, Role::Member(..));
        let status = if leader { "active" } else { self.status() };
        let dates = self.dates(status, leader);
        let employment_type = if !leader && self.chance(8) {
            "external"
        } else {
            "internal"
        };
        let weekly_working_hours = if leader {
            "40"
        } else {
            WEEKLY_HOURS[self.rng.gen_range(0..WEEKLY_HOURS.len())]
        };
        let department = department_of(role);
        let office = if leader {
            Some(&OFFICES[0])
        } else {
            self.office()
        };
        let team = match role {
            Role::TeamLead(d, t) => Some(DEPARTMENTS[d].teams[t].to_owned()),
            Role::Member(d, t) if !self.chance(5) => Some(DEPARTMENTS[d].teams[t].to_owned()),
            _ => None,
        };
        let subcompany = match office {
            _ if self.chance(3) => None,
            Some(office) => Some(office.subcompany.to_owned()),
            None => Some(SUBCOMPANIES[0].to_owned()),
        };
        let fixed_term = employment_type == "external" || (!leader && self.chance(4));
        let contract_end_date = match dates.termination {
            // A fixed-term contract of a leaver ended when they left.
            Some(termination) if fixed_term && status == "inactive" => Some(termination),
            _ if fixed_term => {
                let ahead = Duration::days(self.rng.gen_range(30..=540));
                Some(dates.hire.max(self.today) + ahead)
            }
            _ => None,
        };
        let probation_period_end = (dates.hire > self.today - Duration::days(365))
            .then(|| dates.hire.checked_add_months(Months::new(6)))
            .flatten();
        let (created_at, last_modified_at) = self.timestamps(dates.hire);
        let empty_style = match self.rng.gen_range(0..10) {
            0 => EmptyStyle::EmptyString,
            1 => EmptyStyle::EmptyArray,
            _ => EmptyStyle::Null,
        };
        FakeEmployee {
            id,
            first_name: first.name.to_owned(),
            last_name: last_name.to_owned(),
            preferred_name: self.preferred_name(first.name, first.nickname, last_name),
            email: self.email(first.name, last_name),
            gender: if self.chance(2) {
                "diverse"
            } else {
                first.gender
            }
            .to_owned(),
            status: status.to_owned(),
            position: self.position(role, weekly_working_hours),
            employment_type: employment_type.to_owned(),
            weekly_working_hours: weekly_working_hours.to_owned(),
            hire_date: dates.hire,
            contract_end_date,
            termination_date: dates.termination,
            termination_type: dates.termination_type,
            termination_reason: dates.termination_reason,
            last_working_day: dates.last_working_day,
            probation_period_end,
            created_at,
            last_modified_at,
            supervisor,
            department: department.map(|plan| plan.name.to_owned()),
            office: office.map(|office| office.name.to_owned()),
            team,
            subcompany,
            cost_centers: self.cost_centers(department),
            fix_salary: (employment_type == "internal").then(|| self.rng.gen_range(60..=240) * 50),
            profile_picture: self.chance(70),
            picture_version: 0,
            custom: self.custom(first.name, last_name),
            empty_style,
            offset_style: if self.chance(5) {
                OffsetStyle::NoColon
            } else {
                OffsetStyle::Colon
            },
        }
    }

    /// The next id; after the first person, sometimes skips a few, like a real tenant whose
    /// test entries were deleted.
    fn take_id(&mut self, index: usize) -> u64 {
        if index > 0 && self.chance(8) {
            self.next_id += self.rng.gen_range(1..=3);
        }
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// Picks the person's role and supervisor; supervisors always exist already.
    fn place(&mut self, index: usize, id: u64) -> (Role, Option<u64>) {
        if index == 0 {
            self.ceo = Some(id);
            return (Role::Ceo, None);
        }
        if index <= DEPARTMENTS.len() {
            let department = index - 1;
            self.heads[department] = Some(id);
            return (Role::Head(department), self.ceo);
        }
        let roll = self.rng.gen_range(0..100);
        let mut department = 0;
        let mut cumulative = 0;
        for (candidate, plan) in DEPARTMENTS.iter().enumerate() {
            cumulative += plan.weight;
            department = candidate;
            if roll < cumulative {
                break;
            }
        }
        let team = self.rng.gen_range(0..DEPARTMENTS[department].teams.len());
        let head = self.heads[department].or(self.ceo);
        match self.team_leads.get(&(department, team)) {
            Some(&lead) => (Role::Member(department, team), Some(lead)),
            None => {
                self.team_leads.insert((department, team), id);
                (Role::TeamLead(department, team), head)
            }
        }
    }

    fn status(&mut self) -> &'static str {
        match self.rng.gen_range(0..100) {
            0..=84 => "active",
            85..=88 => "leave",
            89..=93 => "onboarding",
            _ => "inactive",
        }
    }

    fn dates(&mut self, status: &str, leader: bool) -> Dates {
        let today = self.today;
        let mut dates = Dates {
            hire: today,
            termination: None,
            termination_type: None,
            termination_reason: None,
            last_working_day: None,
        };
        match status {
            "onboarding" => {
                let ahead = if self.chance(50) {
                    self.rng.gen_range(1..=7)
                } else {
                    self.rng.gen_range(8..=120)
                };
                dates.hire = today + Duration::days(ahead);
            }
            "inactive" => {
                let termination = today - Duration::days(self.rng.gen_range(1..=700));
                dates.hire = termination - Duration::days(self.rng.gen_range(60..=2500));
                dates.termination = Some(termination);
                dates.termination_type = self.optional_text(TERMINATION_TYPES);
                dates.termination_reason = self.optional_text(TERMINATION_REASONS);
                dates.last_working_day = self.chance(80).then_some(termination);
            }
            _ => {
                let tenure = if leader { 800..=4000 } else { 30..=4000 };
                dates.hire = today - Duration::days(self.rng.gen_range(tenure));
                if status == "active" && !leader && self.chance(3) {
                    // Serving their notice period: still active, leaving soon.
                    let termination = today + Duration::days(self.rng.gen_range(5..=90));
                    dates.termination = Some(termination);
                    dates.termination_type = Some(TERMINATION_TYPES[0].to_owned());
                    dates.termination_reason = self.optional_text(TERMINATION_REASONS);
                    dates.last_working_day = Some(termination);
                } else if self.chance(10) {
                    // Personio sends "" for some people who never had a termination.
                    dates.termination_type = Some(String::new());
                    dates.termination_reason = Some(String::new());
                }
            }
        }
        dates
    }

    /// One of `options` (75%), `""` (15%) or nothing (10%).
    fn optional_text(&mut self, options: &[&str]) -> Option<String> {
        match self.rng.gen_range(0..100) {
            0..=74 => Some(options[self.rng.gen_range(0..options.len())].to_owned()),
            75..=89 => Some(String::new()),
            _ => None,
        }
    }

    /// `created_at` a few weeks before the hire date (never after `today`) and `last_modified_at`
    /// somewhere between it and `today`, both during office hours.
    fn timestamps(&mut self, hire: NaiveDate) -> (NaiveDateTime, NaiveDateTime) {
        let mut created_day = hire - Duration::days(self.rng.gen_range(7..=60));
        if created_day > self.today {
            created_day = self.today - Duration::days(self.rng.gen_range(0..=3));
        }
        let seconds_into_day = self.rng.gen_range(8 * 3600..18 * 3600);
        let created =
            created_day.and_time(chrono::NaiveTime::MIN) + Duration::seconds(seconds_into_day);
        let day_end = self.today.and_time(chrono::NaiveTime::MIN) + Duration::hours(18);
        let span = (day_end - created).num_seconds().max(0);
        let modified = created + Duration::seconds(self.rng.gen_range(0..=span));
        (created, modified)
    }

    fn preferred_name(&mut self, first: &str, nickname: Option<&str>, last: &str) -> String {
        match nickname {
            Some(nickname) if self.chance(40) => format!("{nickname} {last}"),
            _ if self.chance(5) => String::new(),
            _ => format!("{first} {last}"),
        }
    }

    fn email(&mut self, first: &str, last: &str) -> String {
        let local = format!("{}.{}", email_part(first), email_part(last));
        let count = self.email_counts.entry(local.clone()).or_insert(0);
        *count += 1;
        // Name parts hold no digits, so `anna.koch2` can never collide with a plain local part.
        if *count == 1 {
            format!("{local}@{}", self.domain)
        } else {
            format!("{local}{count}@{}", self.domain)
        }
    }

    fn position(&mut self, role: Role, weekly_working_hours: &str) -> String {
        match role {
            Role::Ceo => "CEO".to_owned(),
            Role::Head(d) => format!("Head of {}", DEPARTMENTS[d].name),
            Role::TeamLead(d, t) => format!("Team Lead {}", DEPARTMENTS[d].teams[t]),
            Role::Member(..) if weekly_working_hours == "20" => "Working Student".to_owned(),
            Role::Member(d, _) => {
                let positions = DEPARTMENTS[d].positions;
                positions[self.rng.gen_range(0..positions.len())].to_owned()
            }
        }
    }

    /// An office by weight; the 5% not covered by the weights work remotely, without one.
    fn office(&mut self) -> Option<&'static crate::roster::OfficePlan> {
        let roll = self.rng.gen_range(0..100);
        let mut cumulative = 0;
        OFFICES.iter().find(|office| {
            cumulative += office.weight;
            roll < cumulative
        })
    }

    fn cost_centers(&mut self, department: Option<&DepartmentPlan>) -> Vec<CostCenterShare> {
        let Some(department) = department else {
            return vec![share(MANAGEMENT_COST_CENTER.to_owned(), 100)];
        };
        if self.chance(5) {
            let other = &DEPARTMENTS[self.rng.gen_range(0..DEPARTMENTS.len())];
            if other.name != department.name {
                return vec![
                    share(cost_center_name(department.name), 50),
                    share(cost_center_name(other.name), 50),
                ];
            }
        }
        vec![share(cost_center_name(department.name), 100)]
    }

    fn custom(&mut self, first: &str, last: &str) -> BTreeMap<String, Value> {
        let mut custom = BTreeMap::new();
        if self.chance(90) {
            let born = birthday_origin() + Duration::days(self.rng.gen_range(0..=16_000));
            custom.insert(
                BIRTHDAY.to_owned(),
                born.format("%Y-%m-%d").to_string().into(),
            );
        }
        match self.rng.gen_range(0..100) {
            0..=4 => custom.insert(TITLE.to_owned(), "Dr".into()),
            5 => custom.insert(TITLE.to_owned(), "Prof. Dr".into()),
            6..=15 => custom.insert(TITLE.to_owned(), "".into()),
            _ => None,
        };
        if self.chance(60) {
            let suffix: u16 = self.rng.gen();
            let url = format!(
                "https://www.linkedin.com/in/{}-{}-{suffix:04x}",
                email_part(first),
                email_part(last)
            );
            custom.insert(LINKEDIN.to_owned(), url.into());
        }
        if self.chance(80) {
            let size = SHIRT_SIZES[self.rng.gen_range(0..SHIRT_SIZES.len())];
            custom.insert(SHIRT_SIZE.to_owned(), size.into());
        }
        if self.chance(70) {
            let count = self.rng.gen_range(1..=4);
            let skills: Vec<&str> = SKILLS
                .choose_multiple(&mut self.rng, count)
                .copied()
                .collect();
            // Personio usually sends tags comma-separated, but sometimes as a JSON-encoded list
            // inside the string (at-gmbh/personio-py, personio-api.md §1.4).
            let value = if self.chance(12) {
                serde_json::to_string(&skills).unwrap_or_default()
            } else {
                skills.join(",")
            };
            custom.insert(SKILLS_KEY.to_owned(), value.into());
        }
        if self.chance(50) {
            let desk: u32 = self.rng.gen_range(1..=500);
            custom.insert(DESK_NUMBER.to_owned(), desk.into());
        }
        custom
    }

    /// True with `percent`% probability.
    fn chance(&mut self, percent: u32) -> bool {
        self.rng.gen_range(0..100) < percent
    }
}

struct Dates {
    hire: NaiveDate,
    termination: Option<NaiveDate>,
    termination_type: Option<String>,
    termination_reason: Option<String>,
    last_working_day: Option<NaiveDate>,
}

fn share(name: String, percentage: u32) -> CostCenterShare {
    CostCenterShare { name, percentage }
}

fn birthday_origin() -> NaiveDate {
    NaiveDate::from_ymd_opt(1960, 1, 1).unwrap_or_default()
}

fn department_of(role: Role) -> Option<&'static DepartmentPlan> {
    match role {
        Role::Ceo => None,
        Role::Head(d) | Role::TeamLead(d, _) | Role::Member(d, _) => Some(&DEPARTMENTS[d]),
    }
}

#[cfg(test)]
mod tests;
