//! Renders people as Personio v1 JSON: every attribute as `{label, value, type, universal_id}`
//! (personio-api.md §1.3-1.5), straight into the response buffer.
//!
//! Serialisation is hand-written over borrowed data rather than through `serde_json::Value`, so a
//! page of 100 people costs one buffer and no per-attribute maps.

mod shapes;
pub(crate) mod v2;

use crate::catalog::{Field, KeyFilter, Standard, STANDARD_ATTRIBUTES};
use crate::company::{Company, FakeEmployee, Office, OrgUnit};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use serde_json::Value;
use shapes::{
    date, lookup, or_empty, put, put_with_currency, supervisor, unit_id, Attr, CostCenter,
    HolidayCalendar, IdName, OrEmpty, Stamp, TimeOffType, Typed, WorkSchedule,
};

/// What every rendered person needs besides their own data.
#[derive(Clone, Copy)]
pub(crate) struct RenderContext<'a> {
    pub company: &'a Company,
    /// Server URL without a trailing slash; profile picture URLs start with it.
    pub base_url: &'a str,
    pub filter: KeyFilter<'a>,
}

/// The page metadata of a list response.
#[derive(Serialize)]
pub(crate) struct Metadata {
    pub total_elements: usize,
    pub current_page: usize,
    pub total_pages: usize,
}

#[derive(Serialize)]
struct ListBody<'a> {
    success: bool,
    metadata: Metadata,
    offset: usize,
    limit: usize,
    data: Page<'a>,
}

struct Page<'a> {
    context: RenderContext<'a>,
    people: &'a [&'a FakeEmployee],
}

impl Serialize for Page<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.people.len()))?;
        for employee in self.people {
            seq.serialize_element(&Typed {
                kind: "Employee",
                attributes: EmployeeView {
                    context: self.context,
                    employee,
                },
            })?;
        }
        seq.end()
    }
}

/// The body of one list page.
pub(crate) fn list_body(
    context: RenderContext<'_>,
    metadata: Metadata,
    offset: usize,
    limit: usize,
    people: &[&FakeEmployee],
) -> Vec<u8> {
    let body = ListBody {
        success: true,
        metadata,
        offset,
        limit,
        data: Page { context, people },
    };
    // Our own types only produce strings, numbers and maps with string keys: this cannot fail.
    serde_json::to_vec(&body).unwrap_or_default()
}

/// The body of `GET /v1/company/employees/{id}`.
pub(crate) fn single_body(context: RenderContext<'_>, employee: &FakeEmployee) -> Vec<u8> {
    #[derive(Serialize)]
    struct SingleBody<'a> {
        success: bool,
        data: Typed<'a, EmployeeView<'a>>,
    }
    let body = SingleBody {
        success: true,
        data: Typed {
            kind: "Employee",
            attributes: EmployeeView { context, employee },
        },
    };
    serde_json::to_vec(&body).unwrap_or_default()
}

/// One person's `{"type":"Employee","attributes":{…}}` object with every attribute, as the list
/// and single endpoints render it with no whitelist. For tests of code that parses Personio JSON.
pub fn employee_json(company: &Company, employee: &FakeEmployee, base_url: &str) -> Value {
    let context = RenderContext {
        company,
        base_url: base_url.trim_end_matches('/'),
        filter: KeyFilter::default(),
    };
    let typed = Typed {
        kind: "Employee",
        attributes: EmployeeView { context, employee },
    };
    serde_json::to_value(typed).unwrap_or_default()
}

struct EmployeeView<'a> {
    context: RenderContext<'a>,
    employee: &'a FakeEmployee,
}

impl<'a> EmployeeView<'a> {
    fn object(
        &self,
        kind: &'static str,
        unit: Option<(u64, &'a str)>,
    ) -> OrEmpty<Typed<'a, IdName<'a>>> {
        let value = unit.map(|(id, name)| Typed {
            kind,
            attributes: IdName { id, name },
        });
        or_empty(value, self.employee.empty_style)
    }

    fn unit(
        &self,
        kind: &'static str,
        units: &[OrgUnit],
        name: &'a Option<String>,
    ) -> OrEmpty<Typed<'a, IdName<'a>>> {
        let unit = name.as_deref().map(|name| (lookup(units, name), name));
        self.object(kind, unit)
    }

    fn office(&self) -> Option<&'a Office> {
        let name = self.employee.office.as_deref()?;
        self.context.company.office(name)
    }

    fn office_object(&self) -> OrEmpty<Typed<'a, IdName<'a>>> {
        let unit = self
            .employee
            .office
            .as_deref()
            .map(|name| (unit_id(self.office().map(|office| office.id), name), name));
        self.object("Office", unit)
    }

    fn cost_centers(&self) -> OrEmpty<Vec<Typed<'a, CostCenter<'a>>>> {
        let centers: Vec<_> = self
            .employee
            .cost_centers
            .iter()
            .map(|share| Typed {
                kind: "CostCenter",
                attributes: CostCenter {
                    id: lookup(&self.context.company.cost_centers, &share.name),
                    name: &share.name,
                    percentage: share.percentage,
                },
            })
            .collect();
        or_empty(
            (!centers.is_empty()).then_some(centers),
            self.employee.empty_style,
        )
    }

    fn holiday_calendar(&self) -> OrEmpty<Typed<'a, HolidayCalendar<'a>>> {
        let calendar = self.office().map(|office| Typed {
            kind: "HolidayCalendar",
            attributes: HolidayCalendar {
                id: office.holiday_calendar_id,
                name: &office.holiday_calendar_name,
                country: &office.country,
                state: office.state.as_deref(),
            },
        });
        or_empty(calendar, self.employee.empty_style)
    }

    fn absence_entitlement(&self) -> OrEmpty<[Typed<'static, TimeOffType>; 1]> {
        let internal = self.employee.employment_type == "internal";
        let vacation = internal.then_some([Typed {
            kind: "TimeOffType",
            attributes: TimeOffType {
                id: 113437,
                name: "Paid vacation",
                category: "paid_vacation",
                entitlement: 28,
            },
        }]);
        or_empty(vacation, self.employee.empty_style)
    }

    /// A Monday-to-Friday schedule that adds up to the weekly hours.
    fn work_schedule(&self) -> OrEmpty<Typed<'static, WorkSchedule>> {
        let text = &self.employee.weekly_working_hours;
        let schedule = text.trim().parse::<f64>().ok().map(|hours| {
            // Whole minutes per day; the cast is safe for any realistic number of hours.
            let daily_minutes = (hours * 12.0).round() as u64;
            let day = format!("{:02}:{:02}", daily_minutes / 60, daily_minutes % 60);
            let kind = if hours >= 40.0 {
                "Full-time"
            } else {
                "Part-time"
            };
            Typed {
                kind: "WorkSchedule",
                attributes: WorkSchedule {
                    id: 97_000 + daily_minutes,
                    name: format!(
                        "{kind}, {text} hours without time tracking, (mon,tue,wed,thu,fri)"
                    ),
                    valid_from: None,
                    monday: day.clone(),
                    tuesday: day.clone(),
                    wednesday: day.clone(),
                    thursday: day.clone(),
                    friday: day,
                    saturday: "00:00",
                    sunday: "00:00",
                },
            }
        });
        or_empty(schedule, self.employee.empty_style)
    }

    fn standard<M: SerializeMap>(&self, map: &mut M, attribute: &Standard) -> Result<(), M::Error> {
        let employee = self.employee;
        let company = self.context.company;
        let empty = employee.empty_style;
        let style = employee.offset_style;
        match attribute.field {
            Field::Id => put(map, attribute, employee.id),
            Field::FirstName => put(map, attribute, &employee.first_name),
            Field::LastName => put(map, attribute, &employee.last_name),
            Field::PreferredName => put(map, attribute, &employee.preferred_name),
            Field::Email => put(map, attribute, &employee.email),
            Field::Gender => put(map, attribute, &employee.gender),
            Field::Status => put(map, attribute, &employee.status),
            Field::Position => put(map, attribute, &employee.position),
            Field::Supervisor => put(
                map,
                attribute,
                or_empty(employee.supervisor.map(supervisor), empty),
            ),
            Field::EmploymentType => put(map, attribute, &employee.employment_type),
            Field::WeeklyWorkingHours => put(map, attribute, &employee.weekly_working_hours),
            Field::HireDate => put(map, attribute, date(Some(employee.hire_date), style)),
            Field::ContractEndDate => put(map, attribute, date(employee.contract_end_date, style)),
            Field::TerminationDate => put(map, attribute, date(employee.termination_date, style)),
            Field::TerminationType => put(map, attribute, &employee.termination_type),
            Field::TerminationReason => put(map, attribute, &employee.termination_reason),
            Field::ProbationPeriodEnd => {
                put(map, attribute, date(employee.probation_period_end, style))
            }
            Field::CreatedAt => put(map, attribute, Stamp(employee.created_at, style)),
            Field::LastModifiedAt => put(map, attribute, Stamp(employee.last_modified_at, style)),
            Field::Subcompany => put(
                map,
                attribute,
                self.unit("Subcompany", &company.subcompanies, &employee.subcompany),
            ),
            Field::Office => put(map, attribute, self.office_object()),
            Field::Department => put(
                map,
                attribute,
                self.unit("Department", &company.departments, &employee.department),
            ),
            Field::Team => put(
                map,
                attribute,
                self.unit("Team", &company.teams, &employee.team),
            ),
            Field::CostCenters => put(map, attribute, self.cost_centers()),
            Field::HolidayCalendar => put(map, attribute, self.holiday_calendar()),
            Field::AbsenceEntitlement => put(map, attribute, self.absence_entitlement()),
            Field::WorkSchedule => put(map, attribute, self.work_schedule()),
            Field::FixSalary | Field::HourlySalary => {
                // Hourly salary is 0 for salaried people, as in the spec's example.
                let value = match attribute.field {
                    Field::FixSalary => employee.fix_salary,
                    _ => employee.fix_salary.map(|_| 0),
                };
                put_with_currency(map, attribute, value, Some("EUR"))
            }
            Field::FixSalaryInterval => put(map, attribute, employee.fix_salary.map(|_| "monthly")),
            Field::LastWorkingDay => put(map, attribute, date(employee.last_working_day, style)),
            Field::ProfilePicture => put(
                map,
                attribute,
                employee.profile_picture.then(|| {
                    format!(
                        "{}/v1/company/employees/{}/profile-picture",
                        self.context.base_url, employee.id
                    )
                }),
            ),
        }
    }
}

impl Serialize for EmployeeView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let filter = self.context.filter;
        let mut map = serializer.serialize_map(None)?;
        for attribute in STANDARD_ATTRIBUTES {
            if filter.allows(attribute.key) {
                self.standard(&mut map, attribute)?;
            }
        }
        let definitions = &self.context.company.custom_attributes;
        for definition in definitions {
            if filter.allows(&definition.key) {
                let value = self
                    .employee
                    .custom
                    .get(&definition.key)
                    .unwrap_or(&Value::Null);
                map.serialize_entry(
                    &definition.key,
                    &Attr {
                        label: &definition.label,
                        value,
                        kind: &definition.kind,
                        universal_id: definition.universal_id.as_deref(),
                        currency: None,
                    },
                )?;
            }
        }
        // A value a test set without defining the attribute still renders, as a text attribute
        // labelled with its key.
        for (key, value) in &self.employee.custom {
            let defined = definitions.iter().any(|definition| &definition.key == key);
            if !defined && filter.allows(key) {
                map.serialize_entry(
                    key,
                    &Attr {
                        label: key,
                        value,
                        kind: "standard",
                        universal_id: None,
                        currency: None,
                    },
                )?;
            }
        }
        map.end()
    }
}

#[cfg(test)]
mod tests;
