//! Goroutine-leak views as text, for every front end: the `ferret
//! goroutines` command and DAP's `ferret goroutines` console command print
//! the same table of a `Ferret.GoroutineSummary`.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::Value;

/// A `Ferret.GoroutineSummary` result as text: a header line, then a
/// table of groups; with `previous` (each group's count from an earlier
/// summary), a column shows how each group grew since. Returns the text
/// and each group's count, for the next round.
pub fn summary_text(
    summary: &Value,
    group: &[String],
    previous: Option<&HashMap<Vec<String>, u64>>,
) -> (String, HashMap<Vec<String>, u64>) {
    let total = summary["Total"].as_u64().unwrap_or(0);
    let matched = summary["Matched"].as_u64().unwrap_or(0);
    let mut header = format!("{matched} of {total} goroutines");
    if let Some(process) = summary["Process"].as_object() {
        let fds: Vec<String> = process
            .get("FDs")
            .and_then(Value::as_object)
            .map(|fds| fds.iter().map(|(kind, n)| format!("{kind} {n}")).collect())
            .unwrap_or_default();
        header.push_str(&format!(
            "; {} threads; fds: {}",
            process["Threads"],
            fds.join(", ")
        ));
    }
    let mut text = format!("{header}\n");
    let mut columns = vec!["COUNT".to_owned()];
    if previous.is_some() {
        columns.push("GROWTH".into());
    }
    columns.push("OLDEST WAIT".into());
    columns.extend(group.iter().map(|g| g.to_uppercase()));
    columns.push("SAMPLE IDS".into());
    let mut rows = vec![columns];
    let mut counts = HashMap::new();
    for g in summary["Groups"].as_array().into_iter().flatten() {
        let key: Vec<String> = g["Key"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|k| k.as_str().unwrap_or("").to_owned())
            .collect();
        let count = g["Count"].as_u64().unwrap_or(0);
        let mut row = vec![count.to_string()];
        if let Some(previous) = previous {
            let before = previous.get(&key).copied().unwrap_or(0);
            row.push(format!("{:+}", count as i64 - before as i64));
        }
        row.push(
            g["OldestWaitSeconds"]
                .as_f64()
                .map_or("-".into(), format_wait),
        );
        row.extend(key.iter().cloned());
        let ids: Vec<String> = g["SampleIDs"]
            .as_array()
            .into_iter()
            .flatten()
            .map(Value::to_string)
            .collect();
        row.push(ids.join(" "));
        rows.push(row);
        counts.insert(key, count);
    }
    text.push_str(&table(&rows));
    (text, counts)
}

/// `95s` as `1m35s`, `3700s` as `1h1m`.
fn format_wait(seconds: f64) -> String {
    let s = seconds as u64;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{}s", s / 60, s % 60),
        _ => format!("{}h{}m", s / 3600, s % 3600 / 60),
    }
}

/// Left-aligned columns, two spaces apart, a line per row.
fn table(rows: &[Vec<String>]) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}
/// Parses `90s`, `5m`, `1h`, `250ms` or a number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let bad = || format!("invalid duration {text:?}: use e.g. 30s, 5m, 1h or 250ms");
    let (number, unit) = text
        .find(|c: char| c.is_ascii_alphabetic())
        .map_or((text, "s"), |i| text.split_at(i));
    let value: f64 = number.trim().parse().map_err(|_| bad())?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        _ => return Err(bad()),
    };
    Duration::try_from_secs_f64(seconds).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_waits() {
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2"), Ok(Duration::from_secs(2)));
        assert!(parse_duration("-1s").is_err());
        assert!(parse_duration("5 weeks").is_err());
        assert_eq!(format_wait(95.0), "1m35s");
        assert_eq!(format_wait(3700.0), "1h1m");
    }
}
