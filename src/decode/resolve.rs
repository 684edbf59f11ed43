//! Schema resolution (the Avro specification's "Schema Resolution"): data written with the
//! writer's schema decoded straight into the shape of the reader's. Fields are matched by
//! name and the reader's aliases, writer fields the reader lacks are skipped, reader fields
//! the writer lacks take their defaults, numbers are promoted, enum symbols are matched by
//! name, and unions are matched branch by branch.

use polars::prelude::{DataType, Field as PlField, PlSmallStr};
use serde_json::Value;

use super::column::{Column, Kind, ResolvedRecord, UnionPrefix, UNMATCHED_BRANCH};
use super::plan::{build_column, push_merging_skips, TopSlot};
use super::skip::SkipOp;
use super::views::ViewBuilder;
use crate::container::{put_bytes, put_long};
use crate::error::{AvroError, AvroResult};
use crate::schema::{field_path, AvroSchema, Field, Node, NodeId};

pub struct Resolver<'a> {
    pub writer: &'a AvroSchema,
    pub reader: &'a AvroSchema,
}

impl Resolver<'_> {
    /// The column decoding writer node `w` into the Polars shape of reader node `r`.
    /// `expanding` holds the record pairs being resolved on the way down.
    pub fn column(&self, w: NodeId, r: NodeId, path: &str, expanding: &mut Vec<(NodeId, NodeId)>) -> AvroResult<Column> {
        match (self.writer.node(w), self.reader.node(r)) {
            (Node::Union(wb), Node::Union(rb)) => self.union_into_union(wb, rb, path, expanding),
            (Node::Union(wb), _) => {
                let (null_index, values) = split_union(self.writer, wb);
                let [only] = values.as_slice() else {
                    return Err(unsupported_union(path));
                };
                let mut column = self.column(only.1, r, path, expanding)?;
                column.union_prefix = Some(UnionPrefix { n_branches: wb.len(), null_index, null_is_error: true });
                Ok(column)
            },
            (_, Node::Union(rb)) => {
                let (_, values) = split_union(self.reader, rb);
                match values.as_slice() {
                    // The reader's nullable T: the writer's values are all T.
                    [only] => self.column(w, only.1, path, expanding),
                    // The reader's Struct of branches: every value goes to the one the writer's type matches.
                    several => {
                        let chosen = self.matching_branch(w, several).ok_or_else(|| {
                            AvroError::schema(format!(
                                "at '{path}': the writer's {} matches no branch of the reader's union",
                                self.writer.type_name(w)
                            ))
                        })?;
                        let mut children: Vec<Option<Column>> = several.iter().map(|_| None).collect();
                        let name = self.reader.type_name(several[chosen].1);
                        children[chosen] = Some(self.column(w, several[chosen].1, &format!("{path}.{name}"), expanding)?);
                        self.branch_struct(several, children, Vec::new(), Some(chosen))
                    },
                }
            },
            _ => self.value(w, r, path, expanding),
        }
    }

    /// Neither node is a union.
    fn value(&self, w: NodeId, r: NodeId, path: &str, expanding: &mut Vec<(NodeId, NodeId)>) -> AvroResult<Column> {
        let identity = || build_column(self.reader, r, &mut Vec::new());
        match (self.writer.node(w), self.reader.node(r)) {
            (Node::Record { name: wn, fields: wf }, Node::Record { name: rn, fields: rf }) => {
                check_names(&wn.name, &rn.name, path)?;
                if expanding.contains(&(w, r)) {
                    return Err(AvroError::schema(format!(
                        "at '{path}': recursive records cannot be read with a reader schema yet"
                    )));
                }
                expanding.push((w, r));
                let all: Vec<usize> = (0..rf.len()).collect();
                let (steps, children, defaults) = self.fields(wf, rf, &all, path, expanding)?;
                expanding.pop();
                let fields = rf.iter().zip(&children).map(|(f, c)| PlField::new(PlSmallStr::from(f.name.as_str()), c.dtype.clone()));
                let dtype = DataType::Struct(fields.collect());
                Ok(Column::new(dtype, Kind::ResolvedRecord(Box::new(ResolvedRecord { children, steps, defaults }))))
            },
            (Node::Enum { name: wn, symbols: ws, .. }, Node::Enum { name: rn, symbols: rs, default, .. }) => {
                check_names(&wn.name, &rn.name, path)?;
                let fallback = default.as_ref().and_then(|d| rs.iter().position(|s| s == d)).map(|p| p as u32);
                let to_reader = ws.iter().map(|s| rs.iter().position(|x| x == s).map(|p| p as u32).or(fallback)).collect();
                let mut column = identity()?;
                column.kind = Kind::Enum { n_symbols: ws.len(), values: Vec::new(), to_reader: Some(to_reader) };
                Ok(column)
            },
            (Node::Array(wi), Node::Array(ri)) => {
                let item = self.column(*wi, *ri, &format!("{path}[]"), expanding)?;
                Ok(Column::new(DataType::List(Box::new(item.dtype.clone())), Kind::List { offsets: vec![0], item: Box::new(item) }))
            },
            (Node::Map(wv), Node::Map(rv)) => {
                let value = self.column(*wv, *rv, &format!("{path}{{}}"), expanding)?;
                let entry = DataType::Struct(vec![
                    PlField::new(PlSmallStr::from_static("key"), DataType::String),
                    PlField::new(PlSmallStr::from_static("value"), value.dtype.clone()),
                ]);
                Ok(Column::new(
                    DataType::List(Box::new(entry)),
                    Kind::Map { offsets: vec![0], keys: ViewBuilder::default(), values: Box::new(value) },
                ))
            },
            (Node::Fixed { name: wn, size: ws }, Node::Fixed { name: rn, size: rs }) => {
                check_names(&wn.name, &rn.name, path)?;
                if ws != rs {
                    return Err(AvroError::schema(format!(
                        "at '{path}': the writer's fixed has {ws} bytes, the reader's {rs}"
                    )));
                }
                identity()
            },
            // Same type, or a promotion that reads the same bytes: int as long (both
            // varints), string as bytes and bytes as string (both length-prefixed).
            (Node::Null, Node::Null)
            | (Node::Boolean, Node::Boolean)
            | (Node::Int | Node::Long, Node::Long)
            | (Node::Int, Node::Int)
            | (Node::Float, Node::Float)
            | (Node::Double, Node::Double)
            | (Node::String | Node::Bytes, Node::String | Node::Bytes) => identity(),
            (Node::Int | Node::Long, Node::Float) => Ok(Column::new(DataType::Float32, Kind::FloatFromLong(Vec::new()))),
            (Node::Int | Node::Long, Node::Double) => Ok(Column::new(DataType::Float64, Kind::DoubleFromLong(Vec::new()))),
            (Node::Float, Node::Double) => Ok(Column::new(DataType::Float64, Kind::DoubleFromFloat(Vec::new()))),
            _ => Err(AvroError::schema(format!(
                "at '{path}': the writer's {} cannot be read as the reader's {}",
                self.writer.type_name(w),
                self.reader.type_name(r)
            ))),
        }
    }

    /// Matches the reader's fields `wanted` (indices into `rf`) with the writer's fields:
    /// one step per writer field (decode into the position of its reader field in `wanted`,
    /// or skip), one column per wanted field, and the encoded default of each wanted field
    /// the writer lacks (by position in `wanted`).
    #[allow(clippy::type_complexity)]
    pub fn fields(
        &self,
        wf: &[Field],
        rf: &[Field],
        wanted: &[usize],
        path: &str,
        expanding: &mut Vec<(NodeId, NodeId)>,
    ) -> AvroResult<(Vec<TopSlot>, Vec<Column>, Vec<(usize, Vec<u8>)>)> {
        let at = |name: &str| field_path(path, name);
        let reader_field_of = |writer: &Field| {
            rf.iter().position(|r| r.name == writer.name || r.aliases.iter().any(|a| a == &writer.name))
        };
        let mut columns: Vec<Option<Column>> = (0..wanted.len()).map(|_| None).collect();
        let mut steps: Vec<TopSlot> = Vec::with_capacity(wf.len());
        for writer_field in wf {
            let out = reader_field_of(writer_field).and_then(|r| wanted.iter().position(|w| *w == r));
            let step = match out {
                Some(out) => {
                    let reader_field = &rf[wanted[out]];
                    let column = self.column(writer_field.schema, reader_field.schema, &at(&reader_field.name), expanding)?;
                    columns[out] = Some(column);
                    TopSlot::Decode(out)
                },
                None => TopSlot::Skip(SkipOp::compile(self.writer, writer_field.schema)),
            };
            push_merging_skips(&mut steps, step);
        }
        let mut defaults = Vec::new();
        for (out, reader_index) in wanted.iter().enumerate() {
            if columns[out].is_some() {
                continue;
            }
            let field = &rf[*reader_index];
            let where_ = at(&field.name);
            let Some(default) = &field.default else {
                return Err(AvroError::schema(format!(
                    "the reader's field '{where_}' is not in the writer's schema and has no default"
                )));
            };
            let mut encoded = Vec::new();
            encode_default(self.reader, field.schema, default, &mut encoded, &where_, 0)?;
            let column = build_column(self.reader, field.schema, &mut Vec::new())?;
            if contains_json(&column) {
                return Err(AvroError::schema(format!("at '{where_}': defaults of recursive types are not supported")));
            }
            columns[out] = Some(column);
            defaults.push((out, encoded));
        }
        let columns = columns.into_iter().map(|c| c.expect("every wanted field is decoded or defaulted")).collect();
        Ok((steps, columns, defaults))
    }
}

/// The null branch's index and the other branches (index, node) of a union.
fn split_union(schema: &AvroSchema, branches: &[NodeId]) -> (Option<usize>, Vec<(usize, NodeId)>) {
    let null = branches.iter().position(|b| matches!(schema.node(*b), Node::Null));
    let values = branches.iter().copied().enumerate().filter(|(_, b)| !matches!(schema.node(*b), Node::Null)).collect();
    (null, values)
}

impl Resolver<'_> {
    /// Both unions. Each writer branch is read as the first reader branch it can be (the
    /// same type or name first, then a promotion); a writer branch no reader branch takes
    /// is an error when a value takes it.
    fn union_into_union(
        &self,
        wb: &[NodeId],
        rb: &[NodeId],
        path: &str,
        expanding: &mut Vec<(NodeId, NodeId)>,
    ) -> AvroResult<Column> {
        let (w_null, w_values) = split_union(self.writer, wb);
        let (r_null, r_values) = split_union(self.reader, rb);
        match (w_values.as_slice(), r_values.as_slice()) {
            // [null, T] (or [T], or [null]) into [null, T'] (or [T']): the common nullable field.
            ([] | [_], [(_, r)]) => {
                let mut column = match w_values.first() {
                    Some((_, w)) => self.column(*w, *r, path, expanding)?,
                    None => build_column(self.reader, *r, &mut Vec::new())?,
                };
                column.union_prefix =
                    Some(UnionPrefix { n_branches: wb.len(), null_index: w_null, null_is_error: r_null.is_none() });
                Ok(column)
            },
            (_, several) if several.len() > 1 => {
                // The reader's Struct, one field per reader branch: each writer branch
                // decodes into the field of the reader branch it matches.
                let mut children: Vec<Option<Column>> = several.iter().map(|_| None).collect();
                let mut branch_to_child = vec![None; wb.len()];
                for (wi, w) in &w_values {
                    let Some(child) = self.matching_branch(*w, several) else {
                        branch_to_child[*wi] = Some(UNMATCHED_BRANCH);
                        continue;
                    };
                    if children[child].is_some() {
                        return Err(unsupported_union(path));
                    }
                    let name = self.reader.type_name(several[child].1);
                    children[child] = Some(self.column(*w, several[child].1, &format!("{path}.{name}"), expanding)?);
                    branch_to_child[*wi] = Some(child);
                }
                if let (Some(wi), None) = (w_null, r_null) {
                    branch_to_child[wi] = Some(UNMATCHED_BRANCH);
                }
                self.branch_struct(several, children, branch_to_child, None)
            },
            _ => Err(unsupported_union(path)),
        }
    }

    /// The reader's Struct of union branches, with the columns resolved so far (the other
    /// branches' columns, which only ever hold nulls, built from the reader's schema).
    fn branch_struct(
        &self,
        branches: &[(usize, NodeId)],
        children: Vec<Option<Column>>,
        branch_to_child: Vec<Option<usize>>,
        unwrapped: Option<usize>,
    ) -> AvroResult<Column> {
        let mut fields: Vec<PlField> = Vec::with_capacity(branches.len());
        let mut built = Vec::with_capacity(branches.len());
        for ((branch, node), child) in branches.iter().zip(children) {
            let column = match child {
                Some(c) => c,
                None => build_column(self.reader, *node, &mut Vec::new())?,
            };
            let mut name = self.reader.type_name(*node);
            if fields.iter().any(|f| f.name.as_str() == name) {
                name = format!("{name}_{branch}");
            }
            fields.push(PlField::new(PlSmallStr::from(name.as_str()), column.dtype.clone()));
            built.push(column);
        }
        Ok(Column::new(DataType::Struct(fields), Kind::Union { branch_to_child, children: built, unwrapped }))
    }

    /// The first reader branch (position in `branches`) that writer node `w` can be read
    /// as: the same type (or named type of the same name) first, then a promotion.
    fn matching_branch(&self, w: NodeId, branches: &[(usize, NodeId)]) -> Option<usize> {
        let same = |r: NodeId| match (self.writer.node(w), self.reader.node(r)) {
            (Node::Record { name: a, .. }, Node::Record { name: b, .. })
            | (Node::Enum { name: a, .. }, Node::Enum { name: b, .. })
            | (Node::Fixed { name: a, .. }, Node::Fixed { name: b, .. }) => a.name == b.name,
            (Node::Array(_), Node::Array(_)) | (Node::Map(_), Node::Map(_)) => true,
            (a, b) => std::mem::discriminant(a) == std::mem::discriminant(b),
        };
        let promotes = |r: NodeId| {
            matches!(
                (self.writer.node(w), self.reader.node(r)),
                (Node::Int, Node::Long | Node::Float | Node::Double)
                    | (Node::Long, Node::Float | Node::Double)
                    | (Node::Float, Node::Double)
                    | (Node::String, Node::Bytes)
                    | (Node::Bytes, Node::String)
            )
        };
        branches.iter().position(|(_, r)| same(*r)).or_else(|| branches.iter().position(|(_, r)| promotes(*r)))
    }
}

fn check_names(writer: &str, reader: &str, path: &str) -> AvroResult<()> {
    if writer == reader {
        return Ok(());
    }
    Err(AvroError::schema(format!(
        "at '{path}': the writer's type is named '{writer}' and the reader's '{reader}'; named types resolve only by name"
    )))
}

fn unsupported_union(path: &str) -> AvroError {
    AvroError::schema(format!(
        "at '{path}': reading a union of several types into a single type is not supported yet"
    ))
}

fn contains_json(column: &Column) -> bool {
    match &column.kind {
        Kind::Json { .. } => true,
        Kind::List { item: inner, .. } | Kind::Map { values: inner, .. } => contains_json(inner),
        Kind::Record(children) | Kind::Union { children, .. } => children.iter().any(contains_json),
        Kind::ResolvedRecord(r) => r.children.iter().any(contains_json),
        _ => false,
    }
}

/// Encodes a field's JSON default as Avro binary of reader node `id` (the specification's
/// JSON encoding of defaults: bytes and fixed as strings of code points 0-255, a union's
/// default matching one of its branches).
pub fn encode_default(schema: &AvroSchema, id: NodeId, value: &Value, out: &mut Vec<u8>, path: &str, depth: usize) -> AvroResult<()> {
    let bad = || {
        AvroError::schema(format!("the default of '{path}', {value}, is not a value of its type {}", schema.type_name(id)))
    };
    if depth > 64 {
        return Err(bad());
    }
    match schema.node(id) {
        Node::Null => value.is_null().then_some(()).ok_or_else(bad)?,
        Node::Boolean => out.push(value.as_bool().ok_or_else(bad)? as u8),
        Node::Int => put_long(out, i64::from(value.as_i64().and_then(|v| i32::try_from(v).ok()).ok_or_else(bad)?)),
        Node::Long => put_long(out, value.as_i64().ok_or_else(bad)?),
        Node::Float => out.extend_from_slice(&(value.as_f64().ok_or_else(bad)? as f32).to_le_bytes()),
        Node::Double => out.extend_from_slice(&value.as_f64().ok_or_else(bad)?.to_le_bytes()),
        Node::String => put_bytes(out, value.as_str().ok_or_else(bad)?.as_bytes()),
        Node::Bytes => put_bytes(out, &code_points(value).ok_or_else(bad)?),
        Node::Fixed { size, .. } => {
            let bytes = code_points(value).filter(|b| b.len() == *size).ok_or_else(bad)?;
            out.extend_from_slice(&bytes);
        },
        Node::Enum { symbols, .. } => {
            let symbol = value.as_str().ok_or_else(bad)?;
            put_long(out, symbols.iter().position(|s| s == symbol).ok_or_else(bad)? as i64);
        },
        Node::Array(item) => {
            let items = value.as_array().ok_or_else(bad)?;
            if !items.is_empty() {
                put_long(out, items.len() as i64);
                for v in items {
                    encode_default(schema, *item, v, out, path, depth + 1)?;
                }
            }
            put_long(out, 0);
        },
        Node::Map(inner) => {
            let entries = value.as_object().ok_or_else(bad)?;
            if !entries.is_empty() {
                put_long(out, entries.len() as i64);
                for (k, v) in entries {
                    put_bytes(out, k.as_bytes());
                    encode_default(schema, *inner, v, out, path, depth + 1)?;
                }
            }
            put_long(out, 0);
        },
        Node::Record { fields, .. } => {
            let object = value.as_object().ok_or_else(bad)?;
            for f in fields {
                let v = object.get(&f.name).or(f.default.as_ref()).ok_or_else(bad)?;
                encode_default(schema, f.schema, v, out, &format!("{path}.{}", f.name), depth + 1)?;
            }
        },
        Node::Union(branches) => {
            // The first branch the value fits (Avro 1.12; before, always the first branch).
            for (i, branch) in branches.iter().enumerate() {
                let mut encoded = Vec::new();
                if encode_default(schema, *branch, value, &mut encoded, path, depth + 1).is_ok() {
                    put_long(out, i as i64);
                    out.extend_from_slice(&encoded);
                    return Ok(());
                }
            }
            return Err(bad());
        },
    }
    Ok(())
}

/// A JSON string of code points 0-255 as bytes (Avro's JSON encoding of bytes and fixed).
fn code_points(value: &Value) -> Option<Vec<u8>> {
    value.as_str()?.chars().map(|c| u8::try_from(u32::from(c)).ok()).collect()
}
