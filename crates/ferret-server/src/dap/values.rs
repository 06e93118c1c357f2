//! How DAP shows a Go value (placeholder until Delve's presentation lands).

use ferret_debugger::model::{LoadConfig, Variable};
use serde_json::{json, Value};

/// The load configuration DAP reads variables with.
pub fn load_config() -> LoadConfig {
    LoadConfig {
        follow_pointers: true,
        max_variable_recurse: 1,
        max_string_len: 512,
        max_array_values: 64,
        max_struct_fields: -1,
    }
}

/// One value as DAP shows it (a `Variable` object minus the handle).
#[derive(Debug, Clone)]
pub struct Shown {
    /// Name shown.
    pub name: String,
    /// Value text.
    pub value: String,
    /// Type name.
    pub type_name: String,
    /// Expression that reads it again.
    pub evaluate_name: String,
    /// What a handle keeps to list its children.
    pub expandable: Option<Expandable>,
    /// Indexed children.
    pub indexed_variables: Option<i64>,
    /// Named children.
    pub named_variables: Option<i64>,
    /// Address for readMemory.
    pub memory_reference: Option<String>,
}

/// What the caller keeps behind a handle to list children later.
#[derive(Debug, Clone)]
pub struct Expandable {
    /// The value.
    pub variable: Variable,
    /// Its expression.
    pub evaluate_name: String,
}

/// Shows one value.
pub fn show(v: &Variable, name: &str, evaluate_name: &str) -> Shown {
    let expandable = (v.child_count() > 0).then(|| Expandable {
        variable: v.clone(),
        evaluate_name: evaluate_name.to_owned(),
    });
    Shown {
        name: name.to_owned(),
        value: v.value.clone(),
        type_name: v.type_name.clone(),
        evaluate_name: evaluate_name.to_owned(),
        expandable,
        indexed_variables: None,
        named_variables: None,
        memory_reference: None,
    }
}

/// Children of an expandable value.
pub fn children(
    ex: &Expandable,
    _filter: Option<&str>,
    start: usize,
    count: usize,
    _reload: &mut dyn FnMut(&str) -> Result<Variable, String>,
) -> Result<Vec<Shown>, String> {
    Ok(ex
        .variable
        .each_child()
        .skip(start)
        .take(if count == 0 { usize::MAX } else { count })
        .map(|c| show(&c, &c.name, &format!("{}.{}", ex.evaluate_name, c.name)))
        .collect())
}

/// The DAP JSON object for `shown` with handle `reference`.
pub fn to_json(shown: &Shown, reference: i64) -> Value {
    json!({
        "name": shown.name,
        "value": shown.value,
        "type": shown.type_name,
        "evaluateName": shown.evaluate_name,
        "variablesReference": reference,
    })
}
