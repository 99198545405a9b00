//! Ready-made maps to start from: realistic, filled-in examples of the common kinds of journey.
//! Each is a [`Spec`] applied through the [`Editor`], so a map made from a template is an ordinary
//! map in every respect.

use super::edit::{At, Collection, EditError, Editor};
use yrs::{Any, TransactionMut};

/// A template's name and what it shows, for listings.
#[derive(Clone, Copy)]
pub struct Template {
    pub name: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    spec: &'static Spec,
}

/// Every template, by name.
pub const TEMPLATES: &[Template] = &[
    Template {
        name: "ecommerce-purchase",
        title: "E-commerce purchase",
        description: "From seeing an ad to receiving the parcel, for a first-time mobile shopper.",
        spec: &ECOMMERCE,
    },
    Template {
        name: "saas-onboarding",
        title: "SaaS onboarding",
        description: "A team admin's first two weeks with a B2B product, from sign-up to habit.",
        spec: &SAAS,
    },
    Template {
        name: "contact-center-support",
        title: "Contact-center support journey",
        description: "A customer with a billing problem, from noticing it to a resolved case.",
        spec: &SUPPORT,
    },
    Template {
        name: "service-blueprint",
        title: "Service blueprint: hotel stay",
        description: "A hotel stay with the frontstage, backstage and support processes behind it.",
        spec: &BLUEPRINT,
    },
];

impl std::fmt::Debug for Template {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Template")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// Finds a template by name.
pub fn find(name: &str) -> Option<&'static Template> {
    TEMPLATES.iter().find(|t| t.name == name)
}

impl Template {
    /// Writes the template into an empty map.
    pub fn apply(&self, txn: &mut TransactionMut, created_at: i64) -> Result<(), EditError> {
        build(self, txn, created_at)
    }
}

struct Spec {
    kind: &'static str,
    scenario: &'static str,
    goals: &'static str,
    /// name, description, goals, needs, challenges, lifecycle stage
    personas: &'static [(
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        &'static str,
    )],
    channels: &'static [&'static str],
    /// stage name, its steps
    stages: &'static [(&'static str, &'static [&'static str])],
    /// lane kind, lane name
    lanes: &'static [(&'static str, &'static str)],
    cards: &'static [CardSpec],
    /// per persona, a score per step (in column order)
    emotions: &'static [&'static [i8]],
    /// name, channel index, step index
    touchpoints: &'static [(&'static str, usize, usize)],
    metrics: &'static [MetricSpec],
    /// from card, to card, kind (indexes into `cards`)
    links: &'static [(usize, usize, &'static str)],
}

#[derive(Clone, Copy)]
struct CardSpec {
    lane: usize,
    step: usize,
    text: &'static str,
    evidence: Option<(&'static str, &'static str)>,
    severity: Option<i64>,
    impact_effort: Option<(i64, i64)>,
    status: Option<(&'static str, &'static str)>,
}

const fn c(lane: usize, step: usize, text: &'static str) -> CardSpec {
    CardSpec {
        lane,
        step,
        text,
        evidence: None,
        severity: None,
        impact_effort: None,
        status: None,
    }
}

/// A pain point: severity and the evidence behind it.
const fn pain(
    lane: usize,
    step: usize,
    text: &'static str,
    severity: i64,
    level: &'static str,
    source: &'static str,
) -> CardSpec {
    CardSpec {
        severity: Some(severity),
        evidence: Some((level, source)),
        ..c(lane, step, text)
    }
}

/// An opportunity: expected impact and effort.
const fn idea(lane: usize, step: usize, text: &'static str, impact: i64, effort: i64) -> CardSpec {
    CardSpec {
        impact_effort: Some((impact, effort)),
        ..c(lane, step, text)
    }
}

/// An improvement action: status and owner.
const fn action(
    lane: usize,
    step: usize,
    text: &'static str,
    status: &'static str,
    owner: &'static str,
) -> CardSpec {
    CardSpec {
        status: Some((status, owner)),
        ..c(lane, step, text)
    }
}

struct MetricSpec {
    name: &'static str,
    kind: &'static str,
    target: f64,
    direction: &'static str,
    step: Option<usize>,
    unit: &'static str,
    values: &'static [(&'static str, f64)],
}

fn build(t: &Template, txn: &mut TransactionMut, created_at: i64) -> Result<(), EditError> {
    let s = t.spec;
    let mut ed = Editor::new(txn);
    ed.init(t.title, s.kind, created_at)?;
    ed.set_meta("description", Some(t.description));
    ed.set_meta("scenario", Some(s.scenario));
    ed.set_meta("goals", Some(s.goals));
    ed.set_meta("template", Some(t.name));
    let channels = s
        .channels
        .iter()
        .map(|name| ed.add_channel(name, At::Last))
        .collect::<Result<Vec<_>, _>>()?;
    let mut personas = Vec::new();
    for (name, description, goals, needs, challenges, lifecycle) in s.personas {
        let id = ed.add_persona(name, At::Last)?;
        for (field, value) in [
            ("description", description),
            ("goals", goals),
            ("needs", needs),
            ("challenges", challenges),
            ("lifecycleStage", lifecycle),
        ] {
            ed.set_field(Collection::Personas, &id, field, Some(Any::from(*value)))?;
        }
        let preferred: Vec<Any> = channels
            .iter()
            .take(2)
            .map(|c| Any::from(c.as_str()))
            .collect();
        ed.set_field(
            Collection::Personas,
            &id,
            "channels",
            Some(Any::from(preferred)),
        )?;
        personas.push(id);
    }
    let mut steps = Vec::new();
    for (stage, stage_steps) in s.stages {
        let stage_id = ed.add_stage(stage, At::Last)?;
        for step in *stage_steps {
            steps.push(ed.add_step(&stage_id, step, At::Last)?);
        }
    }
    let lanes = s
        .lanes
        .iter()
        .map(|(kind, name)| ed.add_lane(kind, name, At::Last))
        .collect::<Result<Vec<_>, _>>()?;
    let mut cards = Vec::new();
    for card in s.cards {
        let id = ed.add_card(&lanes[card.lane], &steps[card.step], card.text, At::Last)?;
        let mut set =
            |field: &str, value: Any| ed.set_field(Collection::Cards, &id, field, Some(value));
        if let Some((level, source)) = card.evidence {
            set("evidence", Any::from(level))?;
            set("evidenceSource", Any::from(source))?;
        }
        if let Some(severity) = card.severity {
            set("severity", Any::from(severity))?;
        }
        if let Some((impact, effort)) = card.impact_effort {
            set("impact", Any::from(impact))?;
            set("effort", Any::from(effort))?;
        }
        if let Some((status, owner)) = card.status {
            set("status", Any::from(status))?;
            set("owner", Any::from(owner))?;
        }
        cards.push(id);
    }
    for (persona, scores) in personas.iter().zip(s.emotions) {
        for (step, score) in steps.iter().zip(scores.iter()) {
            ed.set_emotion(Some(persona), step, *score)?;
        }
    }
    for (name, channel, step) in s.touchpoints {
        ed.add_touchpoint(name, Some(&channels[*channel]), Some(&steps[*step]))?;
    }
    for m in s.metrics {
        let id = ed.add_metric(m.name, m.kind, Some(m.target), m.direction)?;
        ed.set_field(Collection::Metrics, &id, "unit", Some(Any::from(m.unit)))?;
        if let Some(step) = m.step {
            ed.set_reference(Collection::Metrics, &id, "stepId", Some(&steps[step]))?;
        }
        for (date, value) in m.values {
            ed.record_measurement(&id, date, *value)?;
        }
    }
    for (from, to, kind) in s.links {
        ed.link(&cards[*from], &cards[*to], kind)?;
    }
    Ok(())
}

// Lane indexes shared by the journey templates below.
const ACTIONS: usize = 0;
const TOUCHPOINTS: usize = 1;
const THOUGHTS: usize = 2;
const PAINS: usize = 3;
const IDEAS: usize = 4;
const FIXES: usize = 5;
const JOURNEY_LANES: &[(&str, &str)] = &[
    ("actions", "What the customer does"),
    ("touchpoints", "Touchpoints"),
    ("thoughts", "Thinking and feeling"),
    ("pain-points", "Pain points"),
    ("opportunities", "Opportunities"),
    ("improvements", "Improvement actions"),
    ("emotions", "Emotion curve"),
    ("metrics", "Metrics"),
];

static ECOMMERCE: Spec = Spec {
    kind: "journey-map",
    scenario: "A first-time customer buys running shoes on their phone after seeing an ad.",
    goals: "Find where first-time mobile buyers drop out and what would bring them to a second order.",
    personas: &[
        (
            "Mara, busy parent",
            "Shops on her phone in short breaks, often interrupted.",
            "Get good shoes quickly without a store visit.",
            "Clear sizes, fast delivery, easy returns.",
            "Little time; distrusts unknown shops.",
            "new",
        ),
        (
            "Tom, bargain hunter",
            "Compares prices across several shops before buying.",
            "Pay the lowest price for a known brand.",
            "Transparent prices, discount codes that work.",
            "Hidden costs make him abandon the cart.",
            "prospect",
        ),
    ],
    channels: &["Mobile web", "E-mail", "Social media", "Courier"],
    stages: &[
        ("Awareness", &["Sees an ad", "Visits the site"]),
        (
            "Consideration",
            &["Compares models", "Checks the size guide"],
        ),
        ("Purchase", &["Fills the cart", "Pays"]),
        ("Delivery", &["Waits for the parcel", "Receives the shoes"]),
        (
            "After purchase",
            &["Returns or keeps", "Reviews the product"],
        ),
    ],
    lanes: JOURNEY_LANES,
    cards: &[
        c(ACTIONS, 0, "Taps an Instagram ad for trail shoes"),
        c(ACTIONS, 1, "Lands on the product page, not the category"),
        c(ACTIONS, 2, "Opens three models in tabs"),
        c(ACTIONS, 3, "Looks for a size conversion table"),
        c(ACTIONS, 4, "Adds one pair, looks for a discount code"),
        c(ACTIONS, 5, "Chooses a payment method"),
        c(ACTIONS, 6, "Tracks the parcel from the e-mail"),
        c(ACTIONS, 8, "Starts a return for the wrong size"),
        c(TOUCHPOINTS, 0, "Sponsored post"),
        c(TOUCHPOINTS, 5, "Checkout page"),
        c(TOUCHPOINTS, 6, "Shipping confirmation e-mail"),
        c(THOUGHTS, 1, "\"Is this shop legit?\""),
        c(THOUGHTS, 3, "\"EU 39 or 40? Every brand is different.\""),
        c(THOUGHTS, 5, "\"Why is there no PayPal?\""),
        c(THOUGHTS, 7, "\"Finally, they fit!\""),
        pain(
            PAINS,
            3,
            "Size guide is a PDF that is unreadable on a phone",
            4,
            "observed",
            "Session recordings, October",
        ),
        pain(
            PAINS,
            5,
            "No PayPal or Apple Pay: 18% abandon at payment",
            5,
            "validated",
            "Checkout funnel analytics",
        ),
        pain(
            PAINS,
            4,
            "Shipping cost appears only at the last step",
            4,
            "reported",
            "Survey of abandoners",
        ),
        pain(
            PAINS,
            8,
            "Return label must be printed",
            3,
            "hypothesis",
            "Team assumption",
        ),
        idea(
            IDEAS,
            3,
            "Interactive size finder based on the customer's usual brand",
            4,
            3,
        ),
        idea(
            IDEAS,
            5,
            "Offer wallets: PayPal, Apple Pay, Google Pay",
            5,
            2,
        ),
        idea(IDEAS, 4, "Show delivery cost on the product page", 4, 1),
        idea(IDEAS, 8, "QR-code returns at parcel shops", 3, 3),
        action(
            FIXES,
            5,
            "Integrate a wallet provider",
            "in-progress",
            "Payments team",
        ),
        action(
            FIXES,
            4,
            "Add delivery estimate to product pages",
            "planned",
            "Web team",
        ),
        action(
            FIXES,
            3,
            "Replace the PDF size guide",
            "open",
            "Content team",
        ),
    ],
    emotions: &[
        &[1, 0, 1, -1, -1, -2, 0, 2, -1, 1],
        &[0, 0, 1, 0, -2, -1, 0, 1, 0, 0],
    ],
    touchpoints: &[
        ("Sponsored Instagram post", 2, 0),
        ("Product page", 0, 1),
        ("Checkout", 0, 5),
        ("Shipping confirmation e-mail", 1, 6),
        ("Parcel delivery", 3, 7),
    ],
    metrics: &[
        MetricSpec {
            name: "Checkout conversion",
            kind: "conversion",
            target: 65.0,
            direction: "higher-is-better",
            step: Some(5),
            unit: "%",
            values: &[("2026-09-01", 58.0), ("2026-10-01", 61.5)],
        },
        MetricSpec {
            name: "Cart abandonment",
            kind: "drop-off",
            target: 20.0,
            direction: "lower-is-better",
            step: Some(4),
            unit: "%",
            values: &[("2026-09-01", 31.0), ("2026-10-01", 27.0)],
        },
        MetricSpec {
            name: "Post-delivery CSAT",
            kind: "csat",
            target: 85.0,
            direction: "higher-is-better",
            step: Some(7),
            unit: "%",
            values: &[("2026-10-01", 88.0)],
        },
    ],
    links: &[
        (19, 15, "addresses"),
        (20, 16, "addresses"),
        (21, 17, "addresses"),
        (22, 18, "addresses"),
        (23, 20, "implements"),
        (24, 21, "implements"),
        (25, 19, "implements"),
    ],
};

static SAAS: Spec = Spec {
    kind: "journey-map",
    scenario: "A team admin signs up for a trial of a project tool and tries to get the team using it.",
    goals: "Raise trial-to-paid conversion by getting teams to their first shared project faster.",
    personas: &[(
        "Priya, team lead",
        "Runs a team of eight; chose the trial herself.",
        "Replace spreadsheets with one shared tool.",
        "Quick setup, importing existing data, teammates joining without friction.",
        "No time for long tutorials; must convince her manager.",
        "new",
    )],
    channels: &["Web app", "E-mail", "In-app chat", "Sales call"],
    stages: &[
        ("Sign-up", &["Creates an account", "Verifies e-mail"]),
        ("Setup", &["Imports data", "Invites the team"]),
        (
            "First value",
            &["Creates the first project", "Team starts using it"],
        ),
        (
            "Adoption",
            &["Sets up integrations", "Reviews the first week"],
        ),
        ("Purchase", &["Talks to sales", "Upgrades to paid"]),
    ],
    lanes: JOURNEY_LANES,
    cards: &[
        c(ACTIONS, 0, "Signs up with a Google account"),
        c(ACTIONS, 2, "Uploads a CSV of open tasks"),
        c(ACTIONS, 3, "Sends invitations to seven teammates"),
        c(ACTIONS, 4, "Builds a board from a template"),
        c(ACTIONS, 6, "Connects Slack"),
        c(ACTIONS, 8, "Books a call about pricing"),
        c(TOUCHPOINTS, 1, "Verification e-mail"),
        c(TOUCHPOINTS, 3, "Invitation e-mail"),
        c(TOUCHPOINTS, 7, "Weekly summary e-mail"),
        c(THOUGHTS, 2, "\"Which columns go where?\""),
        c(THOUGHTS, 5, "\"Half the team still uses the spreadsheet.\""),
        c(THOUGHTS, 9, "\"Is the price worth it for eight people?\""),
        pain(
            PAINS,
            1,
            "Verification e-mail lands in spam for corporate domains",
            4,
            "observed",
            "Support tickets",
        ),
        pain(
            PAINS,
            2,
            "CSV import fails silently on date formats",
            5,
            "validated",
            "Import error logs",
        ),
        pain(
            PAINS,
            3,
            "Invitees arrive on an empty workspace with no context",
            3,
            "reported",
            "Interviews with 6 admins",
        ),
        pain(
            PAINS,
            9,
            "Pricing page hides the per-seat cost",
            3,
            "hypothesis",
            "Sales team",
        ),
        idea(IDEAS, 2, "Import preview with column mapping", 5, 3),
        idea(
            IDEAS,
            3,
            "Personal welcome note from the admin in the invitation",
            3,
            1,
        ),
        idea(IDEAS, 1, "Magic-link sign-in instead of verification", 4, 2),
        action(
            FIXES,
            2,
            "Ship import preview",
            "planned",
            "Onboarding squad",
        ),
        action(
            FIXES,
            1,
            "Move e-mail to a dedicated sending domain",
            "done",
            "Platform team",
        ),
    ],
    emotions: &[&[1, -1, -2, 0, 1, 0, 1, 1, 0, 1]],
    touchpoints: &[
        ("Sign-up page", 0, 0),
        ("Verification e-mail", 1, 1),
        ("Import wizard", 0, 2),
        ("Onboarding chat bot", 2, 4),
        ("Pricing call", 3, 8),
    ],
    metrics: &[
        MetricSpec {
            name: "Trial-to-paid conversion",
            kind: "conversion",
            target: 20.0,
            direction: "higher-is-better",
            step: Some(9),
            unit: "%",
            values: &[
                ("2026-08-01", 14.0),
                ("2026-09-01", 15.5),
                ("2026-10-01", 17.0),
            ],
        },
        MetricSpec {
            name: "Time to first project",
            kind: "custom",
            target: 30.0,
            direction: "lower-is-better",
            step: Some(4),
            unit: "min",
            values: &[("2026-10-01", 52.0)],
        },
        MetricSpec {
            name: "Onboarding CES",
            kind: "ces",
            target: 5.5,
            direction: "higher-is-better",
            step: Some(3),
            unit: "points",
            values: &[("2026-10-01", 4.8)],
        },
    ],
    links: &[
        (16, 13, "addresses"),
        (17, 14, "addresses"),
        (18, 12, "addresses"),
        (19, 16, "implements"),
        (20, 12, "relates"),
    ],
};

static SUPPORT: Spec = Spec {
    kind: "experience-map",
    scenario: "A customer is charged twice for a subscription and contacts support to get a refund.",
    goals: "Resolve billing problems at first contact and stop customers from having to call twice.",
    personas: &[
        (
            "Jonas, long-time subscriber",
            "Customer for six years; usually never contacts support.",
            "Get the money back without a fight.",
            "Acknowledgement, a clear timeline, one contact.",
            "Being passed between departments; repeating his story.",
            "loyal",
        ),
        (
            "Ana, first-year customer",
            "Joined this year on a promotion.",
            "Understand the bill.",
            "Plain-language explanations.",
            "Unsure whether to trust the company.",
            "new",
        ),
    ],
    channels: &["Phone", "Chat", "E-mail", "Self-service portal"],
    stages: &[
        (
            "Problem",
            &["Notices the double charge", "Searches the help centre"],
        ),
        (
            "Contact",
            &["Waits in the phone queue", "Explains the issue"],
        ),
        (
            "Resolution",
            &["Is transferred to billing", "Gets a refund promise"],
        ),
        ("Follow-up", &["Receives the refund", "Answers the survey"]),
    ],
    lanes: JOURNEY_LANES,
    cards: &[
        c(ACTIONS, 0, "Sees two identical charges on the bank app"),
        c(ACTIONS, 1, "Finds no article about double charges"),
        c(ACTIONS, 2, "Calls the hotline, chooses 'billing'"),
        c(ACTIONS, 3, "Reads out the charge details"),
        c(ACTIONS, 4, "Repeats everything to a second agent"),
        c(ACTIONS, 6, "Checks the bank app daily"),
        c(TOUCHPOINTS, 2, "IVR menu"),
        c(TOUCHPOINTS, 5, "Refund confirmation e-mail"),
        c(TOUCHPOINTS, 7, "NPS survey"),
        c(THOUGHTS, 0, "\"Did they really charge me twice?\""),
        c(THOUGHTS, 4, "\"Why do I have to say it all again?\""),
        c(THOUGHTS, 6, "\"Five days and nothing yet.\""),
        pain(
            PAINS,
            2,
            "Average wait of 14 minutes in the billing queue",
            4,
            "validated",
            "ACD reports",
        ),
        pain(
            PAINS,
            4,
            "Case notes are not passed on at transfer",
            5,
            "observed",
            "Call listening sessions",
        ),
        pain(
            PAINS,
            6,
            "No update between promise and refund",
            3,
            "reported",
            "Complaint analysis",
        ),
        idea(
            IDEAS,
            1,
            "Help-centre article and self-service refund for duplicate charges",
            4,
            2,
        ),
        idea(
            IDEAS,
            4,
            "Warm transfer with the case summary on screen",
            5,
            3,
        ),
        idea(IDEAS, 6, "Proactive SMS when the refund is sent", 3, 1),
        action(
            FIXES,
            4,
            "Add case summary to the transfer screen",
            "in-progress",
            "CRM team",
        ),
        action(
            FIXES,
            6,
            "Send refund status SMS",
            "open",
            "Billing operations",
        ),
    ],
    emotions: &[&[-1, -1, -2, 0, -2, 1, -1, 1], &[-1, 0, -1, 0, -1, 1, 0, 1]],
    touchpoints: &[
        ("Bank statement", 3, 0),
        ("Help centre", 3, 1),
        ("Billing hotline", 0, 2),
        ("Refund e-mail", 2, 5),
        ("Post-contact survey", 2, 7),
    ],
    metrics: &[
        MetricSpec {
            name: "First contact resolution",
            kind: "custom",
            target: 80.0,
            direction: "higher-is-better",
            step: Some(3),
            unit: "%",
            values: &[("2026-09-01", 61.0), ("2026-10-01", 64.0)],
        },
        MetricSpec {
            name: "Billing NPS",
            kind: "nps",
            target: 20.0,
            direction: "higher-is-better",
            step: Some(7),
            unit: "points",
            values: &[("2026-10-01", -12.0)],
        },
        MetricSpec {
            name: "Average handling time",
            kind: "custom",
            target: 360.0,
            direction: "lower-is-better",
            step: Some(3),
            unit: "s",
            values: &[("2026-10-01", 412.0)],
        },
    ],
    links: &[
        (15, 12, "addresses"),
        (16, 13, "addresses"),
        (17, 14, "addresses"),
        (18, 16, "implements"),
        (19, 17, "implements"),
    ],
};

static BLUEPRINT: Spec = Spec {
    kind: "service-blueprint",
    scenario: "A business traveller's one-night stay, and what the hotel does to deliver it.",
    goals: "Find where backstage work fails the guest, and fix check-in waiting times.",
    personas: &[(
        "Lena, business traveller",
        "Travels twice a month; arrives late in the evening.",
        "Rest well before a morning meeting.",
        "Fast check-in, quiet room, reliable Wi-Fi.",
        "Late arrivals meet a single receptionist.",
        "active",
    )],
    channels: &["Booking site", "Front desk", "Mobile app", "E-mail"],
    stages: &[
        ("Booking", &["Books a room", "Gets confirmation"]),
        ("Arrival", &["Arrives at the hotel", "Checks in"]),
        ("Stay", &["Uses the room", "Has breakfast"]),
        ("Departure", &["Checks out", "Gets the invoice"]),
    ],
    lanes: &[
        ("actions", "Guest actions"),
        ("frontstage", "Frontstage (staff the guest sees)"),
        ("backstage", "Backstage (staff the guest does not see)"),
        ("support", "Support processes and systems"),
        ("pain-points", "Pain points"),
        ("opportunities", "Opportunities"),
        ("emotions", "Emotion curve"),
    ],
    cards: &[
        c(0, 0, "Books through a travel portal"),
        c(0, 2, "Arrives at 23:10"),
        c(0, 3, "Hands over ID and credit card"),
        c(0, 4, "Connects to Wi-Fi for a video call"),
        c(0, 6, "Leaves the key card in the room"),
        c(1, 3, "Receptionist greets and checks in"),
        c(1, 5, "Breakfast staff seat the guest"),
        c(1, 6, "Receptionist prints the invoice"),
        c(2, 1, "Reservations team checks special requests"),
        c(2, 3, "Night manager covers the desk during breaks"),
        c(2, 4, "Housekeeping prepares the room"),
        c(3, 0, "Channel manager syncs availability"),
        c(3, 3, "Property management system assigns the room"),
        c(3, 4, "Network with 20 Mbit/s shared uplink"),
        c(3, 7, "Billing system sends the invoice e-mail"),
        pain(
            4,
            3,
            "Single receptionist after 22:00: 12-minute wait",
            4,
            "observed",
            "Mystery guest visits",
        ),
        pain(
            4,
            4,
            "Wi-Fi too slow for video calls in the evening",
            5,
            "validated",
            "Network monitoring",
        ),
        pain(
            4,
            7,
            "Invoice e-mail lacks the company's VAT number",
            3,
            "reported",
            "Guest complaints",
        ),
        idea(5, 3, "Mobile check-in with a digital key", 5, 4),
        idea(5, 4, "Upgrade the uplink; prioritise video traffic", 4, 3),
        idea(5, 1, "Ask for invoice details at booking", 3, 1),
    ],
    emotions: &[&[1, 1, -1, -2, -1, 1, 1, 0]],
    touchpoints: &[
        ("Travel portal booking", 0, 0),
        ("Confirmation e-mail", 3, 1),
        ("Front desk", 1, 3),
        ("Hotel app", 2, 4),
        ("Invoice e-mail", 3, 7),
    ],
    metrics: &[
        MetricSpec {
            name: "Check-in waiting time",
            kind: "custom",
            target: 5.0,
            direction: "lower-is-better",
            step: Some(3),
            unit: "min",
            values: &[("2026-10-01", 12.0)],
        },
        MetricSpec {
            name: "Stay CSAT",
            kind: "csat",
            target: 90.0,
            direction: "higher-is-better",
            step: Some(4),
            unit: "%",
            values: &[("2026-10-01", 84.0)],
        },
    ],
    links: &[
        (18, 15, "addresses"),
        (19, 16, "addresses"),
        (20, 17, "addresses"),
    ],
};
