//! Filtering and grouping goroutine lists the way Delve's `ListGoroutines`
//! does (`goroutines -with/-without/-group` in the terminal). Pure
//! functions over [`Goroutine`] values, so the rules are tested without a
//! target.

use std::collections::BTreeMap;

use ferret_gort::bininfo::is_private_runtime;

use crate::model::{Goroutine, Location};

/// What a filter or grouping looks at (Delve's `api.GoroutineField`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GoroutineField {
    /// `curloc`: the current location.
    CurrentLoc,
    /// `userloc`: the topmost frame outside the runtime.
    UserLoc,
    /// `goloc`: the `go` statement.
    GoLoc,
    /// `startloc`: the start function.
    StartLoc,
    /// `label`: a pprof label.
    Label,
    /// `running`: on an OS thread.
    Running,
    /// `user`: not a runtime goroutine.
    User,
    /// Any other number: filters match everything, grouping puts all in
    /// one group.
    Other(i64),
}

impl GoroutineField {
    /// From Delve's wire number.
    pub fn from_wire(kind: i64) -> GoroutineField {
        match kind {
            1 => GoroutineField::CurrentLoc,
            2 => GoroutineField::UserLoc,
            3 => GoroutineField::GoLoc,
            4 => GoroutineField::StartLoc,
            5 => GoroutineField::Label,
            6 => GoroutineField::Running,
            7 => GoroutineField::User,
            other => GoroutineField::Other(other),
        }
    }
}

/// One `-with`/`-without` condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoroutineFilter {
    /// What is tested.
    pub field: GoroutineField,
    /// `-without`.
    pub negated: bool,
    /// Substring for locations; `key` or `key=value` for labels.
    pub arg: String,
}

/// How to group (`-group KIND [KEY]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupOptions {
    /// What to group by.
    pub field: GoroutineField,
    /// The label key, for [`GoroutineField::Label`].
    pub key: String,
    /// Members kept per group.
    pub max_members: usize,
    /// Groups kept (0: all).
    pub max_groups: usize,
}

/// One group of a grouped listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoroutineGroup {
    /// The group key, e.g. `main.go:12 in main.worker` or `kind=recv`.
    pub name: String,
    /// Index of its first member in the listing.
    pub offset: usize,
    /// Members listed.
    pub count: usize,
    /// Members in all.
    pub total: usize,
}

/// A location as Delve's filters and groups see it:
/// `FILE:LINE in FUNCTION`.
pub fn format_location(loc: &Location) -> String {
    let function = loc.function.as_ref().map_or("?", |f| f.name.as_str());
    format!("{}:{} in {}", loc.file, loc.line, function)
}

fn location_of(g: &Goroutine, field: GoroutineField) -> Option<&Location> {
    match field {
        GoroutineField::CurrentLoc => Some(&g.current_loc),
        GoroutineField::UserLoc => Some(&g.user_current_loc),
        GoroutineField::GoLoc => Some(&g.go_statement_loc),
        GoroutineField::StartLoc => Some(&g.start_loc),
        _ => None,
    }
}

/// Whether `g` passes one filter.
pub fn matches(g: &Goroutine, filter: &GoroutineFilter) -> bool {
    let hit = match filter.field {
        GoroutineField::Label => match filter.arg.split_once('=') {
            Some((key, value)) => g.labels.iter().any(|(k, v)| k == key && v == value),
            None => g.labels.iter().any(|(k, _)| *k == filter.arg),
        },
        GoroutineField::Running => g.thread_id != 0,
        GoroutineField::User => !g.system,
        GoroutineField::Other(_) => true,
        field => {
            location_of(g, field).is_some_and(|loc| format_location(loc).contains(&filter.arg))
        }
    };
    hit != filter.negated
}

/// The group `g` belongs to.
fn group_key(g: &Goroutine, options: &GroupOptions) -> String {
    match options.field {
        GoroutineField::Label => {
            let value = g
                .labels
                .iter()
                .find(|(k, _)| *k == options.key)
                .map_or("", |(_, v)| v.as_str());
            format!("{}={}", options.key, value)
        }
        GoroutineField::Running => format!("running={}", g.thread_id != 0),
        GoroutineField::User => format!("user={}", !g.system),
        GoroutineField::Other(_) => String::new(),
        field => location_of(g, field)
            .map(format_location)
            .unwrap_or_default(),
    }
}

/// Groups `goroutines` (in their listing order) sorted by key; returns the
/// kept members concatenated group by group, the groups, and whether
/// groups were dropped beyond `max_groups`.
pub fn group(
    goroutines: Vec<Goroutine>,
    options: &GroupOptions,
) -> (Vec<Goroutine>, Vec<GoroutineGroup>, bool) {
    let mut by_key: BTreeMap<String, (Vec<Goroutine>, usize)> = BTreeMap::new();
    for g in goroutines {
        let entry = by_key.entry(group_key(&g, options)).or_default();
        entry.1 += 1;
        if entry.0.len() < options.max_members {
            entry.0.push(g);
        }
    }
    let too_many = options.max_groups > 0 && by_key.len() > options.max_groups;
    let mut listed = Vec::new();
    let mut groups = Vec::new();
    for (name, (members, total)) in by_key.into_iter() {
        if options.max_groups > 0 && groups.len() >= options.max_groups {
            break;
        }
        // A group whose members were all dropped (max_members 0) is not
        // listed, as in Delve.
        if members.is_empty() {
            continue;
        }
        groups.push(GoroutineGroup {
            name,
            offset: listed.len(),
            count: members.len(),
            total,
        });
        listed.extend(members);
    }
    (listed, groups, too_many)
}

/// Delve's rule for a system goroutine: its start function is in the
/// runtime, except `runtime.main` and `runtime.handleAsyncEvent`.
pub fn is_system_start(start_function: &str) -> bool {
    start_function.starts_with("runtime.")
        && !matches!(start_function, "runtime.main" | "runtime.handleAsyncEvent")
}

/// Delve's rule for the "user" frame: a function outside the runtime's
/// private ones (exported runtime functions such as `runtime.Gosched`
/// count as user), `internal/` packages and `iter`.
pub fn is_user_frame(function: &str) -> bool {
    function.contains('.')
        && !is_private_runtime(function)
        && !function.starts_with("internal/")
        && !function.starts_with("runtime/internal/")
        && !function.starts_with("iter.")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::FunctionRef;

    fn g(id: i64, function: &str, labels: &[(&str, &str)]) -> Goroutine {
        let loc = Location {
            file: "/src/main.go".into(),
            line: 10,
            function: Some(FunctionRef {
                name: function.into(),
                entry: 0,
                optimized: false,
            }),
            ..Location::default()
        };
        Goroutine {
            id,
            user_current_loc: loc.clone(),
            start_loc: loc,
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..Goroutine::default()
        }
    }

    #[test]
    fn filters_match_substrings_labels_and_negation() {
        let worker = g(1, "main.worker", &[("kind", "recv")]);
        let filter = |field, negated, arg: &str| GoroutineFilter {
            field,
            negated,
            arg: arg.into(),
        };
        assert!(matches(
            &worker,
            &filter(GoroutineField::UserLoc, false, "main.work")
        ));
        assert!(!matches(
            &worker,
            &filter(GoroutineField::UserLoc, true, "main.work")
        ));
        assert!(matches(
            &worker,
            &filter(GoroutineField::Label, false, "kind")
        ));
        assert!(matches(
            &worker,
            &filter(GoroutineField::Label, false, "kind=recv")
        ));
        assert!(!matches(
            &worker,
            &filter(GoroutineField::Label, false, "kind=send")
        ));
        assert!(matches(
            &worker,
            &filter(GoroutineField::Other(99), false, "")
        ));
    }

    #[test]
    fn groups_are_sorted_by_key_and_capped() {
        let all = vec![
            g(3, "main.b", &[]),
            g(1, "main.a", &[]),
            g(2, "main.b", &[]),
            g(4, "main.b", &[]),
        ];
        let options = GroupOptions {
            field: GoroutineField::StartLoc,
            key: String::new(),
            max_members: 2,
            max_groups: 0,
        };
        let (listed, groups, too_many) = group(all.clone(), &options);
        assert!(!too_many);
        assert_eq!(
            listed.iter().map(|g| g.id).collect::<Vec<_>>(),
            vec![1, 3, 2]
        );
        assert_eq!(
            groups
                .iter()
                .map(|g| (g.offset, g.count, g.total))
                .collect::<Vec<_>>(),
            vec![(0, 1, 1), (1, 2, 3)]
        );
        let by_label = GroupOptions {
            field: GoroutineField::Label,
            key: "role".into(),
            max_members: 5,
            max_groups: 1,
        };
        let (_, groups, too_many) = group(all, &by_label);
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].name, "role=");
        assert!(!too_many);
    }

    #[test]
    fn user_and_system_rules() {
        assert!(is_system_start("runtime.gcBgMarkWorker"));
        assert!(!is_system_start("runtime.main"));
        assert!(is_user_frame("main.main"));
        assert!(is_user_frame("runtime.Gosched"));
        assert!(!is_user_frame("runtime.gopark"));
        assert!(!is_user_frame("internal/poll.(*FD).Read"));
    }
}
