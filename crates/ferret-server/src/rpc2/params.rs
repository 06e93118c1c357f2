//! Reading request parameters the way Go's `encoding/json` does: keys match
//! case-insensitively, unknown keys are ignored, missing keys take the zero
//! value, and a value of the wrong JSON type is an error that names the
//! field.

use serde_json::{Map, Value};

/// The first element of `params`, as an object (possibly empty).
#[derive(Debug, Clone, Default)]
pub struct Params {
    object: Map<String, Value>,
    /// Go struct name for error messages, e.g. `StateIn`.
    context: &'static str,
}

/// Go's name for a JSON value's type in unmarshal errors.
fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

impl Params {
    /// Wraps an object; `context` names the Go struct in errors.
    pub fn new(object: Map<String, Value>, context: &'static str) -> Params {
        Params { object, context }
    }

    /// The value under `key`, matched case-insensitively.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.object.get(key).or_else(|| {
            self.object
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v)
        })
    }

    fn type_error(&self, key: &str, value: &Value, go_type: &str) -> String {
        format!(
            "malformed request body: json: cannot unmarshal {} into Go struct field {}.{} of type {}",
            json_type(value),
            self.context,
            key,
            go_type
        )
    }

    /// A boolean field (false when absent or null).
    pub fn bool(&self, key: &str) -> Result<bool, String> {
        match self.get(key) {
            None | Some(Value::Null) => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(other) => Err(self.type_error(key, other, "bool")),
        }
    }

    /// An integer field (0 when absent or null).
    pub fn i64(&self, key: &str) -> Result<i64, String> {
        match self.get(key) {
            None | Some(Value::Null) => Ok(0),
            Some(Value::Number(n)) => n
                .as_i64()
                .ok_or_else(|| self.type_error(key, &Value::Number(n.clone()), "int")),
            Some(other) => Err(self.type_error(key, other, "int")),
        }
    }

    /// A count field: `default` when absent or null, negative values as 0.
    pub fn count_or(&self, key: &str, default: usize) -> Result<usize, String> {
        match self.get(key) {
            None | Some(Value::Null) => Ok(default),
            Some(_) => Ok(self.i64(key)?.max(0) as usize),
        }
    }

    /// An unsigned integer field (0 when absent or null).
    pub fn u64(&self, key: &str) -> Result<u64, String> {
        match self.get(key) {
            None | Some(Value::Null) => Ok(0),
            Some(Value::Number(n)) => n
                .as_u64()
                .ok_or_else(|| self.type_error(key, &Value::Number(n.clone()), "uint64")),
            Some(other) => Err(self.type_error(key, other, "uint64")),
        }
    }

    /// A floating-point field (0 when absent or null).
    pub fn f64(&self, key: &str) -> Result<f64, String> {
        match self.get(key) {
            None | Some(Value::Null) => Ok(0.0),
            Some(Value::Number(n)) => n
                .as_f64()
                .ok_or_else(|| self.type_error(key, &Value::Number(n.clone()), "float64")),
            Some(other) => Err(self.type_error(key, other, "float64")),
        }
    }

    /// A string field ("" when absent or null).
    pub fn string(&self, key: &str) -> Result<String, String> {
        match self.get(key) {
            None | Some(Value::Null) => Ok(String::new()),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(other) => Err(self.type_error(key, other, "string")),
        }
    }

    /// A nested object field (`None` when absent or null).
    pub fn object(&self, key: &str, context: &'static str) -> Result<Option<Params>, String> {
        match self.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(o)) => Ok(Some(Params::new(o.clone(), context))),
            Some(other) => Err(self.type_error(key, other, "struct")),
        }
    }

    /// An array of strings ("" entries kept).
    pub fn strings(&self, key: &str) -> Result<Vec<String>, String> {
        match self.get(key) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|i| {
                    i.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| self.type_error(key, i, "string"))
                })
                .collect(),
            Some(other) => Err(self.type_error(key, other, "[]string")),
        }
    }

    /// An array of unsigned integers.
    pub fn u64s(&self, key: &str) -> Result<Vec<u64>, String> {
        match self.get(key) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|i| i.as_u64().ok_or_else(|| self.type_error(key, i, "uint64")))
                .collect(),
            Some(other) => Err(self.type_error(key, other, "[]uint64")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn case_insensitive_and_typed() {
        let Value::Object(o) = json!({"nonblocking": true, "Id": 3, "Name": "x"}) else {
            unreachable!()
        };
        let p = Params::new(o, "StateIn");
        assert_eq!(p.bool("NonBlocking"), Ok(true));
        assert_eq!(p.i64("id"), Ok(3));
        assert_eq!(p.string("Missing"), Ok(String::new()));
        let Value::Object(o) = json!({"NonBlocking": "yes"}) else {
            unreachable!()
        };
        let err = Params::new(o, "StateIn").bool("NonBlocking").unwrap_err();
        assert_eq!(
            err,
            "malformed request body: json: cannot unmarshal string into Go struct field StateIn.NonBlocking of type bool"
        );
    }
}
