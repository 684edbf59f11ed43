//! The schema a scan reads its files into, decided once before any block is read, by one
//! of three rules: the caller's reader schema (no header read); the first file's, as
//! Polars' scans decide theirs (one header read; the other files, read when the scan reads
//! them, resolved into it, with Polars' `missing_columns` and `extra_columns`); or every
//! file's header read and, when they give other columns, one schema all of them resolve
//! into (`unify_schemas`), with the policy for columns some files lack.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::decode::{column_types, reader_fields_by_name};
use crate::error::{AvroError, AvroResult, ErrorKind};
use crate::frame_type::FrameType;
use crate::schema::{parse_schema, unify_schemas, with_null_defaults, AvroSchema, Field, Node};

/// What becomes of a column some files lack and for which no file declares a default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MissingColumns {
    /// Refused, naming a file that lacks it and one that has it.
    #[default]
    Raise,
    /// Read as nulls in the files that lack it.
    Insert,
}

/// What becomes of a top-level column a file has and the scan's schema lacks, under the
/// first file's rule (Polars' `extra_columns`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExtraColumns {
    /// Refused, naming the file and the column.
    #[default]
    Raise,
    /// Left out, as the specification's resolution skips a writer's field the reader lacks.
    Ignore,
}

/// The first file's rule: the scan's columns are the first file's, and a file that gives
/// other columns is resolved into the first file's schema when it is read.
#[derive(Debug, Clone, PartialEq)]
pub struct FromFirst {
    /// The path or URL of the file whose header gave the scan's schema (a change to it is
    /// refused); None for bytes and streams, which cannot change.
    pub first: Option<String>,
    /// The schema (JSON) the other files are resolved into: the first file's, where
    /// `missing_columns="insert"` each top-level field without a default made nullable with
    /// a null one.
    pub reader_json: String,
    /// What becomes of a column the first file lacks.
    pub extra: ExtraColumns,
}

/// The schema a scan reads every file into, and the columns that gives.
#[derive(Debug, Clone, PartialEq)]
pub struct ScanSchema {
    /// The reader schema (JSON) every file is resolved into; None: each file is read with
    /// its own writer schema where it gives `columns`, else by `from_first`.
    pub reader_schema: Option<String>,
    /// The columns in order: name and type.
    pub columns: Vec<(String, FrameType)>,
    /// Under the first file's rule, how files giving other columns are read; None: every
    /// file's header was read when planning, and a file giving other columns since changed.
    pub from_first: Option<FromFirst>,
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
        Self { reader_schema, columns, from_first: None, parsed: Parsed::default() }
    }

    /// The same, under the first file's rule.
    pub fn with_from_first(self, from_first: Option<FromFirst>) -> Self {
        Self { from_first, ..self }
    }

    /// The scan of files whose first, `name` (at `path`, if it has one), has the writer
    /// schema `json`, by the first file's rule (see [`FromFirst`]): no other header is read.
    pub fn of_first(
        name: &str,
        path: Option<&str>,
        json: &str,
        missing: MissingColumns,
        extra: ExtraColumns,
    ) -> AvroResult<Self> {
        let schema = parse_schema(json).map_err(|e| e.in_file(name))?;
        let columns = column_types(&schema).map_err(|e| e.in_file(name))?;
        let reader_json = match missing {
            MissingColumns::Raise => json.to_string(),
            MissingColumns::Insert => with_null_defaults(&schema).to_string(),
        };
        let from_first = FromFirst { first: path.map(str::to_string), reader_json, extra };
        let parsed = Parsed { reader: None, writers: Arc::new([(json.to_string(), Arc::new(schema))].into()) };
        Ok(Self { reader_schema: None, columns, from_first: Some(from_first), parsed })
    }

    /// The schema a file of writer schema `writer` that the planning did not parse is
    /// resolved into (None: it is read with its own, giving the scan's columns), where no
    /// reader schema was given. Under the first file's rule another file is checked by it;
    /// otherwise the file changed since it was planned and is refused, saying what changed
    /// (its values read into the planned types would be cast, not read).
    pub fn reader_for(&self, writer: &AvroSchema, file: &str) -> AvroResult<Option<AvroSchema>> {
        let columns = column_types(writer)?;
        let Some(change) = change(&columns, &self.columns) else {
            return Ok(None);
        };
        match &self.from_first {
            Some(rule) if rule.first.as_deref() != Some(file) => {
                let reader = parse_schema(&rule.reader_json)?;
                check_fields(writer, &reader, rule, file)?;
                Ok(Some(reader))
            },
            _ => Err(AvroError::schema_mismatch(format!(
                "the file changed after the scan was planned: {change}; scan it again to read it as it is now"
            ))),
        }
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
            return Ok(Self { reader_schema: Some(json.to_string()), columns, from_first: None, parsed });
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
            return Ok(Self { reader_schema: None, columns: first_columns.clone(), from_first: None, parsed });
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
        Ok(Self { reader_schema: Some(unified), columns, from_first: None, parsed })
    }
}

/// How `columns` (a file's) differ from `planned` (the scan's), None where they do not:
/// the first column missing or of another type, else the columns added, else the order.
fn change(columns: &[(String, FrameType)], planned: &[(String, FrameType)]) -> Option<String> {
    let unchanged = columns.len() == planned.len()
        && columns.iter().zip(planned).all(|((c, now), (p, was))| c == p && now.as_read() == was.as_read());
    if unchanged {
        return None;
    }
    // By name: a file of many columns is checked in time linear in them.
    let now_by_name: HashMap<&str, &FrameType> = columns.iter().map(|(c, t)| (c.as_str(), t)).collect();
    let planned_names: HashSet<&str> = planned.iter().map(|(p, _)| p.as_str()).collect();
    let quoted =
        |names: &mut dyn Iterator<Item = &String>| names.map(|c| format!("'{c}'")).collect::<Vec<_>>().join(", ");
    let change = planned.iter().find_map(|(name, was)| match now_by_name.get(name.as_str()) {
        None => Some(format!("its column '{name}' is gone")),
        Some(now) if now.as_read() != was.as_read() => {
            Some(format!("its column '{name}' was {} and is now {}", was.polars_name(), now.polars_name()))
        },
        Some(_) => None,
    });
    Some(change.unwrap_or_else(|| {
        let names_now = columns.iter().map(|(c, _)| c);
        let mut added = names_now.clone().filter(|c| !planned_names.contains(c.as_str())).peekable();
        if added.peek().is_some() {
            return format!("it has new columns: {}", quoted(&mut added));
        }
        let names_then = planned.iter().map(|(c, _)| c);
        format!("its columns were {} and are now {}", quoted(&mut names_then.clone()), quoted(&mut names_now.clone()))
    }))
}

/// Refuses, under the first file's `rule`, a file (of schema `writer`) that lacks a
/// top-level field of `reader` (the first file's) that has no default, or that has one the
/// reader lacks unless such columns are ignored: each named with the file and the first.
/// The types of the fields both have are the resolution's to check, as the file is read.
fn check_fields(writer: &AvroSchema, reader: &AvroSchema, rule: &FromFirst, file: &str) -> AvroResult<()> {
    let (writer_fields, reader_fields) = (top_fields(writer), top_fields(reader));
    let first = match &rule.first {
        Some(path) => format!("the first file's, '{path}'"),
        None => "the first file's".to_string(),
    };
    let refused = |message: String| Err(AvroError::schema_mismatch(message).in_file(file));
    let written: HashSet<&str> = writer_fields.iter().map(|f| f.name.as_str()).collect();
    let lacking: Vec<&str> = reader_fields
        .iter()
        .filter(|field| {
            let found =
                written.contains(field.name.as_str()) || field.aliases.iter().any(|a| written.contains(a.as_str()));
            !found && field.default.is_none()
        })
        .map(|field| field.name.as_str())
        .collect();
    if !lacking.is_empty() {
        return refused(format!(
            "the file '{file}' has no {}, which the scan's schema ({first}) has: \
            pass missing_columns='insert' to read {} as nulls there",
            columns_named(&lacking),
            if lacking.len() == 1 { "it" } else { "them" }
        ));
    }
    if rule.extra == ExtraColumns::Raise {
        let by_name = reader_fields_by_name(reader_fields);
        let added: Vec<&str> =
            writer_fields.iter().map(|f| f.name.as_str()).filter(|name| !by_name.contains_key(name)).collect();
        if !added.is_empty() {
            return refused(format!(
                "the file '{file}' has {}, which the scan's schema ({first}) lacks: \
                pass schema_from='all' to read every file's columns, reader_schema= to choose them, or \
                extra_columns='ignore' to leave {} out",
                columns_named(&added),
                if added.len() == 1 { "it" } else { "them" }
            ));
        }
    }
    Ok(())
}

/// "column 'a'" or "columns 'a', 'b'": every column an error is about.
fn columns_named(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|name| format!("'{name}'")).collect();
    match quoted.as_slice() {
        [one] => format!("column {one}"),
        many => format!("columns {}", many.join(", ")),
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
    let holder = |column: &str| {
        let holder = distinct.iter().zip(&present).find(|(_, has)| has.contains(column));
        holder.map(|((n, _), _)| *n).expect("a unified column comes from a file that has it")
    };
    for ((name, _), has) in distinct.iter().zip(&present) {
        let lacking: Vec<&str> = unified
            .iter()
            .map(|(column, _)| column.as_str())
            .filter(|column| !has.contains(column) && !defaulted.contains(column))
            .collect();
        let Some(first) = lacking.first() else { continue };
        let holders: HashSet<&str> = lacking.iter().map(|column| holder(column)).collect();
        let which = if holders.len() == 1 {
            format!("which '{}' has", holder(first))
        } else {
            format!("which '{}' and other files have", holder(first))
        };
        return Err(AvroError::new(
            ErrorKind::SchemaMismatch,
            format!(
                "the file '{name}' has no {}, {which}: pass missing_columns='insert' to read {} as nulls there",
                columns_named(&lacking),
                if lacking.len() == 1 { "it" } else { "them" }
            ),
        )
        .in_file(name));
    }
    Ok(())
}

/// The top-level fields of a schema that declare a default (none when it is no record).
fn fields_with_defaults(schema: &AvroSchema) -> impl Iterator<Item = &str> {
    top_fields(schema).iter().filter(|f| f.default.is_some()).map(|f| f.name.as_str())
}

/// The top-level record's fields (none when the schema is no record).
fn top_fields(schema: &AvroSchema) -> &[Field] {
    match schema.node(schema.root) {
        Node::Record { fields, .. } => fields.as_slice(),
        _ => &[],
    }
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
        // Every column a file lacks is named, with the first file that has one of them.
        let files = [
            file("a", json!([{"name": "x", "type": "long"}])),
            file("b", json!([{"name": "x", "type": "long"}, {"name": "y", "type": "long"}])),
            file(
                "c",
                json!([{"name": "x", "type": "long"}, {"name": "y", "type": "long"}, {"name": "z", "type": "long"}]),
            ),
        ];
        let error = ScanSchema::of(&files, None, MissingColumns::Raise).unwrap_err();
        assert_eq!(
            error.message,
            "the file 'a' has no columns 'y', 'z', which 'b' and other files have: pass \
            missing_columns='insert' to read them as nulls there"
        );
    }

    fn parsed(fields: Value) -> AvroSchema {
        parse_schema(&file("-", fields).1).unwrap()
    }

    #[test]
    fn the_first_files_rule_reads_other_files_into_the_first_ones_schema() {
        let (name, first) = file("first", json!([{"name": "x", "type": "long"}, {"name": "y", "type": "string"}]));
        let scan =
            ScanSchema::of_first(&name, Some(&name), &first, MissingColumns::Raise, ExtraColumns::Raise).unwrap();
        assert_eq!((names(&scan), scan.reader_schema.as_deref()), (vec!["x", "y"], None));
        assert_eq!(scan.planned_writer(&first).as_deref(), Some(&parse_schema(&first).unwrap()));
        // The same columns (a doc added): read with its own schema.
        let same = parsed(json!([{"name": "x", "type": "long", "doc": "d"}, {"name": "y", "type": "string"}]));
        assert_eq!(scan.reader_for(&same, "b").unwrap(), None);
        // Other columns the first's schema can read: resolved into it.
        let promoted = parsed(json!([{"name": "y", "type": "string"}, {"name": "x", "type": "int"}]));
        assert_eq!(scan.reader_for(&promoted, "b").unwrap(), Some(parse_schema(&first).unwrap()));
    }

    #[test]
    fn the_first_files_rule_refuses_a_missing_or_extra_column_naming_file_and_field() {
        let (name, first) =
            file("first", json!([{"name": "x", "type": "long"}, {"name": "d", "type": "int", "default": 7}]));
        let raise =
            ScanSchema::of_first(&name, Some(&name), &first, MissingColumns::Raise, ExtraColumns::Raise).unwrap();
        // d has a default: only x is missing.
        let error = raise.reader_for(&parsed(json!([{"name": "z", "type": "long"}])), "b").unwrap_err();
        assert_eq!((error.kind, error.file.as_deref()), (ErrorKind::SchemaMismatch, Some("b")));
        assert!(
            error
                .message
                .starts_with("the file 'b' has no column 'x', which the scan's schema (the first file's, 'first') has"),
            "{error}"
        );
        let extra = parsed(json!([{"name": "x", "type": "long"}, {"name": "new", "type": "long"}]));
        let error = raise.reader_for(&extra, "b").unwrap_err();
        assert!(
            error.message.starts_with(
                "the file 'b' has column 'new', which the scan's schema (the first file's, 'first') lacks"
            ),
            "{error}"
        );
        // Every column is named: a topic that gained two fields shows both.
        let two = parsed(json!([
            {"name": "x", "type": "long"}, {"name": "coupon", "type": "long"}, {"name": "channel", "type": "string"}
        ]));
        let error = raise.reader_for(&two, "b").unwrap_err();
        assert!(error.message.starts_with("the file 'b' has columns 'coupon', 'channel', which"), "{error}");
        assert!(error.message.ends_with("or extra_columns='ignore' to leave them out"), "{error}");
        let neither = raise.reader_for(&parsed(json!([{"name": "d", "type": "int"}])), "b").unwrap_err();
        assert!(neither.message.starts_with("the file 'b' has no column 'x', which"), "{neither}");
        let ignore =
            ScanSchema::of_first(&name, Some(&name), &first, MissingColumns::Raise, ExtraColumns::Ignore).unwrap();
        assert!(ignore.reader_for(&extra, "b").unwrap().is_some());
        // Inserted: the first's fields without a default read as nulls where a file lacks them.
        let insert =
            ScanSchema::of_first(&name, Some(&name), &first, MissingColumns::Insert, ExtraColumns::Raise).unwrap();
        let resolved = insert.reader_for(&parsed(json!([{"name": "d", "type": "int"}])), "b").unwrap();
        assert!(resolved.is_some());
        let reader: Value = serde_json::from_str(&insert.from_first.as_ref().unwrap().reader_json).unwrap();
        assert_eq!(reader["fields"][0], json!({"name": "x", "type": ["null", "long"], "default": null}));
        assert_eq!(reader["fields"][1], json!({"name": "d", "type": "int", "default": 7}));
        assert_eq!(insert.columns, raise.columns, "inserting changes no column's type");
    }

    #[test]
    fn the_first_file_changed_since_planning_is_refused_saying_what_changed() {
        let (name, first) = file("first", json!([{"name": "x", "type": "long"}]));
        let scan =
            ScanSchema::of_first(&name, Some(&name), &first, MissingColumns::Insert, ExtraColumns::Ignore).unwrap();
        let error = scan.reader_for(&parsed(json!([{"name": "x", "type": "string"}])), "first").unwrap_err();
        assert_eq!(
            error.message,
            "the file changed after the scan was planned: its column 'x' was Int64 and is now String; scan it again \
            to read it as it is now"
        );
        // Bytes cannot change: another source of bytes is another file, read into the first's.
        let bytes = ScanSchema::of_first("<bytes>", None, &first, MissingColumns::Raise, ExtraColumns::Raise).unwrap();
        let promoted = bytes.reader_for(&parsed(json!([{"name": "x", "type": "int"}])), "<bytes>").unwrap();
        assert_eq!(promoted, Some(parse_schema(&first).unwrap()));
        // Where every header was read, any file that gives other columns changed.
        let all = ScanSchema::new(None, scan.columns.clone());
        let error = all.reader_for(&parsed(json!([{"name": "x", "type": "long"}, {"name": "y", "type": "long"}])), "b");
        assert!(error.unwrap_err().message.contains("it has new columns: 'y'"));
    }
}
