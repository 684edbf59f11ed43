//! A query's filters, in the JSON form `Expr.meta.serialize(format="json")` gives, taken
//! apart at their `&`s, each part given to whoever evaluates it exactly as Polars would: the
//! values each file's rows share (partition values, the file's path), which rule out the
//! files where the part fails; the reader, on decoded rows; or Polars, which evaluates the
//! filters it was given (Polars does not read its JSON form back as it was: an untyped float
//! bound compares otherwise on some releases). The filters come without dynamic predicates:
//! the releases that hand them over are Polars' wing's to adapt to
//! (`polars_avro/_polars/interface.without_dynamic`).

use polars_core::prelude::Schema;
use serde_json::Value;

use super::polars_json::parse_value;
use super::tree::Filter;
use crate::error::{AvroError, AvroResult};

/// A query's filters, taken apart.
#[derive(Debug, Default, PartialEq)]
pub struct Split {
    /// The parts that read only values a file's rows share, or no column: where they fail
    /// for a file's values, none of its rows passes.
    pub by_file: Option<Filter>,
    /// The parts the reader evaluates on decoded rows.
    pub by_row: Option<Filter>,
    /// Of the filters that read only values a file's rows share, those holding parts the
    /// reader cannot evaluate, by their place among the filters, with those parts: Polars'
    /// to evaluate on the files' values, or else on the rows.
    pub by_file_rest: Vec<(usize, Vec<Value>)>,
    /// The other parts the reader cannot evaluate: Polars' to evaluate on the rows.
    pub rest: Vec<Value>,
    /// The columns every part reads; None where that is not known.
    pub columns: Option<Vec<String>>,
}

/// `filters` (each in Polars' JSON form, all of them to hold) taken apart over the columns
/// of `schema`, of which `per_file` hold one value per file.
pub fn split(filters: &[String], schema: &Schema, per_file: &[&str]) -> AvroResult<Split> {
    let mut given = Vec::with_capacity(filters.len());
    for text in filters {
        let expr: Value = serde_json::from_str(text)
            .map_err(|e| AvroError::argument(format!("a filter Polars handed the scan is not JSON: {e}")))?;
        let mut parts = Vec::new();
        conjuncts(expr, &mut parts);
        given.push(parts);
    }
    let mut split = Split { columns: columns_of(given.iter().flatten()), ..Split::default() };
    let (mut by_file, mut by_row) = (Vec::new(), Vec::new());
    for (index, parts) in given.into_iter().enumerate() {
        let shared = |part: &Value| {
            columns_read(part).is_some_and(|names| names.iter().all(|name| per_file.contains(&name.as_str())))
        };
        let all_shared = parts.iter().all(shared);
        let mut unparsed = Vec::new();
        for part in parts {
            match parse_value(&part, schema) {
                Some(filter) if shared(&part) => by_file.push(filter),
                Some(filter) => by_row.push(filter),
                None => unparsed.push(part),
            }
        }
        match unparsed.is_empty() {
            true => {},
            false if all_shared => split.by_file_rest.push((index, unparsed)),
            false => split.rest.extend(unparsed),
        }
    }
    split.by_file = all_of(by_file);
    split.by_row = all_of(by_row);
    Ok(split)
}

/// The columns the parts read, each once; None where that is not known.
fn columns_of<'a>(parts: impl IntoIterator<Item = &'a Value>) -> Option<Vec<String>> {
    let mut names = Vec::new();
    for part in parts {
        for name in columns_read(part)? {
            if !names.contains(&name) {
                names.push(name);
            }
        }
    }
    Some(names)
}

/// The filters joined by `&`; None for none.
fn all_of(filters: Vec<Filter>) -> Option<Filter> {
    filters.into_iter().reduce(|a, b| Filter::And(Box::new(a), Box::new(b)))
}

/// The parts of an expression joined by `&`, outermost first, into `parts`.
fn conjuncts(expr: Value, parts: &mut Vec<Value>) {
    let is_and = expr
        .get("BinaryExpr")
        .and_then(|b| b.get("op"))
        .and_then(Value::as_str)
        .is_some_and(|op| matches!(op, "And" | "LogicalAnd"));
    if !is_and {
        parts.push(expr);
        return;
    }
    let Value::Object(mut outer) = expr else { unreachable!("a BinaryExpr is an object") };
    let Some(Value::Object(mut body)) = outer.remove("BinaryExpr") else { unreachable!("checked above") };
    conjuncts(body.remove("left").unwrap_or(Value::Null), parts);
    conjuncts(body.remove("right").unwrap_or(Value::Null), parts);
}

/// The columns an expression reads, each once; None where that is not known (columns
/// chosen by a pattern, a type, a position or a selector).
fn columns_read(expr: &Value) -> Option<Vec<String>> {
    let mut names = Vec::new();
    visit_columns(expr, &mut names).then_some(names)
}

fn visit_columns(expr: &Value, names: &mut Vec<String>) -> bool {
    match expr {
        Value::Object(object) => object.iter().all(|(key, value)| match (key.as_str(), value) {
            ("Column", Value::String(name)) => {
                if !names.contains(name) {
                    names.push(name.clone());
                }
                true
            },
            ("Columns" | "DtypeColumn" | "IndexColumn" | "Nth" | "Wildcard" | "Selector" | "Exclude", _) => false,
            // A literal's values (a list's IPC bytes) hold no column.
            ("Literal", _) => true,
            _ => visit_columns(value, names),
        }),
        Value::Array(items) => items.iter().all(|item| visit_columns(item, names)),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use polars_core::prelude::{DataType, Field};

    use super::*;

    fn schema() -> Schema {
        Schema::from_iter([
            Field::new("a".into(), DataType::Int64),
            Field::new("s".into(), DataType::String),
            Field::new("part".into(), DataType::Int64),
            Field::new("path".into(), DataType::String),
        ])
    }

    fn gt(column: &str, n: i64) -> String {
        format!(
            r#"{{"BinaryExpr":{{"left":{{"Column":"{column}"}},"op":"Gt","right":{{"Literal":{{"Dyn":{{"Int":{n}}}}}}}}}}}"#
        )
    }

    fn and(left: &str, right: &str) -> String {
        format!(r#"{{"BinaryExpr":{{"left":{left},"op":"And","right":{right}}}}}"#)
    }

    /// A part the reader does not evaluate: a string's length.
    fn unknown(column: &str) -> String {
        format!(
            r#"{{"BinaryExpr":{{"left":{{"Function":{{"input":[{{"Column":"{column}"}}],"function":{{"StringExpr":"LenChars"}}}}}},"op":"Gt","right":{{"Literal":{{"Dyn":{{"Int":1}}}}}}}}}}"#
        )
    }

    fn split_of(filters: &[String]) -> Split {
        split(filters, &schema(), &["part", "path"]).unwrap()
    }

    fn value(text: &str) -> Value {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn each_part_goes_to_who_evaluates_it() {
        let not_null = r#"{"Function":{"input":[{"Column":"path"}],"function":{"Boolean":"IsNotNull"}}}"#;
        let filters = [
            and(&and(&gt("a", 1), &gt("part", 2)), &unknown("s")),
            and(not_null, &unknown("path")),
            and(&gt("a", 2), &unknown("part")),
        ];
        let taken = split_of(&filters);
        let parsed = |text: &str| parse_value(&value(text), &schema()).unwrap();
        let by_file = Filter::And(Box::new(parsed(&gt("part", 2))), Box::new(parsed(not_null)));
        assert_eq!(taken.by_file, Some(by_file));
        let by_row = Filter::And(Box::new(parsed(&gt("a", 1))), Box::new(parsed(&gt("a", 2))));
        assert_eq!(taken.by_row, Some(by_row));
        // The second filter reads the files' values alone; the third's part on them does not.
        assert_eq!(taken.by_file_rest, [(1, vec![value(&unknown("path"))])]);
        assert_eq!(taken.rest, [value(&unknown("s")), value(&unknown("part"))]);
        assert_eq!(taken.columns, Some(["a", "part", "s", "path"].map(String::from).to_vec()));
        assert_eq!(split_of(&[]), Split { columns: Some(vec![]), ..Split::default() });
    }

    #[test]
    fn a_part_of_no_column_rules_files_out() {
        let taken = split_of(&[r#"{"Literal":{"Scalar":{"Boolean":false}}}"#.to_string()]);
        assert_eq!(taken.by_file, Some(Filter::Const(Some(false))));
    }

    #[test]
    fn columns_chosen_by_a_pattern_are_not_known() {
        let selector =
            r#"{"BinaryExpr":{"left":{"Columns":["a","s"]},"op":"Gt","right":{"Literal":{"Dyn":{"Int":1}}}}}"#;
        let taken = split_of(&[selector.to_string()]);
        assert_eq!((taken.columns, columns_of(&taken.rest)), (None, None));
    }

    #[test]
    fn what_is_not_json_is_refused() {
        assert!(split(&["{".to_string()], &schema(), &[]).is_err());
    }
}
