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
