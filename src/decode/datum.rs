//! Single datums, each a whole message (a Kafka value): one value of the writer's schema
//! read into one column, whose bytes must be used up exactly. The message side
//! (`crate::message`) finds each datum; this decodes it.

use super::column::{ArrayRef, Column};
use super::cursor::{start_item_budget, Cursor};
use super::plan::RowPlan;
use super::read_type::ReadType;
use crate::error::{AvroError, AvroResult};
use crate::schema::{AvroSchema, Node};

/// How a datum written with `writer` is read: as it is, or resolved into `reader`. A
/// record becomes a Struct; the top-level record names are not compared (as for files).
pub fn datum_read_type(writer: &AvroSchema, reader: Option<&AvroSchema>) -> AvroResult<ReadType> {
    let plan = RowPlan::new(writer, reader, None)?;
    let reader = reader.unwrap_or(writer);
    match reader.node(reader.root) {
        Node::Record { .. } => Ok(ReadType::record(plan.names.iter().map(|n| n.as_str()), plan.record)),
        _ => Ok(plan.record.fields.into_iter().next().expect("a plan of a value that is not a record has one column")),
    }
}

/// The datums of one writer schema being decoded into one column.
pub struct DatumColumn<'a> {
    writer: &'a AvroSchema,
    column: Column<'a>,
    /// The column's length before the last datum.
    before_last: usize,
    /// The values of failed datums, made nulls when the column is finished.
    failed: Vec<usize>,
}

impl<'a> DatumColumn<'a> {
    pub fn new(writer: &'a AvroSchema, read: &'a ReadType) -> Self {
        Self { writer, column: Column::new(read), before_last: 0, failed: Vec::new() }
    }

    /// Decodes the datum at `start` of `message`, to its last byte. Errors give byte
    /// offsets in the block data's words: [`in_message`] speaks of a message.
    pub fn decode(&mut self, message: &[u8], start: usize) -> AvroResult<()> {
        start_item_budget(message.len());
        self.before_last = self.column.len();
        let mut cur = Cursor::new(message);
        cur.skip(start)?;
        self.column.decode(self.writer, &mut cur)?;
        if !cur.is_empty() {
            let more = cur.remaining();
            return Err(AvroError::decode(format!(
                "expected the message to end with the datum at byte {}, found {more} more byte{}",
                cur.position(),
                if more == 1 { "" } else { "s" }
            )));
        }
        Ok(())
    }

    pub fn push_null(&mut self) {
        self.column.push_null();
    }

    /// After [`DatumColumn::decode`] failed: the failed datum becomes one null, at the
    /// position returned. What it left in the builders, or its whole value when bytes
    /// followed it, is closed into a value made null when the column is finished.
    pub fn null_failed(&mut self) -> usize {
        let whole = self.column.len() > self.before_last;
        if whole || self.column.close_partial() {
            self.failed.push(self.column.len() - 1);
        } else {
            self.column.push_null();
        }
        self.column.len() - 1
    }

    pub fn len(&self) -> usize {
        self.column.len()
    }

    pub fn finish(mut self) -> AvroResult<ArrayRef> {
        self.column.null_at(&self.failed);
        self.column.finish()
    }
}

/// The decoder's errors speak of block data; here the data is a message. Made only for
/// errors shown: permissive decoding drops them.
pub fn in_message(mut e: AvroError) -> AvroError {
    e.message = e
        .message
        .replace("the block data ended", "the message ended")
        .replace("of the block data", "of the message")
        .replace("decompressed bytes", "bytes");
    e
}

#[cfg(test)]
mod tests {
    use polars_arrow::array::PrimitiveArray;
    use polars_core::prelude::{DataType, Field};

    use super::*;
    use crate::error::ErrorKind;
    use crate::schema::parse_schema;

    fn schema(json: &str) -> AvroSchema {
        parse_schema(json).unwrap()
    }

    #[test]
    fn a_record_reads_as_a_struct_and_any_other_value_as_its_own_type() {
        let record = schema(
            r#"{"type": "record", "name": "W", "fields": [
            {"name": "a", "type": "int"}, {"name": "b", "type": "string"}]}"#,
        );
        let fields = |f: &[(&str, DataType)]| {
            DataType::Struct(f.iter().map(|(n, d)| Field::new((*n).into(), d.clone())).collect())
        };
        let read = datum_read_type(&record, None).unwrap();
        assert_eq!(read.dtype, fields(&[("a", DataType::Int32), ("b", DataType::String)]));
        // The top-level names are not compared.
        let reader = schema(r#"{"type": "record", "name": "Other", "fields": [{"name": "b", "type": "bytes"}]}"#);
        assert_eq!(datum_read_type(&record, Some(&reader)).unwrap().dtype, fields(&[("b", DataType::Binary)]));
        assert_eq!(datum_read_type(&schema(r#""int""#), Some(&schema(r#""long""#))).unwrap().dtype, DataType::Int64);
        let error = datum_read_type(&schema(r#""long""#), Some(&schema(r#""int""#))).unwrap_err();
        assert_eq!(error.kind, ErrorKind::Schema);
    }

    #[test]
    fn a_datum_must_end_with_its_message_and_a_failed_one_is_one_null() {
        let writer = schema(r#""long""#);
        let read = datum_read_type(&writer, None).unwrap();
        let mut column = DatumColumn::new(&writer, &read);
        column.decode(&[2], 0).unwrap();
        // Cut short: nothing was pushed, a null is.
        assert!(column.decode(&[0x80], 0).is_err());
        assert_eq!(column.null_failed(), 1);
        column.push_null();
        // Bytes after the datum: its value was pushed, and is nulled at the end.
        let error = column.decode(&[4, 0], 0).unwrap_err();
        assert_eq!(error.message, "expected the message to end with the datum at byte 1, found 1 more byte");
        assert_eq!(column.null_failed(), 3);
        let error = column.decode(&[4, 0, 0], 0).unwrap_err();
        assert_eq!(error.message, "expected the message to end with the datum at byte 1, found 2 more bytes");
        assert_eq!(column.null_failed(), 4);
        // A prefix before the datum is stepped over.
        column.decode(&[0xaa, 0xbb, 6], 2).unwrap();
        assert_eq!(column.len(), 6);
        let array = column.finish().unwrap();
        let values = array.as_any().downcast_ref::<PrimitiveArray<i64>>().unwrap();
        let values: Vec<Option<i64>> = values.iter().map(|v| v.copied()).collect();
        assert_eq!(values, [Some(1), None, None, None, None, Some(3)]);
    }

    #[test]
    fn a_record_that_fails_halfway_is_one_null_record() {
        let writer = schema(
            r#"{"type": "record", "name": "W", "fields": [
            {"name": "a", "type": "long"}, {"name": "b", "type": "string"}]}"#,
        );
        let read = datum_read_type(&writer, None).unwrap();
        let mut column = DatumColumn::new(&writer, &read);
        // `a` is read, `b`'s eight bytes are not there.
        assert!(column.decode(&[2, 0x10], 0).is_err());
        assert_eq!(column.null_failed(), 0);
        column.decode(&[4, 2, b'x'], 0).unwrap();
        let array = column.finish().unwrap();
        assert_eq!((array.len(), array.is_null(0), array.is_null(1)), (2, true, false));
    }

    #[test]
    fn errors_speak_of_the_message_not_the_block() {
        for (block, message) in [
            ("expected 8 bytes but the block data ended at byte 3", "expected 8 bytes but the message ended at byte 3"),
            ("a bad index at byte 2 of the block data", "a bad index at byte 2 of the message"),
            ("all 9 decompressed bytes", "all 9 bytes"),
            ("nothing to replace", "nothing to replace"),
        ] {
            let error = in_message(AvroError::decode(block).at_offset(5));
            assert_eq!((error.message.as_str(), error.kind, error.offset), (message, ErrorKind::Decode, Some(5)));
        }
    }
}
