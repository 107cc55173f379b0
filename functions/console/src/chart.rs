//! The overview's trend chart: created, updated, deactivated and errors over the recent runs, as
//! an SVG drawn on the server (no chart service, no script). It holds numbers only, so it is
//! inserted unescaped; colours come from the stylesheet's classes (light and dark mode).

use crate::text::RunRow;
use std::fmt::Write as _;

const WIDTH: f64 = 600.0;
const HEIGHT: f64 = 160.0;
const PAD: f64 = 24.0;

/// The series, with their stylesheet class and label.
const SERIES: [(&str, &str); 4] = [
    ("created", "created"),
    ("updated", "updated"),
    ("deactivated", "deactivated"),
    ("errors", "errors"),
];

fn value(run: &RunRow, series: &str) -> usize {
    match series {
        "created" => run.created,
        "updated" => run.updated,
        "deactivated" => run.deactivated,
        _ => run.errors,
    }
}

/// The chart of `runs` (newest first, as the overview lists them); empty for fewer than two runs.
pub fn trend(runs: &[RunRow]) -> String {
    if runs.len() < 2 {
        return String::new();
    }
    let oldest_first: Vec<&RunRow> = runs.iter().rev().collect();
    let max = oldest_first
        .iter()
        .flat_map(|run| SERIES.iter().map(|(name, _)| value(run, name)))
        .max()
        .unwrap_or(0)
        .max(1);
    let step = (WIDTH - 2.0 * PAD) / (oldest_first.len() - 1) as f64;
    let y = |n: usize| HEIGHT - PAD - (n as f64 / max as f64) * (HEIGHT - 2.0 * PAD);
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="trend" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="trend-title trend-desc"><title id="trend-title">Changes per run, last {} runs</title><desc id="trend-desc">Created, updated, deactivated and errors per run, oldest on the left; the highest value is {max}. The table below lists the same numbers.</desc>"#,
        oldest_first.len()
    );
    let _ = write!(
        svg,
        r#"<line class="axis" x1="{PAD}" y1="{bottom}" x2="{right}" y2="{bottom}"/><text class="label" x="2" y="{top}">{max}</text><text class="label" x="2" y="{bottom}">0</text>"#,
        bottom = HEIGHT - PAD,
        right = WIDTH - PAD,
        top = PAD + 4.0,
    );
    for (name, _) in SERIES {
        let points: Vec<String> = oldest_first
            .iter()
            .enumerate()
            .map(|(i, run)| format!("{:.1},{:.1}", PAD + step * i as f64, y(value(run, name))))
            .collect();
        let _ = write!(
            svg,
            r#"<polyline class="series series-{name}" points="{}"/>"#,
            points.join(" ")
        );
    }
    svg.push_str("</svg>");
    svg
}

/// The legend's entries: class and label.
pub fn legend() -> &'static [(&'static str, &'static str)] {
    &SERIES
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(created: usize, errors: usize) -> RunRow {
        RunRow {
            id: "r".into(),
            started: String::new(),
            trigger: String::new(),
            status: "completed",
            status_label: "Completed",
            created,
            updated: 0,
            deactivated: 0,
            errors,
            duration: String::new(),
        }
    }

    #[test]
    fn the_chart_scales_to_the_highest_value_and_plots_oldest_first() {
        assert_eq!(trend(&[row(1, 0)]), "");
        // Newest first: 40 created last, 10 first.
        let svg = trend(&[row(40, 2), row(10, 0)]);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains(">40</text>"), "{svg}");
        // Created: from (24, 136-…) at the left to the top at the right.
        assert!(
            svg.contains(r#"class="series series-created" points="24.0,108.0 576.0,24.0""#),
            "{svg}"
        );
        assert_eq!(svg.matches("<polyline").count(), 4);
        assert!(!svg.contains("script"));
    }
}
