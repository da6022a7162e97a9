//! Measures as a table (measure, value, target, result) or as JSON, plus the small timing
//! statistics every measure uses.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    Fail,
    /// Reported for the reader; the issue sets no target.
    Info,
}

impl Verdict {
    pub fn of(pass: bool) -> Self {
        if pass { Verdict::Pass } else { Verdict::Fail }
    }

    fn label(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Fail => "FAIL",
            Verdict::Info => "info",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Measure {
    pub name: String,
    pub value: String,
    pub target: String,
    pub verdict: Verdict,
}

impl Measure {
    pub fn new(
        name: impl Into<String>,
        value: impl Into<String>,
        target: impl Into<String>,
        verdict: Verdict,
    ) -> Self {
        Measure {
            name: name.into(),
            value: value.into(),
            target: target.into(),
            verdict,
        }
    }

    pub fn info(name: impl Into<String>, value: impl Into<String>) -> Self {
        Measure::new(name, value, "—", Verdict::Info)
    }
}

pub fn table(measures: &[Measure]) -> String {
    let headers = ["measure", "value", "target", "result"];
    let rows: Vec<[&str; 4]> = measures
        .iter()
        .map(|m| [&*m.name, &*m.value, &*m.target, m.verdict.label()])
        .collect();
    let mut widths = headers.map(|h| h.chars().count());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: [&str; 4]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c}{}", " ".repeat(w - c.chars().count())))
            .collect();
        format!("{}\n", padded.join("  ").trim_end())
    };
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    let mut out = format!("{}{}\n", line(headers), rule.join("  "));
    for row in rows {
        out.push_str(&line(row));
    }
    out
}

pub fn json(measures: &[Measure]) -> Value {
    Value::Array(
        measures
            .iter()
            .map(|m| {
                json!({ "measure": m.name, "value": m.value, "target": m.target, "result": m.verdict.label() })
            })
            .collect(),
    )
}

/// `875.6 KB`, `1.5 MB` (decimal units, as the target is stated).
pub fn megabytes(bytes: u64) -> String {
    if bytes >= 1_000_000 {
        format!("{:.2} MB", bytes as f64 / 1e6)
    } else {
        format!("{:.1} KB", bytes as f64 / 1e3)
    }
}

/// `3.42 MiB` (binary units, as memory targets are stated).
pub fn mebibytes(bytes: usize) -> String {
    format!("{:.2} MiB", bytes as f64 / (1 << 20) as f64)
}

/// `10,000`.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `412 µs`, `3.21 ms`, `2.04 s`.
pub fn duration(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us < 1_000.0 {
        format!("{us:.0} µs")
    } else if us < 1_000_000.0 {
        format!("{:.2} ms", us / 1e3)
    } else {
        format!("{:.2} s", us / 1e6)
    }
}

/// Durations of repeated runs of one thing.
#[derive(Debug, Default, Clone)]
pub struct Samples(Vec<Duration>);

impl Samples {
    pub fn push(&mut self, d: Duration) {
        self.0.push(d);
    }

    /// The middle run: robust to the odd run a noisy neighbour slowed down.
    pub fn median(&self) -> Duration {
        let mut sorted = self.0.clone();
        sorted.sort();
        sorted.get(sorted.len() / 2).copied().unwrap_or_default()
    }
}

/// Run `f` and time it.
pub async fn timed<T>(f: impl Future<Output = T>) -> (T, Duration) {
    let started = Instant::now();
    let out = f.await;
    (out, started.elapsed())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units() {
        assert_eq!(megabytes(875_580), "875.6 KB");
        assert_eq!(megabytes(1_500_000), "1.50 MB");
        assert_eq!(mebibytes(3 << 20), "3.00 MiB");
        assert_eq!(duration(Duration::from_micros(412)), "412 µs");
        assert_eq!(duration(Duration::from_micros(3_210)), "3.21 ms");
        assert_eq!(duration(Duration::from_millis(2_040)), "2.04 s");
        assert_eq!(
            [
                count(7),
                count(100),
                count(1_000),
                count(10_000),
                count(1_234_567)
            ],
            ["7", "100", "1,000", "10,000", "1,234,567"]
        );
    }

    #[test]
    fn the_median_ignores_outliers() {
        let mut s = Samples::default();
        for us in [100, 90, 5_000, 110, 95] {
            s.push(Duration::from_micros(us));
        }
        assert_eq!(s.median(), Duration::from_micros(100));
        assert_eq!(Samples::default().median(), Duration::ZERO);
    }

    #[test]
    fn the_table_aligns_columns() {
        let t = table(&[
            Measure::new("size", "875.6 KB", "≤ 1.50 MB", Verdict::Pass),
            Measure::info("items/s", "21,000"),
        ]);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines[0], "measure  value     target     result");
        assert_eq!(lines[1], "-------  --------  ---------  ------");
        assert_eq!(lines[2], "size     875.6 KB  ≤ 1.50 MB  PASS");
        assert_eq!(lines[3], "items/s  21,000    —          info");
    }
}
