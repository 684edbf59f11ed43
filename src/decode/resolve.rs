//! Schema resolution (the Avro specification's "Schema Resolution") as a [`ReadType`]:
//! data written with the writer's schema decoded straight into the shape of the reader's.
//! Fields are matched by name and the reader's aliases, writer fields the reader lacks are
//! skipped, reader fields the writer lacks take their defaults, numbers are promoted, enum
//! symbols are matched by name, and unions are matched branch by branch.

use std::collections::HashMap;

use super::json_resolve::JsonResolution;
use super::matching::{
    cannot_read, check_fixed, check_names, encoded_default, enum_to_reader, matching_branch, no_reader_branch,
    no_writer_branch, reader_fields_by_name, reads_as_written,
};
use super::read_type::{
    Branch, BranchMap, FieldStep, NullableUnion, OneOfRead, ReadType, RecordRead, Shape, UnionRead,
};
use super::skip::SkipOp;
use crate::error::{AvroError, AvroResult};
use crate::schema::{field_path, AvroSchema, Field, Node, NodeId};

pub struct Resolver<'a> {
    writer: &'a AvroSchema,
    reader: &'a AvroSchema,
    /// The (writer, reader) record pairs being resolved on the way down.
    expanding: Vec<(NodeId, NodeId)>,
}

impl<'a> Resolver<'a> {
    /// Resolves types of `writer` into types of `reader`, inside the records `expanding`.
    pub fn new(writer: &'a AvroSchema, reader: &'a AvroSchema, expanding: Vec<(NodeId, NodeId)>) -> Self {
        Self { writer, reader, expanding }
    }

    /// The type decoding the writer's `writer_node` into the Polars shape of the reader's `reader_node`.
    pub fn read_type(&mut self, writer_node: NodeId, reader_node: NodeId, path: &str) -> AvroResult<ReadType> {
        match (self.writer.node(writer_node), self.reader.node(reader_node)) {
            (Node::Union(writer_branches), Node::Union(reader_branches)) => {
                self.union_into_union(writer_branches, reader_branches, path)
            },
            (Node::Union(writer_branches), _) => {
                let split = self.writer.split_union(writer_branches);
                match split.values.as_slice() {
                    [(_, only)] => {
                        let nullable = NullableUnion {
                            n_branches: writer_branches.len(),
                            null_index: split.null,
                            null_is_error: true,
                        };
                        Ok(self.read_type(*only, reader_node, path)?.with_nullable(nullable))
                    },
                    _ => self.one_of(writer_branches, &split.values, reader_node, false, path),
                }
            },
            (_, Node::Union(reader_branches)) => {
                let values = self.reader.split_union(reader_branches).values;
                match values.as_slice() {
                    // The reader's nullable T: the writer's values are all T.
                    [(_, only)] => self.read_type(writer_node, *only, path),
                    // The reader's Struct of branches: every value goes to the one the writer's type matches.
                    several => {
                        let chosen = matching_branch(self.writer, self.reader, writer_node, several)
                            .ok_or_else(|| no_reader_branch(self.writer, writer_node, path))?;
                        let mut children: Vec<Option<ReadType>> = several.iter().map(|_| None).collect();
                        let branch = several[chosen].1;
                        let at = format!("{path}.{}", self.reader.type_name(branch));
                        children[chosen] = Some(self.read_type(writer_node, branch, &at)?);
                        self.branch_struct(several, children, BranchMap::Always(chosen))
                    },
                }
            },
            _ => self.value(writer_node, reader_node, path),
        }
    }

    /// Neither node is a union.
    fn value(&mut self, writer_node: NodeId, reader_node: NodeId, path: &str) -> AvroResult<ReadType> {
        let as_reader = || ReadType::of(self.reader, reader_node, &mut Vec::new());
        match (self.writer.node(writer_node), self.reader.node(reader_node)) {
            (
                Node::Record { name: writer_name, fields: writer_fields },
                Node::Record { name: reader_name, fields: reader_fields },
            ) => {
                check_names(writer_name, reader_name, path)?;
                // The reader's record met again on the way down: its type is recursive, and
                // from here on the value is JSON text of the reader's type (where reading
                // with the reader's own schema would make it JSON).
                if self.expanding.iter().any(|(_, reader)| *reader == reader_node) {
                    return Ok(ReadType::resolved_json(JsonResolution::new(
                        self.writer,
                        self.reader,
                        writer_node,
                        reader_node,
                        path,
                    )?));
                }
                self.expanding.push((writer_node, reader_node));
                let all: Vec<usize> = (0..reader_fields.len()).collect();
                let read = self.fields(writer_fields, reader_fields, &all, path);
                self.expanding.pop();
                Ok(ReadType::record(reader_fields.iter().map(|f| f.name.as_str()), read?))
            },
            (
                Node::Enum { name: writer_name, symbols: writer_symbols, .. },
                Node::Enum { name: reader_name, symbols: reader_symbols, default, .. },
            ) => {
                check_names(writer_name, reader_name, path)?;
                let to_reader = enum_to_reader(writer_symbols, reader_symbols, default.as_deref());
                let mut read = as_reader()?;
                read.shape = Shape::Enum { n_symbols: writer_symbols.len(), to_reader: Some(to_reader) };
                Ok(read)
            },
            (Node::Array(writer_item), Node::Array(reader_item)) => {
                Ok(ReadType::list(self.read_type(*writer_item, *reader_item, &format!("{path}[]"))?))
            },
            (Node::Map(writer_value), Node::Map(reader_value)) => {
                Ok(ReadType::map(self.read_type(*writer_value, *reader_value, &format!("{path}{{}}"))?))
            },
            (
                Node::Fixed { name: writer_name, size: writer_size },
                Node::Fixed { name: reader_name, size: reader_size },
            ) => {
                check_fixed((writer_name, *writer_size), (reader_name, *reader_size), path)?;
                as_reader()
            },
            // Same type, or a promotion that reads the same bytes: int as long, string as
            // bytes and bytes as string (both length-prefixed).
            (writer, reader) if reads_as_written(writer, reader) => as_reader(),
            (Node::String | Node::Bytes, Node::String | Node::Bytes) => as_reader(),
            (writer, reader) => ReadType::promoted(writer, reader)
                .ok_or_else(|| cannot_read(self.writer, self.reader, writer_node, reader_node, path)),
        }
    }

    /// Matches the reader's fields `wanted` (indices into `reader_fields`) with the writer's fields:
    /// one step per writer field (read into the position of its reader field in `wanted`,
    /// or skip), one output field per wanted field, and the encoded default of each
    /// wanted field the writer lacks.
    pub fn fields(
        &mut self,
        writer_fields: &[Field],
        reader_fields: &[Field],
        wanted: &[usize],
        path: &str,
    ) -> AvroResult<RecordRead> {
        let at = |name: &str| field_path(path, name);
        let by_name = reader_fields_by_name(reader_fields);
        let output_of: HashMap<usize, usize> = wanted.iter().enumerate().map(|(out, r)| (*r, out)).collect();
        let reader_field_of = |writer: &Field| by_name.get(writer.name.as_str()).copied();
        let mut fields: Vec<Option<ReadType>> = (0..wanted.len()).map(|_| None).collect();
        let mut read = RecordRead::default();
        for writer_field in writer_fields {
            let out = reader_field_of(writer_field).and_then(|reader_index| output_of.get(&reader_index).copied());
            let step = match out {
                Some(out) => {
                    let reader_field = &reader_fields[wanted[out]];
                    let at = at(&reader_field.name);
                    fields[out] = Some(self.read_type(writer_field.schema, reader_field.schema, &at)?);
                    FieldStep::Read(out)
                },
                None => FieldStep::Skip(SkipOp::compile(self.writer, writer_field.schema)),
            };
            read.push_step(step);
        }
        for (out, reader_index) in wanted.iter().enumerate() {
            if fields[out].is_some() {
                continue;
            }
            let field = &reader_fields[*reader_index];
            let at = at(&field.name);
            let encoded = encoded_default(self.reader, field, &at)?;
            // The reader's type resolved against itself, in the records being expanded: the
            // shape a value of the field would have, and where the type recurses, JSON text
            // rendered without the writer's schema (which the default is not in).
            let own = self.expanding.iter().map(|(_, reader)| (*reader, *reader)).collect();
            let mut itself = Resolver::new(self.reader, self.reader, own);
            fields[out] = Some(itself.read_type(field.schema, field.schema, &at)?);
            read.defaults.push((out, encoded));
        }
        read.fields = fields.into_iter().map(|f| f.expect("every wanted field is read or defaulted")).collect();
        Ok(read)
    }

    /// Both unions. Each writer branch is read as the first reader branch it can be (the
    /// same type or name first, then a promotion); a writer branch no reader branch takes
    /// is an error when a value takes it.
    fn union_into_union(
        &mut self,
        writer_branches: &[NodeId],
        reader_branches: &[NodeId],
        path: &str,
    ) -> AvroResult<ReadType> {
        let writer = self.writer.split_union(writer_branches);
        let reader = self.reader.split_union(reader_branches);
        match (writer.values.as_slice(), reader.values.as_slice()) {
            // Several types into [null, T] (or [T]): each branch that T matches read as T.
            (several, [(_, reader_only)]) if several.len() > 1 => {
                self.one_of(writer_branches, several, *reader_only, reader.null.is_some(), path)
            },
            // [null, T] (or [T], or [null]) into [null, T'] (or [T']): the common nullable field.
            ([] | [_], [(_, reader_only)]) => {
                let read = match writer.values.first() {
                    Some((_, writer_only)) => self.read_type(*writer_only, *reader_only, path)?,
                    None => ReadType::of(self.reader, *reader_only, &mut Vec::new())?,
                };
                let null_is_error = reader.null.is_none();
                Ok(read.with_nullable(NullableUnion {
                    n_branches: writer_branches.len(),
                    null_index: writer.null,
                    null_is_error,
                }))
            },
            (_, several) if several.len() > 1 => {
                // The reader's Struct, one field per reader branch: each writer branch
                // decodes into the field of the reader branch it matches (several into
                // one field read by the writer's index, as one of them).
                let mut taken_by: Vec<Vec<(usize, NodeId)>> = several.iter().map(|_| Vec::new()).collect();
                let mut map = vec![Branch::Unmatched; writer_branches.len()];
                for (writer_index, writer_node) in &writer.values {
                    let Some(child) = matching_branch(self.writer, self.reader, *writer_node, several) else {
                        continue;
                    };
                    taken_by[child].push((*writer_index, *writer_node));
                    map[*writer_index] = Branch::Child(child);
                }
                let mut children: Vec<Option<ReadType>> = Vec::with_capacity(several.len());
                for ((_, reader_branch), taken) in several.iter().zip(&taken_by) {
                    let at = format!("{path}.{}", self.reader.type_name(*reader_branch));
                    children.push(match taken.as_slice() {
                        [] => None,
                        [(_, only)] => Some(self.read_type(*only, *reader_branch, &at)?),
                        _ => Some(self.one_of(writer_branches, taken, *reader_branch, false, &at)?),
                    });
                }
                if let (Some(null_index), Some(_)) = (writer.null, reader.null) {
                    map[null_index] = Branch::Null;
                }
                self.branch_struct(several, children, BranchMap::ByIndex(map))
            },
            // Several types into [null].
            _ => Err(AvroError::schema(format!(
                "at '{path}': the reader's union holds only null, the writer's holds other types as well"
            ))),
        }
    }

    /// The writer's union branches `values` (branch index, node) read as the reader's one
    /// type `reader_node`: each branch it matches is resolved into it, the others (and
    /// the null branch, unless `nullable`) are errors when a value takes them. None
    /// matching is a schema error.
    fn one_of(
        &mut self,
        writer_branches: &[NodeId],
        values: &[(usize, NodeId)],
        reader_node: NodeId,
        nullable: bool,
        path: &str,
    ) -> AvroResult<ReadType> {
        let mut branches = vec![Branch::Unmatched; writer_branches.len()];
        let mut children = Vec::new();
        for (writer_index, writer_node) in values {
            if matching_branch(self.writer, self.reader, *writer_node, &[(0, reader_node)]).is_some() {
                branches[*writer_index] = Branch::Child(children.len());
                children.push(self.read_type(*writer_node, reader_node, path)?);
            }
        }
        let writer_types: Vec<String> = writer_branches.iter().map(|b| self.writer.type_name(*b)).collect();
        let reader_type = self.reader.type_name(reader_node);
        if children.is_empty() {
            return Err(no_writer_branch(&writer_types, &reader_type, path));
        }
        if nullable {
            if let Some(null_index) = writer_branches.iter().position(|b| matches!(self.writer.node(*b), Node::Null)) {
                branches[null_index] = Branch::Null;
            }
        }
        Ok(ReadType::one_of(OneOfRead { children, branches, writer_types, reader_type }))
    }

    /// The reader's Struct of union branches, with the types resolved so far (the other
    /// branches, which only ever hold nulls, read as the reader declares them).
    fn branch_struct(
        &self,
        branches: &[(usize, NodeId)],
        children: Vec<Option<ReadType>>,
        map: BranchMap,
    ) -> AvroResult<ReadType> {
        let children = branches
            .iter()
            .zip(children)
            .map(|((_, node), child)| child.map_or_else(|| ReadType::of(self.reader, *node, &mut Vec::new()), Ok))
            .collect::<AvroResult<Vec<_>>>()?;
        let names = self.reader.union_field_names(branches);
        Ok(ReadType::union(names.iter().map(String::as_str), UnionRead { children, branches: map }))
    }
}

#[cfg(test)]
mod tests {
    use polars_core::prelude::{DataType, TimeUnit};
    use serde_json::{json, Value};

    use super::*;
    use crate::decode::skip::PlainSkip;
    use crate::schema::parse_schema;

    fn record(fields: Value) -> AvroSchema {
        parse_schema(&json!({"type": "record", "name": "R", "fields": fields}).to_string()).unwrap()
    }

    fn top_fields(schema: &AvroSchema) -> &[Field] {
        let Node::Record { fields, .. } = schema.node(schema.root) else { unreachable!("a record") };
        fields
    }

    /// The writer's field `f` of type `writer` read as the reader's field `f` of type `reader`.
    fn resolve(writer: Value, reader: Value) -> AvroResult<ReadType> {
        let (writer, reader) =
            (record(json!([{"name": "f", "type": writer}])), record(json!([{"name": "f", "type": reader}])));
        let (w, r) = (top_fields(&writer)[0].schema, top_fields(&reader)[0].schema);
        Resolver::new(&writer, &reader, Vec::new()).read_type(w, r, "f")
    }

    /// The records' fields resolved: every reader field wanted, in order.
    fn resolve_fields(writer: Value, reader: Value) -> AvroResult<RecordRead> {
        let (writer, reader) = (record(writer), record(reader));
        let all: Vec<usize> = (0..top_fields(&reader).len()).collect();
        Resolver::new(&writer, &reader, Vec::new()).fields(top_fields(&writer), top_fields(&reader), &all, "")
    }

    fn error(result: AvroResult<impl std::fmt::Debug>) -> String {
        result.expect_err("a schema error").to_string()
    }

    #[test]
    fn every_promotion_of_the_specification_reads_as_the_readers_type() {
        let cases = [
            ("int", "long", DataType::Int64),
            ("int", "float", DataType::Float32),
            ("int", "double", DataType::Float64),
            ("long", "float", DataType::Float32),
            ("long", "double", DataType::Float64),
            ("float", "double", DataType::Float64),
            ("string", "bytes", DataType::Binary),
            ("bytes", "string", DataType::String),
        ];
        for (writer, reader, dtype) in cases {
            let read = resolve(json!(writer), json!(reader)).unwrap();
            assert_eq!(read.dtype, dtype, "{writer} as {reader}");
            assert!(read.nullable.is_none());
        }
        // The shape says how the writer's bytes become the reader's values.
        assert!(matches!(resolve(json!("int"), json!("double")).unwrap().shape, Shape::DoubleFromLong));
        assert!(matches!(resolve(json!("long"), json!("float")).unwrap().shape, Shape::FloatFromLong));
        assert!(matches!(resolve(json!("float"), json!("double")).unwrap().shape, Shape::DoubleFromFloat));
        assert!(matches!(resolve(json!("int"), json!("long")).unwrap().shape, Shape::Long));
    }

    #[test]
    fn narrowing_and_unrelated_types_are_schema_errors_naming_the_field() {
        for (writer, reader) in [
            ("long", "int"),
            ("double", "float"),
            ("float", "long"),
            ("boolean", "int"),
            ("string", "long"),
            ("null", "int"),
        ] {
            let error = resolve(json!(writer), json!(reader)).expect_err("a schema error");
            assert_eq!(error.kind, crate::error::ErrorKind::Schema);
            let message = error.to_string();
            assert!(
                message.contains(&format!("at 'f': the writer's {writer} cannot be read as the reader's {reader}")),
                "{message}"
            );
        }
    }

    #[test]
    fn a_logical_type_of_the_reader_gives_the_column_its_type() {
        let read = resolve(json!("long"), json!({"type": "long", "logicalType": "timestamp-micros"})).unwrap();
        assert_eq!(read.dtype, DataType::Datetime(TimeUnit::Microseconds, Some(polars_core::prelude::TimeZone::UTC)));
        // Promoted first, then presented as the reader says: an int read as a timestamp's long.
        let read = resolve(json!("int"), json!({"type": "long", "logicalType": "local-timestamp-millis"})).unwrap();
        assert_eq!(read.dtype, DataType::Datetime(TimeUnit::Milliseconds, None));
    }

    #[test]
    fn fields_match_by_name_then_by_the_readers_aliases_and_the_rest_are_skipped() {
        let read = resolve_fields(
            json!([{"name": "a", "type": "int"}, {"name": "gone", "type": "string"}, {"name": "old_b", "type": "double"}]),
            json!([{"name": "b", "type": "double", "aliases": ["old_b"]}, {"name": "a", "type": "long"}]),
        )
        .unwrap();
        // The string the reader lacks is skipped by its length.
        let skip_string = FieldStep::Skip(SkipOp::Plain(PlainSkip::LengthPrefixed));
        assert_eq!(read.steps, [FieldStep::Read(1), skip_string, FieldStep::Read(0)]);
        assert_eq!(
            read.fields.iter().map(|f| f.dtype.clone()).collect::<Vec<_>>(),
            [DataType::Float64, DataType::Int64]
        );
        assert!(read.defaults.is_empty());
    }

    #[test]
    fn a_name_wins_over_another_fields_alias() {
        // The writer's `x` is the reader's `x`, though the reader's `y` lists `x` as an alias.
        let read = resolve_fields(
            json!([{"name": "x", "type": "int"}]),
            json!([{"name": "y", "type": "int", "aliases": ["x"], "default": 0}, {"name": "x", "type": "int"}]),
        )
        .unwrap();
        assert_eq!(read.steps, [FieldStep::Read(1)]);
        assert_eq!(read.defaults.len(), 1);
        assert_eq!(read.defaults[0].0, 0);
    }

    #[test]
    fn a_field_the_writer_lacks_takes_its_default_encoded_as_avro_or_is_an_error() {
        let read = resolve_fields(
            json!([{"name": "a", "type": "int"}]),
            json!([{"name": "a", "type": "int"}, {"name": "n", "type": "long", "default": -2}, {"name": "s", "type": ["null", "string"], "default": null}]),
        )
        .unwrap();
        assert_eq!(read.steps, [FieldStep::Read(0)]);
        // -2 zig-zags to 3; a null default is the union's first branch, index 0.
        assert_eq!(read.defaults, [(1, vec![3]), (2, vec![0])]);
        assert_eq!(read.fields[2].dtype, DataType::String);
        let message = error(resolve_fields(json!([]), json!([{"name": "n", "type": "long"}])));
        assert!(
            message.contains("the reader's field 'n' is not in the writer's schema and has no default"),
            "{message}"
        );
        // A default that does not fit its type is refused when the reader needs it.
        let message = error(resolve_fields(json!([]), json!([{"name": "n", "type": "long", "default": "x"}])));
        assert!(message.contains("'n'"), "{message}");
    }

    #[test]
    fn named_types_resolve_by_unqualified_name_or_the_readers_aliases() {
        let fixed = |name: &str, size: usize, aliases: Value| json!({"type": "fixed", "name": name, "size": size, "aliases": aliases});
        assert!(resolve(fixed("F", 4, json!([])), fixed("F", 4, json!([]))).is_ok());
        assert!(resolve(json!({"type": "fixed", "name": "a.F", "size": 4}), fixed("F", 4, json!([]))).is_ok());
        assert!(resolve(fixed("Old", 4, json!([])), fixed("New", 4, json!(["Old"]))).is_ok());
        let message = error(resolve(fixed("Old", 4, json!([])), fixed("New", 4, json!([]))));
        assert!(
            message.contains("the writer's type is named 'Old' and the reader's 'New' (with no aliases)"),
            "{message}"
        );
        let message = error(resolve(fixed("F", 4, json!([])), fixed("F", 8, json!([]))));
        assert!(message.contains("the writer's fixed has 4 bytes, the reader's 8"), "{message}");
        let rec =
            |name: &str, aliases: Value| json!({"type": "record", "name": name, "aliases": aliases, "fields": []});
        assert!(resolve(rec("Old", json!([])), rec("New", json!(["Old"]))).is_ok());
        assert!(error(resolve(rec("Old", json!([])), rec("New", json!([])))).contains("named 'Old'"));
    }

    #[test]
    fn enum_symbols_map_by_name_then_to_the_readers_default() {
        let en = |symbols: Value, default: Option<&str>| {
            let mut e = json!({"type": "enum", "name": "E", "symbols": symbols});
            if let Some(d) = default {
                e["default"] = json!(d);
            }
            e
        };
        let read = resolve(en(json!(["A", "B", "C"]), None), en(json!(["C", "A"]), None)).unwrap();
        let Shape::Enum { n_symbols, to_reader } = read.shape else { panic!("an enum") };
        assert_eq!((n_symbols, to_reader), (3, Some(vec![Some(1), None, Some(0)])));
        let read = resolve(en(json!(["A", "B"]), None), en(json!(["A", "U"]), Some("U"))).unwrap();
        let Shape::Enum { to_reader, .. } = read.shape else { panic!("an enum") };
        assert_eq!(to_reader, Some(vec![Some(0), Some(1)]));
    }

    #[test]
    fn a_writers_nullable_union_read_as_a_plain_type_makes_null_an_error() {
        let read = resolve(json!(["null", "int"]), json!("long")).unwrap();
        assert_eq!(read.dtype, DataType::Int64);
        assert_eq!(read.nullable, Some(NullableUnion { n_branches: 2, null_index: Some(0), null_is_error: true }));
        let read = resolve(json!(["int", "null"]), json!(["null", "long"])).unwrap();
        assert_eq!(read.nullable, Some(NullableUnion { n_branches: 2, null_index: Some(1), null_is_error: false }));
    }

    #[test]
    fn a_plain_writer_type_goes_to_the_readers_matching_branch_without_an_index() {
        // Into [null, T]: T itself, nothing to read before each value.
        let read = resolve(json!("int"), json!(["null", "long"])).unwrap();
        assert_eq!(read.dtype, DataType::Int64);
        assert!(read.nullable.is_none());
        // Into a struct of branches: the same type before a promotion.
        let read = resolve(json!("int"), json!(["null", "double", "int"])).unwrap();
        let Shape::Union(union) = &read.shape else { panic!("a union struct") };
        assert!(matches!(union.branches, BranchMap::Always(1)));
        let read = resolve(json!("int"), json!(["string", "double"])).unwrap();
        let Shape::Union(union) = &read.shape else { panic!("a union struct") };
        assert!(matches!(union.branches, BranchMap::Always(1)));
        let message = error(resolve(json!("boolean"), json!(["string", "double"])));
        assert!(message.contains("the writer's boolean matches no branch of the reader's union"), "{message}");
    }

    #[test]
    fn union_branches_map_to_the_readers_branches_by_index() {
        let read = resolve(json!(["null", "string", "int", "boolean"]), json!(["null", "long", "string"])).unwrap();
        let Shape::Union(union) = &read.shape else { panic!("a union struct") };
        let BranchMap::ByIndex(map) = &union.branches else { panic!("by index") };
        assert_eq!(map, &[Branch::Null, Branch::Child(1), Branch::Child(0), Branch::Unmatched]);
        assert_eq!(
            read.dtype,
            DataType::Struct(vec![
                polars_core::prelude::Field::new("long".into(), DataType::Int64),
                polars_core::prelude::Field::new("string".into(), DataType::String),
            ])
        );
    }

    #[test]
    fn several_writer_branches_read_as_one_reader_type() {
        let read = resolve(json!(["int", "float", "null", "string"]), json!(["null", "double"])).unwrap();
        let Shape::OneOf(one_of) = &read.shape else { panic!("one of") };
        assert_eq!(read.dtype, DataType::Float64);
        assert_eq!(one_of.branches, [Branch::Child(0), Branch::Child(1), Branch::Null, Branch::Unmatched]);
        // The reader's type without null: the writer's null is an error when a value takes it.
        let read = resolve(json!(["int", "null", "long"]), json!("long")).unwrap();
        let Shape::OneOf(one_of) = &read.shape else { panic!("one of") };
        assert_eq!(one_of.branches, [Branch::Child(0), Branch::Unmatched, Branch::Child(1)]);
        let message = error(resolve(json!(["string", "boolean"]), json!("long")));
        assert!(
            message.contains("no branch of the writer's union [string, boolean] can be read as the reader's long"),
            "{message}"
        );
        let message = error(resolve(json!(["null", "int", "string"]), json!(["null"])));
        assert!(message.contains("the reader's union holds only null"), "{message}");
    }

    #[test]
    fn a_recursive_reader_type_is_read_as_json_text() {
        let list = json!({"type": "record", "name": "Node", "fields": [
            {"name": "v", "type": "int"}, {"name": "next", "type": ["null", "Node"]}]});
        let read = resolve(list.clone(), list).unwrap();
        let Shape::Record(node) = &read.shape else { panic!("a record") };
        assert_eq!(node.fields[1].dtype, DataType::String);
        assert!(matches!(node.fields[1].shape, Shape::ResolvedJson(_)));
    }
}
