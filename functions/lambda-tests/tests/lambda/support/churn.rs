//! [`churn`]: an hour of HR work in one tenant's fake Personio, reproducible from a seed: two
//! title changes, a mover to another department, a leaver (inactive since yesterday) and a joiner
//! starting today. Every change moves the person's `last_modified_at` to now, as Personio does,
//! so an incremental run reads exactly these people.

use chrono::Days;
use fake_personio::FakePersonio;

/// splitmix64: a tiny generator, so sizes and picks come out the same on every machine.
pub struct SplitMix(u64);

impl SplitMix {
    /// A generator from `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// Who changed, to check the app against afterwards.
#[derive(Clone, Debug, Default)]
pub struct Changes {
    /// People with a new title, and the title.
    pub titles: Vec<(u64, String)>,
    /// The person who moved department.
    pub movers: Vec<u64>,
    /// The person who left (status `inactive`).
    pub leavers: Vec<u64>,
    /// The new hire.
    pub joiners: Vec<u64>,
}

/// One round of changes (`round` 1, 2, …) to `fake`'s company.
pub fn churn(fake: &FakePersonio, round: u64, seed: u64) -> Changes {
    let mut random = SplitMix::new(seed ^ round.wrapping_mul(0xA24B_AED4_963E_E407));
    let mut changes = Changes::default();
    fake.update(|company| {
        let today = company.today;
        let supervisors: std::collections::BTreeSet<u64> = company
            .employees
            .iter()
            .filter_map(|employee| employee.supervisor)
            .collect();
        // Active people with no end in sight: nobody is changed twice in a round.
        let mut candidates: Vec<u64> = company
            .employees
            .iter()
            .filter(|e| e.status == "active" && e.termination_date.is_none())
            .filter(|e| e.hire_date <= today)
            .map(|e| e.id)
            .collect();
        let mut pick = |random: &mut SplitMix, leaver: bool| -> Option<u64> {
            // A leaver who manages nobody: their reports would keep a manager who left, which is
            // another test's subject.
            let eligible: Vec<usize> = (0..candidates.len())
                .filter(|&i| !leaver || !supervisors.contains(&candidates[i]))
                .collect();
            (!eligible.is_empty())
                .then(|| candidates.swap_remove(eligible[random.below(eligible.len())]))
        };
        for n in 0..2 {
            let Some(id) = pick(&mut random, false) else {
                break;
            };
            let title = format!("Title {round}.{n} of {id}");
            if let Some(person) = company.employee_mut(id) {
                person.position = title.clone();
                changes.titles.push((id, title));
            }
        }
        let departments: Vec<String> = company.departments.iter().map(|d| d.name.clone()).collect();
        if let Some(id) = pick(&mut random, false) {
            let current = company.employee(id).and_then(|e| e.department.clone());
            let other = departments
                .iter()
                .find(|name| Some(*name) != current.as_ref())
                .cloned();
            if let (Some(department), Some(person)) = (other, company.employee_mut(id)) {
                person.department = Some(department);
                person.team = None;
                changes.movers.push(id);
            }
        }
        if let Some(id) = pick(&mut random, true) {
            if let Some(person) = company.employee_mut(id) {
                let yesterday = today.checked_sub_days(Days::new(1)).unwrap_or(today);
                person.status = "inactive".to_owned();
                person.termination_date = Some(yesterday);
                person.last_working_day = Some(yesterday);
                person.termination_type = Some("employee".to_owned());
                changes.leavers.push(id);
            }
        }
        let id = company.new_hire("Sim", &format!("Joiner{round}"), today);
        // `new_hire` dates the record to 09:30 today; Personio would stamp the hire itself.
        let _ = company.employee_mut(id);
        changes.joiners.push(id);
    });
    changes
}
