//! A scan's plan, decided once before any block is read: the schema its files read into
//! ([`ScanSchema`]) and the columns the scan gives, in the one order every read uses: the
//! row index, the files' columns (a partition column the files also hold keeps the file's
//! place), the partition columns the files lack, the file path. Selections of those
//! columns (a user's `columns`, an engine's projection) are checked here too.

use std::collections::HashSet;
use std::sync::Arc;

use super::scan_schema::ScanSchema;
use crate::error::{AvroError, AvroResult};
use crate::frame_type::FrameType;

/// Where the values of a scan's column come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    /// The row index (`RowIndex`): the record's position across the scan.
    RowIndex,
    /// Decoded from the files' records.
    File,
    /// A partition value, one per file (a partition column the files also hold is this).
    Partition,
    /// The file's path (`file_path_column`).
    FilePath,
}

impl ColumnKind {
    /// The kind as the Python package names it.
    pub fn name(self) -> &'static str {
        match self {
            Self::RowIndex => "row_index",
            Self::File => "file",
            Self::Partition => "partition",
            Self::FilePath => "file_path",
        }
    }
}

/// Columns asked for by a user: names, or positions among the files' and partitions'
/// columns (negative ones from the end, as Python's indices).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColumnSelection {
    /// Columns by name.
    Names(Vec<String>),
    /// Columns by position.
    Indices(Vec<i64>),
}

/// A scan's schema and the columns it gives, with the names of its extra columns.
#[derive(Debug, Clone, PartialEq)]
pub struct ScanPlan {
    /// The schema every file reads into, and the files' columns (shared with the reads,
    /// which check files against it).
    pub schema: Arc<ScanSchema>,
    /// The row index column's name.
    pub row_index: Option<String>,
    /// The partition columns, in the partitions' order.
    pub partitions: Vec<String>,
    /// The name of the column of each row's file path.
    pub file_path_column: Option<String>,
    columns: Vec<(String, ColumnKind)>,
}

impl ScanPlan {
    /// The plan of a scan of `schema` with these extra columns; refuses a row index or a
    /// path column named as another column.
    pub fn new(
        schema: ScanSchema,
        row_index: Option<String>,
        partitions: Vec<String>,
        file_path_column: Option<String>,
    ) -> AvroResult<Self> {
        let file_columns = schema.columns.iter().map(|(name, _)| name.as_str());
        let columns = scan_columns(row_index.as_deref(), file_columns, &partitions, file_path_column.as_deref());
        for (option, extra) in [("row_index_name", &row_index), ("include_file_paths", &file_path_column)] {
            if let Some(extra) = extra {
                if columns.iter().filter(|(name, _)| name == extra).count() > 1 {
                    return Err(AvroError::duplicate(format!(
                        "{option}: the column name '{extra}' is already a column of the file"
                    )));
                }
            }
        }
        Ok(Self { schema: Arc::new(schema), row_index, partitions, file_path_column, columns })
    }

    /// Every column of the scan, in order, with where its values come from.
    pub fn columns(&self) -> &[(String, ColumnKind)] {
        &self.columns
    }

    /// The type of the column at `at` of [`Self::columns`] where the files hold it (a
    /// partition column the files also hold too): the files' columns come, in their order,
    /// right after the row index.
    pub fn file_type_at(&self, at: usize) -> Option<&FrameType> {
        let first = usize::from(self.row_index.is_some());
        at.checked_sub(first).and_then(|i| self.schema.columns.get(i)).map(|(_, ft)| ft)
    }

    /// The columns a read gives for a user's `columns` (as `read_avro`'s): names or
    /// positions of the files' and partitions' columns, in the order given, with the row
    /// index first and the path last when the scan has them.
    pub fn select(&self, asked: &ColumnSelection) -> AvroResult<Vec<String>> {
        let selectable: Vec<&str> = self.columns_of(|kind| matches!(kind, ColumnKind::File | ColumnKind::Partition));
        let names: Vec<String> = match asked {
            ColumnSelection::Names(names) => names.clone(),
            ColumnSelection::Indices(indices) => indices
                .iter()
                .map(|&i| {
                    let at = if i < 0 { i + selectable.len() as i64 } else { i };
                    usize::try_from(at).ok().and_then(|at| selectable.get(at)).map(|name| name.to_string()).ok_or_else(
                        || {
                            AvroError::column_not_found(format!(
                                "column index out of range: the file has {} columns",
                                selectable.len()
                            ))
                        },
                    )
                })
                .collect::<AvroResult<_>>()?,
        };
        refuse_unknown(&names, &selectable)?;
        // Polars' own readers refuse a column asked for twice too (a DuplicateError), by
        // name or by position alike.
        let mut seen = HashSet::new();
        if let Some(twice) = names.iter().find(|name| !seen.insert(name.as_str())) {
            return Err(AvroError::duplicate(format!("columns names the column '{twice}' more than once")));
        }
        let first = self.row_index.iter().cloned();
        let last = self.file_path_column.iter().cloned();
        Ok(first.chain(names).chain(last).collect())
    }

    /// The columns of an engine's projection (`read_split`'s, Ray's): any of the scan's,
    /// in the order given, each once.
    pub fn project(&self, names: &[String]) -> AvroResult<Vec<String>> {
        refuse_unknown(names, &self.columns_of(|_| true))?;
        let mut seen = HashSet::new();
        Ok(names.iter().filter(|name| seen.insert(name.as_str())).cloned().collect())
    }

    /// The scan's columns among `wanted` (None: every one), in the scan's order: the order
    /// Polars expects of a source, whatever order its projection names them in.
    pub fn in_order(&self, wanted: Option<&[String]>) -> Vec<String> {
        let wanted: Option<HashSet<&str>> = wanted.map(|names| names.iter().map(String::as_str).collect());
        let kept = |name: &str| wanted.as_ref().is_none_or(|w| w.contains(name));
        self.columns.iter().map(|(name, _)| name).filter(|name| kept(name)).cloned().collect()
    }

    fn columns_of(&self, kept: impl Fn(ColumnKind) -> bool) -> Vec<&str> {
        self.columns.iter().filter(|(_, kind)| kept(*kind)).map(|(name, _)| name.as_str()).collect()
    }
}

/// The columns a scan gives, in order: the row index, the files' columns (a partition
/// column the files also hold keeps the file's place and the partition's values), the
/// partition columns the files lack, the path.
pub(crate) fn scan_columns<'a>(
    row_index: Option<&str>,
    file_columns: impl Iterator<Item = &'a str>,
    partitions: &[String],
    file_path_column: Option<&str>,
) -> Vec<(String, ColumnKind)> {
    let is_partition = |name: &str| partitions.iter().any(|p| p == name);
    let mut columns: Vec<(String, ColumnKind)> =
        row_index.map(|name| (name.to_string(), ColumnKind::RowIndex)).into_iter().collect();
    let mut from_files = HashSet::new();
    for name in file_columns {
        from_files.insert(name);
        let kind = if is_partition(name) { ColumnKind::Partition } else { ColumnKind::File };
        columns.push((name.to_string(), kind));
    }
    for name in partitions.iter().filter(|name| !from_files.contains(name.as_str())) {
        columns.push((name.clone(), ColumnKind::Partition));
    }
    columns.extend(file_path_column.map(|name| (name.to_string(), ColumnKind::FilePath)));
    columns
}

/// Refuses names that are not among `columns`, naming them and the columns.
fn refuse_unknown(names: &[String], columns: &[&str]) -> AvroResult<()> {
    let known: HashSet<&str> = columns.iter().copied().collect();
    let missing: Vec<&str> = names.iter().map(String::as_str).filter(|name| !known.contains(name)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(AvroError::column_not_found(format!(
        "columns not in the file: {}; the columns are: {}",
        listed(&missing),
        listed(columns)
    )))
}

/// Names as a Python list shows them: `['a', 'b']`.
fn listed(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|name| format!("'{name}'")).collect();
    format!("[{}]", quoted.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use crate::frame_type::FrameType;

    fn schema(names: &[&str]) -> ScanSchema {
        ScanSchema::new(None, names.iter().map(|n| (n.to_string(), FrameType::Boolean)).collect())
    }

    fn plan(row_index: Option<&str>, files: &[&str], partitions: &[&str], path: Option<&str>) -> AvroResult<ScanPlan> {
        let partitions = partitions.iter().map(|p| p.to_string()).collect();
        ScanPlan::new(schema(files), row_index.map(Into::into), partitions, path.map(Into::into))
    }

    fn strings(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn columns_come_row_index_first_then_the_files_then_partitions_then_the_path() {
        let plan = plan(Some("idx"), &["a", "year", "b"], &["month", "year"], Some("path")).unwrap();
        let kinds: Vec<(&str, ColumnKind)> = plan.columns().iter().map(|(n, k)| (n.as_str(), *k)).collect();
        use ColumnKind::*;
        // A partition column the files also hold keeps the file's place and is a partition's.
        assert_eq!(
            kinds,
            [
                ("idx", RowIndex),
                ("a", File),
                ("year", Partition),
                ("b", File),
                ("month", Partition),
                ("path", FilePath)
            ]
        );
    }

    #[test]
    fn a_file_columns_type_is_found_by_its_place() {
        let schema = ScanSchema::new(
            None,
            vec![("a".into(), FrameType::Boolean), ("year".into(), FrameType::Date), ("b".into(), FrameType::String)],
        );
        let plan = ScanPlan::new(schema, Some("idx".into()), vec!["month".into(), "year".into()], Some("path".into()))
            .unwrap();
        let types: Vec<(&str, Option<&FrameType>)> =
            plan.columns().iter().enumerate().map(|(at, (name, _))| (name.as_str(), plan.file_type_at(at))).collect();
        use FrameType::*;
        assert_eq!(
            types,
            [
                ("idx", None),
                ("a", Some(&Boolean)),
                ("year", Some(&Date)),
                ("b", Some(&String)),
                ("month", None),
                ("path", None)
            ]
        );
    }

    #[test]
    fn extra_columns_named_as_another_column_are_refused_by_their_option() {
        let error = plan(Some("a"), &["a"], &[], None).unwrap_err();
        assert_eq!(error.message, "row_index_name: the column name 'a' is already a column of the file");
        let error = plan(None, &["a"], &["p"], Some("p")).unwrap_err();
        assert_eq!(error.message, "include_file_paths: the column name 'p' is already a column of the file");
        let error = plan(Some("x"), &["a"], &[], Some("x")).unwrap_err();
        assert!(error.message.starts_with("row_index_name: "), "{error}");
        assert_eq!(error.kind, ErrorKind::Duplicate);
    }

    #[test]
    fn a_selection_keeps_its_order_between_the_row_index_and_the_path() {
        let plan = plan(Some("idx"), &["a", "b", "c"], &["p"], Some("path")).unwrap();
        let by_name = plan.select(&ColumnSelection::Names(strings(&["p", "c"]))).unwrap();
        assert_eq!(by_name, ["idx", "p", "c", "path"]);
        let by_index = plan.select(&ColumnSelection::Indices(vec![3, 0, -2])).unwrap();
        assert_eq!(by_index, ["idx", "p", "a", "c", "path"]);
    }

    #[test]
    fn a_selection_of_unknown_columns_or_positions_is_refused() {
        let plan = plan(Some("idx"), &["a", "b"], &[], None).unwrap();
        let error = plan.select(&ColumnSelection::Names(strings(&["a", "zz", "idx"]))).unwrap_err();
        assert_eq!(error.message, "columns not in the file: ['zz', 'idx']; the columns are: ['a', 'b']");
        assert_eq!(error.kind, ErrorKind::ColumnNotFound);
        for index in [2, -3] {
            let error = plan.select(&ColumnSelection::Indices(vec![index])).unwrap_err();
            assert_eq!(error.message, "column index out of range: the file has 2 columns", "{index}");
            assert_eq!(error.kind, ErrorKind::ColumnNotFound);
        }
    }

    #[test]
    fn a_selection_naming_a_column_twice_is_refused() {
        let plan = plan(None, &["a", "b"], &[], None).unwrap();
        for asked in [
            ColumnSelection::Names(strings(&["a", "b", "a"])),
            ColumnSelection::Indices(vec![0, 0]),
            ColumnSelection::Indices(vec![1, -1]),
        ] {
            let error = plan.select(&asked).unwrap_err();
            assert!(error.message.starts_with("columns names the column '"), "{error}");
            assert_eq!(error.kind, ErrorKind::Duplicate);
        }
    }

    #[test]
    fn a_projection_takes_any_column_once_in_the_order_given() {
        let plan = plan(Some("idx"), &["a", "b"], &["p"], Some("path")).unwrap();
        assert_eq!(plan.project(&strings(&["path", "b", "idx", "b"])).unwrap(), ["path", "b", "idx"]);
        let error = plan.project(&strings(&["c"])).unwrap_err();
        assert!(error.message.starts_with("columns not in the file: ['c']"), "{error}");
    }

    #[test]
    fn column_kinds_have_the_python_packages_names() {
        use ColumnKind::*;
        let names: Vec<&str> = [RowIndex, File, Partition, FilePath].into_iter().map(ColumnKind::name).collect();
        assert_eq!(names, ["row_index", "file", "partition", "file_path"]);
    }

    #[test]
    fn a_row_index_named_as_a_partition_column_is_refused() {
        let error = plan(Some("year"), &["a"], &["year"], None).unwrap_err();
        assert_eq!(error.kind, ErrorKind::Duplicate);
        assert_eq!(error.message, "row_index_name: the column name 'year' is already a column of the file");
    }

    #[test]
    fn an_empty_selection_gives_only_the_extra_columns() {
        let plan = plan(Some("idx"), &["a"], &["p"], Some("path")).unwrap();
        assert_eq!(plan.select(&ColumnSelection::Names(vec![])).unwrap(), ["idx", "path"]);
        assert_eq!(plan.select(&ColumnSelection::Indices(vec![])).unwrap(), ["idx", "path"]);
        assert!(plan.project(&[]).unwrap().is_empty());
    }

    #[test]
    fn the_most_distant_positions_are_out_of_range_not_a_panic() {
        let plan = plan(None, &["a", "b"], &["p"], None).unwrap();
        for index in [i64::MIN, i64::MAX, 3, -4] {
            let error = plan.select(&ColumnSelection::Indices(vec![index])).unwrap_err();
            assert_eq!(error.message, "column index out of range: the file has 3 columns", "{index}");
        }
        // Positions count the partitions the files lack after the files' columns.
        assert_eq!(plan.select(&ColumnSelection::Indices(vec![-1, 2, -3])).unwrap_err().kind, ErrorKind::Duplicate);
        assert_eq!(plan.select(&ColumnSelection::Indices(vec![-1, 1, -3])).unwrap(), ["p", "b", "a"]);
    }

    #[test]
    fn columns_in_the_scans_order_whatever_order_they_are_asked_in() {
        let plan = plan(Some("idx"), &["a", "b"], &["p"], Some("path")).unwrap();
        assert_eq!(plan.in_order(None), ["idx", "a", "b", "p", "path"]);
        assert_eq!(plan.in_order(Some(&strings(&["path", "b", "idx", "b"]))), ["idx", "b", "path"]);
        assert!(plan.in_order(Some(&[])).is_empty());
    }
}
