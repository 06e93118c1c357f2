//! The `vars` fixture (`tests/fixtures/vars`): one variable of each kind
//! of Go value, printed by the program itself, then a pause at a marked
//! line (`VARS_PAUSE=main` or `inspect`) where a core is taken.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

/// A core of `binary` paused at `place` (`main` or `inspect`), made in
/// `dir`, and the `name=value` pairs the program printed before pausing
/// (values as fmt printed them).
pub fn vars_core(binary: &Path, place: &str, dir: &Path) -> (PathBuf, BTreeMap<String, String>) {
    crate::cores::core_when_ready(binary, &[], &[("VARS_PAUSE", place)], dir, |stdout| {
        let mut printed = BTreeMap::new();
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line == "paused" {
                return Some(printed);
            }
            for (name, value) in printed_pairs(&line) {
                printed.insert(name, value);
            }
        }
        None
    })
}

/// The `name=value` pairs of one line the fixture printed (values end at
/// the next ` name=`; quoted values are kept quoted).
fn printed_pairs(line: &str) -> Vec<(String, String)> {
    let line = line.strip_prefix("inspect: ").unwrap_or(line);
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(eq) = rest.find('=') {
        let name = rest[..eq].trim().to_owned();
        let after = &rest[eq + 1..];
        // The value runs to the start of the next `name=`.
        let mut end = after.len();
        let mut search = 0;
        while let Some(space) = after[search..].find(' ') {
            let at = search + space;
            let next = &after[at + 1..];
            let word_end = next
                .find(|c: char| {
                    !(c.is_alphanumeric()
                        || c == '['
                        || c == ']'
                        || c == '('
                        || c == ')'
                        || c == '.')
                })
                .unwrap_or(next.len());
            if next[word_end..].starts_with('=') && word_end > 0 {
                end = at;
                break;
            }
            search = at + 1;
        }
        out.push((name, after[..end].to_owned()));
        rest = &after[end..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::printed_pairs;

    #[test]
    fn pairs_split_at_the_next_name() {
        let pairs =
            printed_pairs(r#"s="hello, vars" uni="h w" len(ch)=2 p={X:1 Y:2} bigArr[999]=1998"#);
        let names: Vec<&str> = pairs.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["s", "uni", "len(ch)", "p", "bigArr[999]"]);
        assert_eq!(pairs[0].1, r#""hello, vars""#);
        assert_eq!(pairs[3].1, "{X:1 Y:2}");
    }
}
