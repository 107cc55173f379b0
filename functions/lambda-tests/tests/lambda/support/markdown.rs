//! [`Markdown`]: a report built as Markdown text (headings, paragraphs, tables), printed by a
//! measurement and written to a file for the benchmarks page.

use std::fmt::Write;

/// A Markdown document under construction.
#[derive(Default)]
pub struct Markdown(String);

impl Markdown {
    /// A `##` heading.
    pub fn heading(&mut self, text: &str) {
        let _ = write!(self.0, "\n## {text}\n\n");
    }

    /// A paragraph.
    pub fn paragraph(&mut self, text: &str) {
        let _ = write!(self.0, "{text}\n\n");
    }

    /// A table; the first column is left-aligned, the others right-aligned (numbers).
    pub fn table(&mut self, header: &[&str], rows: &[Vec<String>]) {
        let _ = writeln!(self.0, "| {} |", header.join(" | "));
        let aligns: Vec<&str> = (0..header.len())
            .map(|i| if i == 0 { "---" } else { "---:" })
            .collect();
        let _ = writeln!(self.0, "| {} |", aligns.join(" | "));
        for row in rows {
            let _ = writeln!(self.0, "| {} |", row.join(" | "));
        }
        self.0.push('\n');
    }

    /// The text.
    pub fn text(&self) -> &str {
        &self.0
    }
}

/// `value` with `decimals` decimals and thousands separators (`12,345.6`).
pub fn number(value: f64, decimals: usize) -> String {
    let text = format!("{:.*}", decimals, value.abs());
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let mut grouped = String::new();
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    let sign = if value < 0.0 { "-" } else { "" };
    if fraction.is_empty() {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped}.{fraction}")
    }
}

/// The value at quantile `q` (0–1) of `values`, sorted here; 0 when empty.
pub fn quantile(values: &[f64], q: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let index = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[index]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_grouped_by_thousands() {
        assert_eq!(number(1234567.891, 1), "1,234,567.9");
        assert_eq!(number(12.0, 0), "12");
        assert_eq!(number(-1000.0, 2), "-1,000.00");
    }

    #[test]
    fn quantiles_pick_from_the_sorted_values() {
        assert_eq!(quantile(&[3.0, 1.0, 2.0], 0.5), 2.0);
        assert_eq!(quantile(&[3.0, 1.0, 2.0], 1.0), 3.0);
    }
}
