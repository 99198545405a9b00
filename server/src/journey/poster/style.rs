//! The poster's colours and marks, the same as the browser editor's (`clients/web/src/board.css`,
//! `emotion.js`, `channels.js`) so a printed map reads like the board it came from.

/// A lane kind's colour: the stripe on its header and on the left edge of its cards.
pub fn lane_colour(kind: &str) -> &'static str {
    match kind {
        "actions" => "#3b6fb6",
        "touchpoints" => "#0e7490",
        "channels" => "#4d7c0f",
        "thoughts" => "#7c3aed",
        "feelings" => "#c026d3",
        "emotions" => "#db2777",
        "pain-points" => "#c2410c",
        "opportunities" => "#15803d",
        "improvements" => "#0f766e",
        "metrics" => "#a16207",
        "frontstage" => "#2563eb",
        "backstage" => "#64748b",
        "support" => "#475569",
        _ => "#9aa1ab",
    }
}

/// The lane kinds' names, as the editor shows them.
pub fn lane_kind_name(kind: &str) -> &'static str {
    match kind {
        "actions" => "Customer actions",
        "touchpoints" => "Touchpoints",
        "channels" => "Channels",
        "thoughts" => "Thoughts",
        "feelings" => "Feelings and quotes",
        "emotions" => "Emotion curve",
        "pain-points" => "Pain points",
        "opportunities" => "Opportunities",
        "improvements" => "Improvement actions",
        "metrics" => "Metrics",
        "frontstage" => "Frontstage",
        "backstage" => "Backstage",
        "support" => "Support processes",
        "images" => "Images",
        _ => "Text",
    }
}

/// A channel's colour by its position in rank order (`SCHEMA.md` §5.7).
pub fn channel_colour(position: usize) -> &'static str {
    const PALETTE: [&str; 8] = [
        "#0e7490", "#7c3aed", "#c2410c", "#15803d", "#2563eb", "#a16207", "#be185d", "#475569",
    ];
    PALETTE[position % PALETTE.len()]
}

/// Persona colours for emotion curves and profiles, in persona order.
pub fn persona_colour(position: usize) -> &'static str {
    const PALETTE: [&str; 6] = [
        "#1f5fa8", "#c2410c", "#15803d", "#7e22ce", "#be185d", "#0f766e",
    ];
    PALETTE[position % PALETTE.len()]
}

/// The evidence levels' marks, weakest first (absent evidence is a hypothesis).
pub const EVIDENCE: [(&str, &str); 4] = [
    ("hypothesis", "○"),
    ("reported", "◔"),
    ("observed", "◑"),
    ("validated", "●"),
];

pub fn evidence_mark(level: Option<&str>) -> &'static str {
    EVIDENCE
        .iter()
        .find(|(name, _)| Some(*name) == level)
        .map_or("○", |(_, mark)| mark)
}

pub const INK: &str = "#1d1f24";
pub const INK_2: &str = "#4b5260";
pub const LINE: &str = "#c9ced6";
pub const HEADER: &str = "#2e4057";
pub const DANGER: &str = "#b3261e";
pub const GOOD: &str = "#15803d";
