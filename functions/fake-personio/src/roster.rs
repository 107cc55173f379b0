//! The pools the generator draws from: names, org structure, positions, reasons and custom
//! attribute definitions. Plain data, so the generator reads as an algorithm.
//!
//! Names mix the company's countries and include letters a sync engine must not mangle
//! (`Jürgen`, `Łukasz`, `O'Brien`, `van den Berg`).

/// A first name, its usual gender and a common short form.
pub(crate) struct FirstName {
    pub name: &'static str,
    pub gender: &'static str,
    pub nickname: Option<&'static str>,
}

const fn first(name: &'static str, gender: &'static str) -> FirstName {
    FirstName {
        name,
        gender,
        nickname: None,
    }
}

const fn nick(name: &'static str, gender: &'static str, nickname: &'static str) -> FirstName {
    FirstName {
        name,
        gender,
        nickname: Some(nickname),
    }
}

pub(crate) const FIRST_NAMES: &[FirstName] = &[
    nick("Alexander", "male", "Alex"),
    nick("Katharina", "female", "Kathi"),
    nick("Maximilian", "male", "Max"),
    nick("Elisabeth", "female", "Lisa"),
    nick("Christopher", "male", "Chris"),
    nick("Jennifer", "female", "Jen"),
    nick("Francisco", "male", "Paco"),
    nick("Margarethe", "female", "Grete"),
    nick("Nicholas", "male", "Nick"),
    nick("Johanna", "female", "Jo"),
    first("Jürgen", "male"),
    first("Sören", "male"),
    first("Björn", "male"),
    first("Lukas", "male"),
    first("Jonas", "male"),
    first("Felix", "male"),
    first("Paul", "male"),
    first("Tobias", "male"),
    first("Stefan", "male"),
    first("Thomas", "male"),
    first("Oliver", "male"),
    first("James", "male"),
    first("Harry", "male"),
    first("George", "male"),
    first("José", "male"),
    first("Javier", "male"),
    first("Pablo", "male"),
    first("Daan", "male"),
    first("Sem", "male"),
    first("Łukasz", "male"),
    first("Mehmet", "male"),
    first("Emre", "male"),
    first("Luca", "male"),
    first("Minh", "male"),
    first("Anna", "female"),
    first("Marie", "female"),
    first("Sophie", "female"),
    first("Laura", "female"),
    first("Julia", "female"),
    first("Lea", "female"),
    first("Hannah", "female"),
    first("Sabine", "female"),
    first("Jülide", "female"),
    first("Emily", "female"),
    first("Olivia", "female"),
    first("Charlotte", "female"),
    first("Amelia", "female"),
    first("Lucía", "female"),
    first("María", "female"),
    first("Carmen", "female"),
    first("Sanne", "female"),
    first("Fleur", "female"),
    first("Agnieszka", "female"),
    first("Zeynep", "female"),
    first("Chloé", "female"),
    first("Renée", "female"),
    first("Giulia", "female"),
    first("Mei", "female"),
    first("Kim", "diverse"),
    first("Robin", "diverse"),
    first("Sascha", "diverse"),
    first("Alex", "diverse"),
];

pub(crate) const LAST_NAMES: &[&str] = &[
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Schulz",
    "Hoffmann",
    "Koch",
    "Bauer",
    "Richter",
    "Klein",
    "Wolf",
    "Schröder",
    "Neumann",
    "Schwarz",
    "Zimmermann",
    "Braun",
    "Krüger",
    "Hartmann",
    "Lange",
    "Werner",
    "Krause",
    "Lehmann",
    "Müller-Lüdenscheidt",
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Williams",
    "Wilson",
    "Johnson",
    "Davies",
    "Evans",
    "O'Brien",
    "García",
    "Fernández",
    "González",
    "Rodríguez",
    "López",
    "Martínez",
    "Sánchez",
    "Pérez",
    "Gómez",
    "de Vries",
    "van den Berg",
    "van Dijk",
    "Bakker",
    "Janssen",
    "Visser",
    "de Jong",
    "Kowalski",
    "Nowak",
    "Wiśniewski",
    "Yılmaz",
    "Kaya",
    "Demir",
    "Rossi",
    "Bianchi",
    "Dubois",
    "Nguyen",
    "Chen",
    "Papadopoulos",
];

/// A department, its share of the headcount (percent), its teams and its usual positions.
pub(crate) struct DepartmentPlan {
    pub name: &'static str,
    pub weight: u32,
    pub teams: &'static [&'static str],
    pub positions: &'static [&'static str],
}

pub(crate) const DEPARTMENTS: &[DepartmentPlan] = &[
    DepartmentPlan {
        name: "Engineering",
        weight: 30,
        teams: &["Platform", "Backend", "Frontend", "Mobile", "Data", "SRE"],
        positions: &[
            "Software Engineer",
            "Senior Software Engineer",
            "Staff Engineer",
            "QA Engineer",
            "Data Engineer",
            "Site Reliability Engineer",
        ],
    },
    DepartmentPlan {
        name: "Sales",
        weight: 18,
        teams: &[
            "DACH Sales",
            "UK Sales",
            "Iberia Sales",
            "Account Management",
        ],
        positions: &[
            "Account Executive",
            "Senior Account Executive",
            "Sales Development Representative",
            "Account Manager",
        ],
    },
    DepartmentPlan {
        name: "Marketing",
        weight: 8,
        teams: &["Brand", "Growth", "Content"],
        positions: &[
            "Marketing Manager",
            "Content Writer",
            "Performance Marketing Manager",
            "Graphic Designer",
        ],
    },
    DepartmentPlan {
        name: "Customer Support",
        weight: 14,
        teams: &["Tier 1", "Tier 2", "Customer Success"],
        positions: &[
            "Support Specialist",
            "Senior Support Specialist",
            "Customer Success Manager",
        ],
    },
    DepartmentPlan {
        name: "Finance",
        weight: 7,
        teams: &["Accounting", "Controlling"],
        positions: &["Accountant", "Financial Analyst", "Controller"],
    },
    DepartmentPlan {
        name: "People",
        weight: 7,
        teams: &["Recruiting", "People Operations"],
        positions: &["Recruiter", "People Partner", "Talent Sourcer"],
    },
    DepartmentPlan {
        name: "Operations",
        weight: 8,
        teams: &["IT", "Workplace", "Legal"],
        positions: &["IT Administrator", "Office Manager", "Legal Counsel"],
    },
    DepartmentPlan {
        name: "Product",
        weight: 8,
        teams: &["Product Management", "Design", "UX Research"],
        positions: &["Product Manager", "Product Designer", "UX Researcher"],
    },
];

/// An office, its share of the headcount (percent; the rest work remotely without an office) and
/// its holiday calendar and legal entity.
pub(crate) struct OfficePlan {
    pub id: u64,
    pub name: &'static str,
    pub weight: u32,
    pub country: &'static str,
    pub state: Option<&'static str>,
    pub holiday_calendar_id: u64,
    pub holiday_calendar_name: &'static str,
    pub subcompany: &'static str,
}

pub(crate) const OFFICES: &[OfficePlan] = &[
    OfficePlan {
        id: 131011,
        name: "Berlin",
        weight: 40,
        country: "DE",
        state: Some("Berlin"),
        holiday_calendar_id: 3,
        holiday_calendar_name: "Deutschland (Berlin) Feiertage",
        subcompany: "Nordlicht GmbH",
    },
    OfficePlan {
        id: 131014,
        name: "Munich",
        weight: 20,
        country: "DE",
        state: Some("Bayern"),
        holiday_calendar_id: 2,
        holiday_calendar_name: "Deutschland (Bayern) Feiertage",
        subcompany: "Nordlicht GmbH",
    },
    OfficePlan {
        id: 131020,
        name: "London",
        weight: 15,
        country: "GB",
        state: Some("England"),
        holiday_calendar_id: 11,
        holiday_calendar_name: "United Kingdom (England) Bank Holidays",
        subcompany: "Nordlicht Ltd",
    },
    OfficePlan {
        id: 131027,
        name: "Madrid",
        weight: 10,
        country: "ES",
        state: Some("Madrid"),
        holiday_calendar_id: 21,
        holiday_calendar_name: "España (Madrid) Festivos",
        subcompany: "Nordlicht S.L.",
    },
    OfficePlan {
        id: 131031,
        name: "Amsterdam",
        weight: 10,
        country: "NL",
        state: None,
        holiday_calendar_id: 31,
        holiday_calendar_name: "Nederland Feestdagen",
        subcompany: "Nordlicht B.V.",
    },
];

pub(crate) const SUBCOMPANIES: &[&str] = &[
    "Nordlicht GmbH",
    "Nordlicht Ltd",
    "Nordlicht S.L.",
    "Nordlicht B.V.",
];

pub(crate) const WEEKLY_HOURS: &[&str] = &["40", "40", "40", "40", "40", "38.5", "32", "30", "20"];

pub(crate) const TERMINATION_TYPES: &[&str] = &["employee", "employer", "mutual agreement"];

pub(crate) const TERMINATION_REASONS: &[&str] = &[
    "New job",
    "Relocation",
    "Career change",
    "Restructuring",
    "End of fixed-term contract",
    "Retirement",
];

pub(crate) const SHIRT_SIZES: &[&str] = &["XS", "S", "M", "L", "XL", "XXL"];

pub(crate) const SKILLS: &[&str] = &[
    "Rust",
    "Python",
    "Go",
    "SQL",
    "Kubernetes",
    "Negotiation",
    "Public speaking",
    "German",
    "English",
    "Spanish",
    "Excel",
    "Figma",
];

/// Keys of the generated custom attributes (ids in the style of the spec's examples).
pub(crate) const BIRTHDAY: &str = "dynamic_180883";
pub(crate) const TITLE: &str = "dynamic_24407";
pub(crate) const LINKEDIN: &str = "dynamic_33121";
pub(crate) const SHIRT_SIZE: &str = "dynamic_40001";
pub(crate) const SKILLS_KEY: &str = "dynamic_40002";
pub(crate) const DESK_NUMBER: &str = "dynamic_40003";
