//! A scan's filters, taken apart once before any file is opened ([`crate::filter::split`])
//! over the scan's columns in the types the reader gives them: the files whose partition
//! values or path rule out every row are marked, the part on rows becomes the read's
//! [`Predicate`], and what is left is counted for the caller, whose Polars evaluates the
//! filters it gave over the rows the reader gives.

use polars_arrow::bitmap::Bitmap;
use polars_core::prelude::{Column, DataFrame, DataType, PlSmallStr, Schema, Series};

use super::files::ScanFile;
use super::options::IndexType;
use super::predicate::Predicate;
use super::scan_plan::{ColumnKind, ScanPlan};
use crate::error::AvroResult;
use crate::filter::split;
use crate::frame_type::FrameType;

/// Evaluates one of the filters (by its place among them) with the user's Polars over the
/// files' values (one row per file: partition values and path): the files it keeps, None
/// where it cannot.
pub type FilesKept<'a> = &'a dyn Fn(usize, DataFrame) -> Option<Bitmap>;

/// What the reader does with a scan's filters.
#[derive(Default)]
pub struct ScanFilter {
    /// The part the reader evaluates on rows.
    pub predicate: Option<Predicate>,
    /// The parts of the filters (joined by `&`) the reader leaves to the caller: where there
    /// are any, the caller evaluates the filters it gave.
    pub left: usize,
    /// The columns the filters read, for the caller to evaluate them; None where not known
    /// (then every column).
    pub columns: Option<Vec<String>>,
}

impl ScanFilter {
    /// `filters` (Polars' JSON form, all to hold) over the scan `plan` of `files`, whose
    /// `partition_columns` (in the partitions' order) hold the values of each file's
    /// `partition_values`; the files they rule out are marked (`ScanFile::ruled_out`), by
    /// the reader's filters, or by `files_kept` for a filter on those values alone that the
    /// reader cannot evaluate (left to the caller where `files_kept` cannot either).
    pub fn plan(
        filters: &[String],
        plan: &ScanPlan,
        partition_columns: &[(PlSmallStr, DataType)],
        index: IndexType,
        files: &mut [ScanFile],
        files_kept: Option<FilesKept>,
    ) -> AvroResult<Self> {
        if filters.is_empty() {
            return Ok(Self::default());
        }
        let schema = scan_schema(plan, partition_columns, index);
        let mut per_file: Vec<&str> = partition_columns.iter().map(|(name, _)| name.as_str()).collect();
        per_file.extend(plan.file_path_column.as_deref());
        let taken = split(filters, &schema, &per_file)?;
        let mut left = taken.rest.len();
        if taken.by_file.is_some() || !taken.by_file_rest.is_empty() {
            let values = file_values(partition_columns, plan.file_path_column.as_deref(), files)?;
            if let Some(by_file) = &taken.by_file {
                rule_out(files, &by_file.mask(&values)?);
            }
            for (filter, parts) in taken.by_file_rest {
                let kept = files_kept.and_then(|kept| kept(filter, values.clone())).filter(|k| k.len() == files.len());
                match kept {
                    Some(kept) => rule_out(files, &kept),
                    None => left += parts.len(),
                }
            }
        }
        Ok(Self { predicate: taken.by_row.map(Predicate::of_filter), left, columns: taken.columns })
    }
}

/// Marks the files `kept` leaves out.
fn rule_out(files: &mut [ScanFile], kept: &Bitmap) {
    for (file, kept) in files.iter_mut().zip(kept.iter()) {
        file.ruled_out |= !kept;
    }
}

/// The scan's columns with the types the reader gives them (a map as a list of key/value
/// structs); a file column of a type the reader never gives is left out.
fn scan_schema(plan: &ScanPlan, partition_columns: &[(PlSmallStr, DataType)], index: IndexType) -> Schema {
    let mut schema = Schema::default();
    for (at, (name, kind)) in plan.columns().iter().enumerate() {
        let dtype = match kind {
            ColumnKind::RowIndex => Some(index.dtype()),
            ColumnKind::File => plan.file_type_at(at).and_then(FrameType::read_dtype),
            ColumnKind::Partition => partition_columns.iter().find(|(n, _)| n == name).map(|(_, d)| d.clone()),
            ColumnKind::FilePath => Some(DataType::String),
        };
        if let Some(dtype) = dtype {
            schema.insert(name.as_str().into(), dtype);
        }
    }
    schema
}

/// One row per file: its partition values and its path, as its rows get them.
fn file_values(
    partition_columns: &[(PlSmallStr, DataType)],
    file_path_column: Option<&str>,
    files: &[ScanFile],
) -> AvroResult<DataFrame> {
    let mut columns = Vec::new();
    for (i, (name, dtype)) in partition_columns.iter().enumerate() {
        let values: Vec<_> = files.iter().map(|file| file.partition_values[i].clone()).collect();
        columns.push(Column::from(Series::from_any_values_and_dtype(name.clone(), &values, dtype, true)?));
    }
    if let Some(name) = file_path_column {
        let paths: Vec<String> = files.iter().map(|file| file.path.clone()).collect();
        columns.push(Column::new(name.into(), paths));
    }
    Ok(DataFrame::new(files.len(), columns)?)
}

#[cfg(test)]
mod tests {
    use polars_core::prelude::AnyValue;

    use super::*;
    use crate::frame_type::FrameType;
    use crate::read::scan_schema::ScanSchema;
    use crate::source::Source;

    fn files(parts: &[Option<i64>]) -> Vec<ScanFile> {
        parts
            .iter()
            .map(|part| {
                let value = part.map_or(AnyValue::Null, AnyValue::Int64);
                ScanFile { partition_values: vec![value], ..ScanFile::from(Source::from_bytes(vec![])) }
            })
            .collect()
    }

    fn plan() -> ScanPlan {
        let schema = ScanSchema::new(None, vec![("a".into(), FrameType::Int { signed: true, bits: 64 })]);
        ScanPlan::new(schema, None, vec!["part".into()], Some("path".into())).unwrap()
    }

    fn gt(column: &str, n: i64) -> String {
        format!(
            r#"{{"BinaryExpr":{{"left":{{"Column":"{column}"}},"op":"Gt","right":{{"Literal":{{"Dyn":{{"Int":{n}}}}}}}}}}}"#
        )
    }

    #[test]
    fn a_filter_on_partition_values_rules_files_out() {
        let mut files = files(&[Some(1), Some(5), None]);
        let partitions = [(PlSmallStr::from("part"), DataType::Int64)];
        let filter =
            ScanFilter::plan(&[gt("part", 2), gt("a", 0)], &plan(), &partitions, IndexType::U32, &mut files, None);
        let filter = filter.unwrap();
        // A null partition value fails the filter, as in Polars.
        assert_eq!(files.iter().map(|f| f.ruled_out).collect::<Vec<_>>(), [true, false, true]);
        assert_eq!(filter.predicate.map(|p| p.columns), Some(vec!["a".to_string()]));
        assert_eq!(filter.left, 0);
    }

    #[test]
    fn the_path_is_a_value_every_row_of_a_file_shares() {
        let mut files = files(&[Some(1)]);
        let partitions = [(PlSmallStr::from("part"), DataType::Int64)];
        let is_null = r#"{"Function":{"input":[{"Column":"path"}],"function":{"Boolean":"IsNull"}}}"#;
        let filter =
            ScanFilter::plan(&[is_null.into()], &plan(), &partitions, IndexType::U32, &mut files, None).unwrap();
        assert!(files[0].ruled_out && filter.predicate.is_none());
    }

    #[test]
    fn a_filter_on_file_values_the_reader_cannot_evaluate_is_polars_on_the_files_or_on_the_rows() {
        let partitions = [(PlSmallStr::from("part"), DataType::Int64)];
        let length = r#"{"BinaryExpr":{"left":{"Function":{"input":[{"Column":"path"}],"function":{"StringExpr":"LenChars"}}},"op":"Gt","right":{"Literal":{"Dyn":{"Int":1}}}}}"#;
        let filters = [gt("a", 0), length.to_string()];
        let mut files = files(&[Some(1), Some(2)]);
        let second = |filter: usize, values: DataFrame| {
            assert_eq!(filter, 1);
            Some(Bitmap::from_iter((0..values.height()).map(|i| i == 1)))
        };
        let filter =
            ScanFilter::plan(&filters, &plan(), &partitions, IndexType::U32, &mut files, Some(&second)).unwrap();
        assert_eq!(files.iter().map(|f| f.ruled_out).collect::<Vec<_>>(), [true, false]);
        assert_eq!(filter.left, 0);
        let mut files = self::files(&[Some(1), Some(2)]);
        let cannot = |_: usize, _: DataFrame| None;
        let filter =
            ScanFilter::plan(&filters, &plan(), &partitions, IndexType::U32, &mut files, Some(&cannot)).unwrap();
        assert!(files.iter().all(|f| !f.ruled_out));
        assert_eq!((filter.left, filter.columns), (1, Some(vec!["a".to_string(), "path".to_string()])));
    }
}
