//! The schema a scan reads its files into, decided once from their headers before any
//! block is read: the caller's reader schema; else, when every file gives the same
//! columns, each file's own; else one schema all of them resolve into (`unify_schemas`),
//! with the policy for columns some files lack.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::decode::column_types;
use crate::error::{AvroError, AvroResult, ErrorKind};
use crate::frame_type::FrameType;
use crate::schema::{parse_schema, unify_schemas, AvroSchema, Node};

/// What becomes of a column some files lack and for which no file declares a default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MissingColumns {
    /// Refused, naming a file that lacks it and one that has it.
    #[default]
    Raise,
    /// Read as nulls in the files that lack it.
    Insert,
}

/// The schema a scan reads every file into, and the columns that gives.
#[derive(Debug, Clone, PartialEq)]
pub struct ScanSchema {
    /// The reader schema (JSON) every file is resolved into; None: each file is read with
    /// its own writer schema (they all give `columns`).
    pub reader_schema: Option<String>,
    /// The columns in order: name and type.
    pub columns: Vec<(String, FrameType)>,
    /// The schemas parsed while planning, so that the scan's reads parse none again.
    parsed: Parsed,
}

/// The parsed forms of a scan's schemas: the reader schema, and each distinct writer
/// schema the files gave when planned, by its JSON. Only a cache of the JSON the plan holds,
/// so it takes no part in comparing plans; a plan rebuilt from its parts (a split's, on a
/// worker) has none and parses as it reads.
#[derive(Debug, Clone, Default)]
struct Parsed {
    reader: Option<Arc<AvroSchema>>,
    writers: Arc<HashMap<String, Arc<AvroSchema>>>,
}

impl PartialEq for Parsed {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl ScanSchema {
    /// A scan's schema of its parts, as planned elsewhere: nothing parsed yet.
    pub fn new(reader_schema: Option<String>, columns: Vec<(String, FrameType)>) -> Self {
        Self { reader_schema, columns, parsed: Parsed::default() }
    }

    /// The reader schema every file is resolved into, parsed (None: each file's own).
    pub fn parsed_reader_schema(&self) -> AvroResult<Option<Arc<AvroSchema>>> {
        match (&self.parsed.reader, &self.reader_schema) {
            (Some(parsed), _) => Ok(Some(parsed.clone())),
            (None, Some(json)) => parse_reader_schema(json).map(|schema| Some(Arc::new(schema))),
            (None, None) => Ok(None),
        }
    }

    /// A writer schema the planning parsed, by its JSON: a file whose header still gives
    /// it is read as planned, its columns already checked.
    pub fn planned_writer(&self, json: &str) -> Option<Arc<AvroSchema>> {
        self.parsed.writers.get(json).cloned()
    }

    /// The scan of files given as (name, writer schema JSON), in the scan's order, read
    /// with `reader_schema` when the caller gives one. Errors name the file (and the
    /// field) at fault; a reader schema's errors say so.
    pub fn of(files: &[(String, String)], reader_schema: Option<&str>, missing: MissingColumns) -> AvroResult<Self> {
        if let Some(json) = reader_schema {
            let schema = parse_reader_schema(json)?;
            let columns = column_types(&schema).map_err(in_reader_schema)?;
            let parsed = Parsed { reader: Some(Arc::new(schema)), ..Parsed::default() };
            return Ok(Self { reader_schema: Some(json.to_string()), columns, parsed });
        }
        // Each distinct writer schema once, in order of first appearance, named by its first file.
        let mut seen = HashSet::new();
        let distinct: Vec<(&str, &str)> = files
            .iter()
            .filter(|(_, json)| seen.insert(json.as_str()))
            .map(|(name, json)| (name.as_str(), json.as_str()))
            .collect();
        if distinct.is_empty() {
            return Err(AvroError::argument("no files to read a schema from"));
        }
        let described = distinct
            .iter()
            .map(|(name, json)| {
                let schema = parse_schema(json).map_err(|e| e.in_file(name))?;
                let columns = column_types(&schema).map_err(|e| e.in_file(name))?;
                Ok((Arc::new(schema), columns))
            })
            .collect::<AvroResult<Vec<Described>>>()?;
        let first_columns = &described[0].1;
        if described.iter().all(|(_, columns)| columns == first_columns) {
            let writers =
                distinct.iter().zip(&described).map(|((_, json), (schema, _))| (json.to_string(), schema.clone()));
            let parsed = Parsed { reader: None, writers: Arc::new(writers.collect()) };
            return Ok(Self { reader_schema: None, columns: first_columns.clone(), parsed });
        }
        let named: Vec<(String, String)> = distinct.iter().map(|(n, j)| (n.to_string(), j.to_string())).collect();
        let unified = unify_schemas(&named)?.to_string();
        let reader = parse_schema(&unified)?;
        let columns = column_types(&reader)?;
        if missing == MissingColumns::Raise {
            check_missing(&distinct, &described, &columns)?;
        }
        let writers = distinct.iter().zip(described).map(|((_, json), (schema, _))| (json.to_string(), schema));
        let parsed = Parsed { reader: Some(Arc::new(reader)), writers: Arc::new(writers.collect()) };
        Ok(Self { reader_schema: Some(unified), columns, parsed })
    }
}

/// A writer schema, parsed, and the columns it gives.
type Described = (Arc<AvroSchema>, Vec<(String, FrameType)>);

/// Refuses a column some files lack when no file that has it declares a default for it:
/// a declared default fills it in the others, as the specification's resolution does;
/// only fields without one need [`MissingColumns::Insert`].
fn check_missing(
    distinct: &[(&str, &str)],
    described: &[Described],
    unified: &[(String, FrameType)],
) -> AvroResult<()> {
    // Sets, not scans: a scan of wide files of many schemas would be columns x schemas x fields.
    let present: Vec<HashSet<&str>> =
        described.iter().map(|(_, columns)| columns.iter().map(|(c, _)| c.as_str()).collect()).collect();
    let defaulted: HashSet<&str> = described.iter().flat_map(|(schema, _)| fields_with_defaults(schema)).collect();
    for ((name, _), has) in distinct.iter().zip(&present) {
        for (column, _) in unified {
            if has.contains(column.as_str()) || defaulted.contains(column.as_str()) {
                continue;
            }
            let holder = distinct.iter().zip(&present).find(|(_, has)| has.contains(column.as_str()));
            let holder = holder.map(|((n, _), _)| *n).expect("a unified column comes from a file that has it");
            return Err(AvroError::new(
                ErrorKind::SchemaMismatch,
                format!(
                    "the file '{name}' has no column '{column}', which '{holder}' has: pass \
                    missing_columns='insert' to read it as nulls there"
                ),
            )
            .in_file(name));
        }
    }
    Ok(())
}

/// The top-level fields of a schema that declare a default (none when it is no record).
fn fields_with_defaults(schema: &AvroSchema) -> impl Iterator<Item = &str> {
    let fields = match schema.node(schema.root) {
        Node::Record { fields, .. } => fields.as_slice(),
        _ => &[],
    };
    fields.iter().filter(|f| f.default.is_some()).map(|f| f.name.as_str())
}

/// A reader schema given as JSON; its errors say they are the reader schema's.
pub fn parse_reader_schema(json: &str) -> AvroResult<AvroSchema> {
    parse_schema(json).map_err(in_reader_schema)
}

fn in_reader_schema(mut e: AvroError) -> AvroError {
    e.message = format!("the reader schema: {}", e.message);
    e
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;

    fn file(name: &str, fields: Value) -> (String, String) {
        (name.to_string(), json!({"type": "record", "name": "R", "fields": fields}).to_string())
    }

    fn names(scan: &ScanSchema) -> Vec<&str> {
        scan.columns.iter().map(|(n, _)| n.as_str()).collect()
    }

    const LONG: FrameType = FrameType::Int { signed: true, bits: 64 };

    #[test]
    fn files_that_give_the_same_columns_are_each_read_with_their_own_schema() {
        // Different schemas (a doc, a namespace), the same columns.
        let files = [
            file("a", json!([{"name": "x", "type": "long"}])),
            file("b", json!([{"name": "x", "type": "long", "doc": "the x"}])),
            file("c", json!([{"name": "x", "type": "long"}])),
        ];
        let scan = ScanSchema::of(&files, None, MissingColumns::Raise).unwrap();
        assert_eq!(scan, ScanSchema::new(None, vec![("x".into(), LONG)]));
    }

    #[test]
    fn files_that_differ_are_read_into_their_unified_schema() {
        let files = [
            file("a", json!([{"name": "x", "type": "int"}])),
            file("b", json!([{"name": "x", "type": "long"}, {"name": "y", "type": "string", "default": "d"}])),
        ];
        let scan = ScanSchema::of(&files, None, MissingColumns::Raise).unwrap();
        assert_eq!(names(&scan), ["x", "y"]);
        assert_eq!(scan.columns[0].1, LONG);
        let reader = parse_schema(scan.reader_schema.as_deref().unwrap()).unwrap();
        assert_eq!(column_types(&reader).unwrap(), scan.columns);
    }

    #[test]
    fn a_column_some_files_lack_without_a_default_is_refused_unless_inserted() {
        let files = [
            file("a", json!([{"name": "x", "type": "long"}])),
            file("b", json!([{"name": "x", "type": "long"}, {"name": "y", "type": "string"}])),
        ];
        let error = ScanSchema::of(&files, None, MissingColumns::Raise).unwrap_err();
        assert_eq!(error.kind, ErrorKind::SchemaMismatch);
        assert_eq!(error.file.as_deref(), Some("a"));
        assert!(error.message.contains("the file 'a' has no column 'y', which 'b' has"), "{error}");
        let scan = ScanSchema::of(&files, None, MissingColumns::Insert).unwrap();
        assert_eq!(names(&scan), ["x", "y"]);
        // The column is nullable: a null where a file lacks it.
        let reader: Value = serde_json::from_str(scan.reader_schema.as_deref().unwrap()).unwrap();
        assert_eq!(reader["fields"][1]["type"], json!(["null", "string"]));
    }

    #[test]
    fn the_schemas_parsed_while_planning_are_kept_for_the_reads() {
        let (a, b) = (json!([{"name": "x", "type": "long"}]), json!([{"name": "x", "type": "long", "doc": "d"}]));
        let files = [file("a", a.clone()), file("b", b)];
        let scan = ScanSchema::of(&files, None, MissingColumns::Raise).unwrap();
        for (_, json) in &files {
            assert_eq!(scan.planned_writer(json).as_deref(), Some(&parse_schema(json).unwrap()));
        }
        assert!(scan.planned_writer(&file("c", json!([{"name": "y", "type": "long"}])).1).is_none());
        assert!(scan.parsed_reader_schema().unwrap().is_none());
        // A unified schema is parsed once too; a plan rebuilt from its parts parses it anew.
        let files = [file("a", a), file("b", json!([{"name": "y", "type": "long", "default": 0}]))];
        let scan = ScanSchema::of(&files, None, MissingColumns::Insert).unwrap();
        let unified = parse_schema(scan.reader_schema.as_deref().unwrap()).unwrap();
        assert_eq!(scan.parsed_reader_schema().unwrap().as_deref(), Some(&unified));
        let rebuilt = ScanSchema::new(scan.reader_schema.clone(), scan.columns.clone());
        assert_eq!(rebuilt.parsed_reader_schema().unwrap().as_deref(), Some(&unified));
        assert!(rebuilt.planned_writer(&files[0].1).is_none());
        assert_eq!(rebuilt, scan, "the parsed forms take no part in comparing plans");
    }

    #[test]
    fn a_reader_schema_gives_the_columns_without_any_header() {
        let reader = json!({"type": "record", "name": "R", "fields": [{"name": "z", "type": "double"}]}).to_string();
        let scan = ScanSchema::of(&[], Some(&reader), MissingColumns::Raise).unwrap();
        assert_eq!(scan.columns, [("z".to_string(), FrameType::Float64)]);
        let error = ScanSchema::of(&[], Some("{"), MissingColumns::Raise).unwrap_err();
        assert!(error.message.starts_with("the reader schema: "), "{error}");
    }

    #[test]
    fn errors_name_the_file_at_fault() {
        let files = [file("good", json!([{"name": "x", "type": "long"}])), ("bad".to_string(), "{".to_string())];
        assert_eq!(ScanSchema::of(&files, None, MissingColumns::Raise).unwrap_err().file.as_deref(), Some("bad"));
        let files =
            [file("a", json!([{"name": "x", "type": "long"}])), file("b", json!([{"name": "x", "type": "boolean"}]))];
        let error = ScanSchema::of(&files, None, MissingColumns::Insert).unwrap_err();
        assert_eq!((error.kind, error.file.as_deref()), (ErrorKind::SchemaMismatch, Some("b")));
    }

    #[test]
    fn without_files_or_a_reader_schema_there_is_no_schema() {
        let error = ScanSchema::of(&[], None, MissingColumns::Insert).unwrap_err();
        assert_eq!((error.kind, error.message.as_str()), (ErrorKind::Argument, "no files to read a schema from"));
    }

    #[test]
    fn a_reader_schema_wins_over_the_files_headers() {
        // Not even parsed: every file is resolved into the reader schema when it is read.
        let files = [("bad".to_string(), "{".to_string()), file("a", json!([{"name": "x", "type": "long"}]))];
        let reader = json!({"type": "record", "name": "R", "fields": [{"name": "y", "type": "string"}]}).to_string();
        let scan = ScanSchema::of(&files, Some(&reader), MissingColumns::Raise).unwrap();
        assert_eq!(scan, ScanSchema::new(Some(reader), vec![("y".into(), FrameType::String)]));
    }

    #[test]
    fn a_missing_column_names_the_first_file_of_each_side() {
        // c repeats a's schema: named by a, the first file with it.
        let files = [
            file("a", json!([{"name": "x", "type": "long"}])),
            file("b", json!([{"name": "x", "type": "int"}, {"name": "z", "type": "float"}])),
            file("c", json!([{"name": "x", "type": "long"}])),
        ];
        let error = ScanSchema::of(&files, None, MissingColumns::Raise).unwrap_err();
        assert_eq!(
            error.message,
            "the file 'a' has no column 'z', which 'b' has: pass missing_columns='insert' to read it as nulls there"
        );
        let scan = ScanSchema::of(&files, None, MissingColumns::Insert).unwrap();
        assert_eq!(scan.columns, [("x".into(), LONG), ("z".into(), FrameType::Float32)]);
    }
}
