//! Filtering and grouping goroutine lists the way Delve's `ListGoroutines`
//! does (`goroutines -with/-without/-group` in the terminal). Pure
//! functions over [`Goroutine`] values, so the rules are tested without a
//! target.

use std::borrow::Borrow;
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
    /// `chan`: waiting on the channel the argument evaluates to (resolved
    /// by the session, which can evaluate expressions).
    WaitingOnChannel,
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
            8 => GoroutineField::WaitingOnChannel,
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
    let function = loc.function.as_ref().map_or("?", |f| &*f.name);
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

/// Whether `g` passes one filter; `waiting` holds the goroutines waiting
/// on the channel of a `chan` filter (the session evaluates it).
pub fn matches(
    g: &Goroutine,
    filter: &GoroutineFilter,
    waiting: &std::collections::HashSet<i64>,
) -> bool {
    let hit = match filter.field {
        GoroutineField::WaitingOnChannel => waiting.contains(&g.id),
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
        GoroutineField::Other(_) | GoroutineField::WaitingOnChannel => String::new(),
        field => location_of(g, field)
            .map(format_location)
            .unwrap_or_default(),
    }
}

/// Groups goroutines as they come, in their listing order (Delve's
/// GroupBy): counts every member of a group but keeps only the first
/// `max_members`, so grouping 10^5 goroutines holds a few of them.
pub struct Grouper<'a> {
    options: &'a GroupOptions,
    by_key: BTreeMap<String, (Vec<Goroutine>, usize)>,
}

impl<'a> Grouper<'a> {
    /// An empty grouping by `options`.
    pub fn new(options: &'a GroupOptions) -> Grouper<'a> {
        Grouper {
            options,
            by_key: BTreeMap::new(),
        }
    }

    /// Counts `g` in its group, keeping it if the group has room.
    pub fn add(&mut self, g: Goroutine) {
        let entry = self.by_key.entry(group_key(&g, self.options)).or_default();
        entry.1 += 1;
        if entry.0.len() < self.options.max_members {
            entry.0.push(g);
        }
    }

    /// The kept members concatenated group by group (groups sorted by
    /// key), the groups, and whether groups were dropped beyond
    /// `max_groups`.
    pub fn finish(self) -> (Vec<Goroutine>, Vec<GoroutineGroup>, bool) {
        let max_groups = self.options.max_groups;
        let too_many = max_groups > 0 && self.by_key.len() > max_groups;
        let mut listed = Vec::new();
        let mut groups = Vec::new();
        for (name, (members, total)) in self.by_key {
            if max_groups > 0 && groups.len() >= max_groups {
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
}

/// One page of a goroutine listing, filtered and maybe grouped.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GoroutineListing {
    /// The goroutines listed (with groups: the kept members, group by group).
    pub goroutines: Vec<Goroutine>,
    /// The groups, when grouping was asked for.
    pub groups: Option<Vec<GoroutineGroup>>,
    /// Groups were dropped beyond the maximum.
    pub too_many_groups: bool,
    /// Where the next page starts (-1: no more).
    pub next: i64,
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

/// What a leak-hunting summary groups by (beyond Delve: wait reason).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SummaryKey {
    /// The runtime's wait reason for waiting goroutines, else the status
    /// in parentheses (`(running)`, `(runnable)`, `(syscall)`, ...).
    WaitReason,
    /// The topmost user frame.
    UserLoc,
    /// The start function.
    StartLoc,
    /// The `go` statement.
    GoLoc,
    /// The topmost frame.
    CurLoc,
    /// The value of one pprof label (`key=value`, `key=` when absent).
    Label(String),
}

impl SummaryKey {
    /// Parses `waitreason`, `userloc`, `startloc`, `goloc`, `curloc` or
    /// `label:KEY`.
    pub fn parse(text: &str) -> Option<SummaryKey> {
        Some(match text {
            "waitreason" => SummaryKey::WaitReason,
            "userloc" => SummaryKey::UserLoc,
            "startloc" => SummaryKey::StartLoc,
            "goloc" => SummaryKey::GoLoc,
            "curloc" => SummaryKey::CurLoc,
            other => SummaryKey::Label(
                other
                    .strip_prefix("label:")
                    .filter(|k| !k.is_empty())?
                    .to_owned(),
            ),
        })
    }
}

/// The status of a goroutine that is not waiting, as a summary key.
fn status_key(status: u64) -> String {
    let name = match status {
        0 => "idle",
        1 => "runnable",
        2 => "running",
        3 => "syscall",
        6 => "dead",
        8 => "copystack",
        9 => "preempted",
        10 => "leaked",
        _ => "unknown status",
    };
    format!("({name})")
}

/// A goroutine's value for `key`; `wait_reasons` are the target's names.
pub fn summary_value(g: &Goroutine, key: &SummaryKey, wait_reasons: &[String]) -> String {
    if !g.unreadable.is_empty() {
        return "(unreadable)".to_owned();
    }
    match key {
        SummaryKey::WaitReason if g.status == 4 => wait_reasons
            .get(g.wait_reason as usize)
            .cloned()
            .unwrap_or_else(|| format!("wait reason {}", g.wait_reason)),
        SummaryKey::WaitReason => status_key(g.status),
        SummaryKey::UserLoc => format_location(&g.user_current_loc),
        SummaryKey::StartLoc => format_location(&g.start_loc),
        SummaryKey::GoLoc => format_location(&g.go_statement_loc),
        SummaryKey::CurLoc => format_location(&g.current_loc),
        SummaryKey::Label(key) => {
            format!(
                "{key}={}",
                g.labels
                    .iter()
                    .find(|(k, _)| k == key)
                    .map_or("", |(_, v)| v.as_str())
            )
        }
    }
}

/// One group of a summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SummaryGroup {
    /// One value per grouping key, in the order asked.
    pub key: Vec<String>,
    /// Goroutines in the group.
    pub count: usize,
    /// The longest wait in the group, in nanoseconds (`None` when no
    /// member's wait start is known).
    pub oldest_wait_ns: Option<i64>,
    /// The first few goroutine ids, in the runtime's order.
    pub sample_ids: Vec<i64>,
}

/// Groups `goroutines` by `keys`, largest group first (ties by key).
/// `now` gives the target's `nanotime`, asked once every goroutine has
/// been seen (a core's stand-in for it is only known then); a goroutine
/// waits `now - wait_since` when its wait start is known (the runtime
/// records it at the first garbage collection of its wait). Returns the
/// groups and the `now` used.
pub fn summarize(
    goroutines: impl IntoIterator<Item = impl Borrow<Goroutine>>,
    keys: &[SummaryKey],
    wait_reasons: &[String],
    now: impl FnOnce() -> i64,
    samples: usize,
) -> (Vec<SummaryGroup>, i64) {
    // Per group, the earliest wait start; waits are measured at the end.
    let mut groups: BTreeMap<Vec<String>, (SummaryGroup, Option<i64>)> = BTreeMap::new();
    for g in goroutines {
        let g = g.borrow();
        let key: Vec<String> = keys
            .iter()
            .map(|k| summary_value(g, k, wait_reasons))
            .collect();
        let (group, earliest) = groups.entry(key.clone()).or_insert((
            SummaryGroup {
                key,
                count: 0,
                oldest_wait_ns: None,
                sample_ids: Vec::new(),
            },
            None,
        ));
        group.count += 1;
        if g.status == 4 && g.wait_since > 0 {
            *earliest = Some(earliest.map_or(g.wait_since, |e: i64| e.min(g.wait_since)));
        }
        if group.sample_ids.len() < samples {
            group.sample_ids.push(g.id);
        }
    }
    let now = now();
    let mut groups: Vec<SummaryGroup> = groups
        .into_values()
        .map(|(mut group, earliest)| {
            group.oldest_wait_ns = earliest.filter(|&e| now >= e).map(|e| now - e);
            group
        })
        .collect();
    groups.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key.cmp(&b.key)));
    (groups, now)
}

/// What a summary asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SummaryRequest {
    /// One or two keys; groups are nested in that order.
    pub keys: Vec<SummaryKey>,
    /// Only goroutines whose wait reason (or status key) is one of these;
    /// empty: all.
    pub wait_reasons: Vec<String>,
    /// Only goroutines known to have waited at least this long (ns); 0: all.
    pub min_wait_ns: i64,
    /// Goroutine ids listed per group.
    pub samples: usize,
}

impl SummaryRequest {
    /// Whether answering needs each goroutine's stack (for `userloc` and
    /// `curloc`); the other keys read only the `g` itself.
    pub fn needs_stacks(&self) -> bool {
        self.keys
            .iter()
            .any(|k| matches!(k, SummaryKey::UserLoc | SummaryKey::CurLoc))
    }

    /// Whether answering needs each goroutine's pprof labels.
    pub fn needs_labels(&self) -> bool {
        self.keys.iter().any(|k| matches!(k, SummaryKey::Label(_)))
    }
}

/// A leak-hunting summary of a target's goroutines.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GoroutineSummary {
    /// Goroutines in the target.
    pub total: usize,
    /// Goroutines that passed the filters.
    pub matched: usize,
    /// The target's `nanotime` the waits are measured at.
    pub now_ns: i64,
    /// `now_ns` is estimated (a core has no clock: the latest wait start
    /// stands in for it).
    pub now_estimated: bool,
    /// Groups, largest first.
    pub groups: Vec<SummaryGroup>,
    /// Threads and open descriptors, for a live process.
    pub resources: Option<ferret_target::linux::Resources>,
}

/// How long `g` has been waiting at `now`, when known.
pub fn wait_ns(g: &Goroutine, now: i64) -> Option<i64> {
    (g.status == 4 && g.wait_since > 0 && now >= g.wait_since).then(|| now - g.wait_since)
}

/// One group's change between two goroutine lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffGroup {
    /// One value per grouping key.
    pub key: Vec<String>,
    /// Members in the earlier list.
    pub before: usize,
    /// Members in the later list.
    pub after: usize,
    /// Members of the later list that the earlier one did not have, by id
    /// (at most the number asked for).
    pub new_ids: Vec<i64>,
}

/// The groups (by `keys`) that grew from `before` to `after`, most growth
/// first (ties by key). A goroutine is new when its id was not in
/// `before`; ids are never reused by the runtime.
pub fn diff(
    before: &[Goroutine],
    after: &[Goroutine],
    keys: &[SummaryKey],
    wait_reasons: &[String],
    max_ids: usize,
) -> Vec<DiffGroup> {
    let known: std::collections::HashSet<i64> = before.iter().map(|g| g.id).collect();
    let key_of = |g: &Goroutine| -> Vec<String> {
        keys.iter()
            .map(|k| summary_value(g, k, wait_reasons))
            .collect()
    };
    let mut groups: BTreeMap<Vec<String>, DiffGroup> = BTreeMap::new();
    for g in before {
        let key = key_of(g);
        groups
            .entry(key.clone())
            .or_insert(DiffGroup {
                key,
                before: 0,
                after: 0,
                new_ids: Vec::new(),
            })
            .before += 1;
    }
    for g in after {
        let key = key_of(g);
        let group = groups.entry(key.clone()).or_insert(DiffGroup {
            key,
            before: 0,
            after: 0,
            new_ids: Vec::new(),
        });
        group.after += 1;
        if !known.contains(&g.id) && group.new_ids.len() < max_ids {
            group.new_ids.push(g.id);
        }
    }
    let mut grown: Vec<DiffGroup> = groups
        .into_values()
        .filter(|g| g.after > g.before)
        .collect();
    grown.sort_by(|a, b| {
        (b.after - b.before)
            .cmp(&(a.after - a.before))
            .then_with(|| a.key.cmp(&b.key))
    });
    grown
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
        let none = std::collections::HashSet::new();
        assert!(matches(
            &worker,
            &filter(GoroutineField::UserLoc, false, "main.work"),
            &none
        ));
        assert!(!matches(
            &worker,
            &filter(GoroutineField::UserLoc, true, "main.work"),
            &none
        ));
        assert!(matches(
            &worker,
            &filter(GoroutineField::Label, false, "kind"),
            &none
        ));
        assert!(matches(
            &worker,
            &filter(GoroutineField::Label, false, "kind=recv"),
            &none
        ));
        assert!(!matches(
            &worker,
            &filter(GoroutineField::Label, false, "kind=send"),
            &none
        ));
        assert!(matches(
            &worker,
            &filter(GoroutineField::Other(99), false, ""),
            &none
        ));
        // `chan` filters test membership in the waiters the session found.
        let waiting = std::collections::HashSet::from([1]);
        let on_channel = filter(GoroutineField::WaitingOnChannel, false, "ch");
        assert!(matches(&worker, &on_channel, &waiting));
        assert!(!matches(&worker, &on_channel, &none));
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
        let mut grouper = Grouper::new(&options);
        all.iter().cloned().for_each(|g| grouper.add(g));
        let (listed, groups, too_many) = grouper.finish();
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
        let mut grouper = Grouper::new(&by_label);
        all.into_iter().for_each(|g| grouper.add(g));
        let (_, groups, too_many) = grouper.finish();
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].name, "role=");
        assert!(!too_many);
    }

    #[test]
    fn summaries_group_by_wait_reason_and_label_largest_first() {
        let reasons: Vec<String> = ["", "a", "chan receive"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let mut gs = vec![
            g(1, "main.a", &[("kind", "x")]),
            g(2, "main.b", &[]),
            g(3, "main.b", &[("kind", "x")]),
        ];
        for (i, g) in gs.iter_mut().enumerate() {
            g.status = 4;
            g.wait_reason = 2;
            g.wait_since = 100 * i as i64 + 1;
        }
        gs[0].status = 2;
        let keys = [
            SummaryKey::WaitReason,
            SummaryKey::parse("label:kind").unwrap(),
        ];
        let (groups, _) = summarize(&gs, &keys, &reasons, || 1001, 1);
        let view: Vec<_> = groups
            .iter()
            .map(|g| {
                (
                    g.key.join(" | "),
                    g.count,
                    g.oldest_wait_ns,
                    g.sample_ids.clone(),
                )
            })
            .collect();
        assert_eq!(
            view,
            vec![
                ("(running) | kind=x".to_string(), 1, None, vec![1]),
                ("chan receive | kind=".to_string(), 1, Some(900), vec![2]),
                ("chan receive | kind=x".to_string(), 1, Some(800), vec![3]),
            ]
        );
        assert_eq!(SummaryKey::parse("label:"), None);
        assert_eq!(SummaryKey::parse("bogus"), None);
    }

    #[test]
    fn diffs_list_groups_that_grew_with_their_new_ids() {
        let before = vec![
            g(1, "main.a", &[]),
            g(2, "main.b", &[]),
            g(3, "main.b", &[]),
        ];
        let after = vec![
            g(1, "main.a", &[]),
            g(3, "main.b", &[]),
            g(4, "main.b", &[]),
            g(5, "main.b", &[]),
            g(6, "main.c", &[]),
        ];
        let grown = diff(&before, &after, &[SummaryKey::StartLoc], &[], 10);
        let view: Vec<_> = grown
            .iter()
            .map(|g| (g.key[0].clone(), g.before, g.after, g.new_ids.clone()))
            .collect();
        assert_eq!(
            view,
            vec![
                ("/src/main.go:10 in main.b".to_string(), 2, 3, vec![4, 5]),
                ("/src/main.go:10 in main.c".to_string(), 0, 1, vec![6]),
            ]
        );
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
