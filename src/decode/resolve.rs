//! Schema resolution (the Avro specification's "Schema Resolution") as a [`ReadType`]:
//! data written with the writer's schema decoded straight into the shape of the reader's.
//! Fields are matched by name and the reader's aliases, writer fields the reader lacks are
//! skipped, reader fields the writer lacks take their defaults, numbers are promoted, enum
//! symbols are matched by name, and unions are matched branch by branch.

use std::collections::HashMap;

use super::json_resolve::JsonResolution;
use super::matching::{
    cannot_read, check_fixed, check_names, enum_to_reader, matching_branch, no_default, no_reader_branch,
    no_writer_branch, reader_fields_by_name,
};
use super::read_type::{
    Branch, BranchMap, FieldStep, NullableUnion, OneOfRead, ReadType, RecordRead, Shape, UnionRead,
};
use super::skip::SkipOp;
use crate::error::{AvroError, AvroResult};
use crate::schema::{encode_default, field_path, AvroSchema, Field, Node, NodeId};

pub struct Resolver<'a> {
    pub writer: &'a AvroSchema,
    pub reader: &'a AvroSchema,
}

/// The (writer, reader) record pairs being resolved on the way down.
pub type Expanding = Vec<(NodeId, NodeId)>;

impl Resolver<'_> {
    /// The type decoding the writer's `writer_node` into the Polars shape of the reader's `reader_node`.
    pub fn read_type(
        &self,
        writer_node: NodeId,
        reader_node: NodeId,
        path: &str,
        expanding: &mut Expanding,
    ) -> AvroResult<ReadType> {
        match (self.writer.node(writer_node), self.reader.node(reader_node)) {
            (Node::Union(writer_branches), Node::Union(reader_branches)) => {
                self.union_into_union(writer_branches, reader_branches, path, expanding)
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
                        Ok(self.read_type(*only, reader_node, path, expanding)?.with_nullable(nullable))
                    },
                    _ => self.one_of(writer_branches, &split.values, reader_node, false, path, expanding),
                }
            },
            (_, Node::Union(reader_branches)) => {
                let values = self.reader.split_union(reader_branches).values;
                match values.as_slice() {
                    // The reader's nullable T: the writer's values are all T.
                    [(_, only)] => self.read_type(writer_node, *only, path, expanding),
                    // The reader's Struct of branches: every value goes to the one the writer's type matches.
                    several => {
                        let chosen = matching_branch(self.writer, self.reader, writer_node, several)
                            .ok_or_else(|| no_reader_branch(self.writer, writer_node, path))?;
                        let mut children: Vec<Option<ReadType>> = several.iter().map(|_| None).collect();
                        let branch = several[chosen].1;
                        let at = format!("{path}.{}", self.reader.type_name(branch));
                        children[chosen] = Some(self.read_type(writer_node, branch, &at, expanding)?);
                        self.branch_struct(several, children, BranchMap::Always(chosen))
                    },
                }
            },
            _ => self.value(writer_node, reader_node, path, expanding),
        }
    }

    /// Neither node is a union.
    fn value(
        &self,
        writer_node: NodeId,
        reader_node: NodeId,
        path: &str,
        expanding: &mut Expanding,
    ) -> AvroResult<ReadType> {
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
                if expanding.iter().any(|(_, reader)| *reader == reader_node) {
                    return Ok(ReadType::resolved_json(JsonResolution::new(
                        self.writer,
                        self.reader,
                        writer_node,
                        reader_node,
                        path,
                    )?));
                }
                expanding.push((writer_node, reader_node));
                let all: Vec<usize> = (0..reader_fields.len()).collect();
                let read = self.fields(writer_fields, reader_fields, &all, path, expanding);
                expanding.pop();
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
                Ok(ReadType::list(self.read_type(*writer_item, *reader_item, &format!("{path}[]"), expanding)?))
            },
            (Node::Map(writer_value), Node::Map(reader_value)) => {
                Ok(ReadType::map(self.read_type(*writer_value, *reader_value, &format!("{path}{{}}"), expanding)?))
            },
            (
                Node::Fixed { name: writer_name, size: writer_size },
                Node::Fixed { name: reader_name, size: reader_size },
            ) => {
                check_fixed((writer_name, *writer_size), (reader_name, *reader_size), path)?;
                as_reader()
            },
            // Same type, or a promotion that reads the same bytes: int as long (both
            // varints), string as bytes and bytes as string (both length-prefixed).
            (Node::Null, Node::Null)
            | (Node::Boolean, Node::Boolean)
            | (Node::Int | Node::Long, Node::Long)
            | (Node::Int, Node::Int)
            | (Node::Float, Node::Float)
            | (Node::Double, Node::Double)
            | (Node::String | Node::Bytes, Node::String | Node::Bytes) => as_reader(),
            (writer, reader) => ReadType::promoted(writer, reader)
                .ok_or_else(|| cannot_read(self.writer, self.reader, writer_node, reader_node, path)),
        }
    }

    /// Matches the reader's fields `wanted` (indices into `reader_fields`) with the writer's fields:
    /// one step per writer field (read into the position of its reader field in `wanted`,
    /// or skip), one output field per wanted field, and the encoded default of each
    /// wanted field the writer lacks.
    pub fn fields(
        &self,
        writer_fields: &[Field],
        reader_fields: &[Field],
        wanted: &[usize],
        path: &str,
        expanding: &mut Expanding,
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
                    fields[out] = Some(self.read_type(writer_field.schema, reader_field.schema, &at, expanding)?);
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
            let Some(default) = &field.default else { return Err(no_default(&at)) };
            let mut encoded = Vec::new();
            encode_default(self.reader, field.schema, default, &mut encoded, &at, 0)?;
            // The reader's type resolved against itself, in the records being expanded: the
            // shape a value of the field would have, and where the type recurses, JSON text
            // rendered without the writer's schema (which the default is not in).
            let itself = Resolver { writer: self.reader, reader: self.reader };
            let mut own: Expanding = expanding.iter().map(|(_, reader)| (*reader, *reader)).collect();
            fields[out] = Some(itself.read_type(field.schema, field.schema, &at, &mut own)?);
            read.defaults.push((out, encoded));
        }
        read.fields = fields.into_iter().map(|f| f.expect("every wanted field is read or defaulted")).collect();
        Ok(read)
    }

    /// Both unions. Each writer branch is read as the first reader branch it can be (the
    /// same type or name first, then a promotion); a writer branch no reader branch takes
    /// is an error when a value takes it.
    fn union_into_union(
        &self,
        writer_branches: &[NodeId],
        reader_branches: &[NodeId],
        path: &str,
        expanding: &mut Expanding,
    ) -> AvroResult<ReadType> {
        let writer = self.writer.split_union(writer_branches);
        let reader = self.reader.split_union(reader_branches);
        match (writer.values.as_slice(), reader.values.as_slice()) {
            // Several types into [null, T] (or [T]): each branch that T matches read as T.
            (several, [(_, reader_only)]) if several.len() > 1 => {
                self.one_of(writer_branches, several, *reader_only, reader.null.is_some(), path, expanding)
            },
            // [null, T] (or [T], or [null]) into [null, T'] (or [T']): the common nullable field.
            ([] | [_], [(_, reader_only)]) => {
                let read = match writer.values.first() {
                    Some((_, writer_only)) => self.read_type(*writer_only, *reader_only, path, expanding)?,
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
                        [(_, only)] => Some(self.read_type(*only, *reader_branch, &at, expanding)?),
                        _ => Some(self.one_of(writer_branches, taken, *reader_branch, false, &at, expanding)?),
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
        &self,
        writer_branches: &[NodeId],
        values: &[(usize, NodeId)],
        reader_node: NodeId,
        nullable: bool,
        path: &str,
        expanding: &mut Expanding,
    ) -> AvroResult<ReadType> {
        let mut branches = vec![Branch::Unmatched; writer_branches.len()];
        let mut children = Vec::new();
        for (writer_index, writer_node) in values {
            if matching_branch(self.writer, self.reader, *writer_node, &[(0, reader_node)]).is_some() {
                branches[*writer_index] = Branch::Child(children.len());
                children.push(self.read_type(*writer_node, reader_node, path, expanding)?);
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
