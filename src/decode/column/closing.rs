//! A value that fails halfway (a message cut short, a bad union index deep in a record)
//! leaves parts in the nested builders: a record's first fields, a list's first items.
//! Rather than rebuild the builders, the parts are closed into one value
//! ([`Column::close_partial`]), which becomes a null when the column is finished
//! ([`Column::null_at`]), as a failed message gives in permissive decoding. Nulling a
//! list, map or one-of leaves out what its value held.

use polars_arrow::bitmap::{BitmapBuilder, MutableBitmap};

use super::{Buffers, Column, NULL_ROW};
use crate::decode::positions::{bits_without, retain_except};

impl Column<'_> {
    /// After a value failed halfway, makes the builders whole again without rebuilding
    /// them: what the failed value left in the nested builders becomes one value of this
    /// column, counted like any other, which the caller must null or never hand out.
    /// Returns whether the failed value left anything (nothing is pushed when it did not).
    ///
    /// A column counts a value (`len`, validity) only once it is whole, after its children
    /// took theirs; a buffer of one value (a number, a string) takes it whole or not at all.
    /// So only nested builders hold parts: a record's first fields, a list's first items, a
    /// map's keys ahead of its values.
    pub fn close_partial(&mut self) -> bool {
        let len = self.len;
        let partial = match &mut self.buffers {
            Buffers::List { offsets, item } => {
                let last = *offsets.last().expect("offsets start with 0");
                let partial = item.close_partial() || item.len() as i64 > last;
                if partial {
                    offsets.push(item.len() as i64);
                }
                partial
            },
            Buffers::Map { offsets, keys, values } => {
                let last = *offsets.last().expect("offsets start with 0");
                let partial = values.close_partial() || keys.len() as i64 > last;
                if partial {
                    // A key whose value failed before the value took anything.
                    while values.len() < keys.len() {
                        values.push_null();
                    }
                    offsets.push(keys.len() as i64);
                }
                partial
            },
            Buffers::Record { fields: children, .. } | Buffers::Union { children, .. } => {
                let mut partial = false;
                for child in children.iter_mut() {
                    let closed = child.close_partial();
                    partial |= closed || child.len() > len;
                }
                if partial {
                    children.iter_mut().filter(|c| c.len() == len).for_each(Column::push_null);
                }
                partial
            },
            // Only the branch being decoded can hold parts; the row says which child holds them.
            Buffers::OneOf { children, rows, .. } => match children.iter_mut().position(Column::close_partial) {
                Some(child) => {
                    rows.push(child as u32);
                    true
                },
                None => false,
            },
            _ => false,
        };
        if partial {
            self.push_valid();
        }
        partial
    }

    /// Turns the values at `rows` (ascending) into nulls all the way down, as
    /// [`Column::push_null`] makes them: a record's fields null too, a list or map empty, a
    /// one-of in no branch.
    pub fn null_at(&mut self, rows: &[usize]) {
        self.clear_at(rows, Clear::Null);
    }

    /// Nulls or leaves out the values at `rows` (ascending); what lists, maps and one-ofs
    /// held there is left out either way.
    fn clear_at(&mut self, rows: &[usize], how: Clear) {
        if rows.is_empty() {
            return;
        }
        let remove = how == Clear::Remove;
        match &mut self.buffers {
            Buffers::Null => {},
            Buffers::List { offsets, item } => item.clear_at(&rewrite_offsets(offsets, rows, remove), Clear::Remove),
            Buffers::Map { offsets, keys, values } => {
                let entries = rewrite_offsets(offsets, rows, remove);
                keys.remove_at(&entries);
                values.clear_at(&entries, Clear::Remove);
            },
            Buffers::Record { fields: children, .. } | Buffers::Union { children, .. } => {
                children.iter_mut().for_each(|c| c.clear_at(rows, how))
            },
            Buffers::OneOf { children, rows: branches, .. } => {
                let held = held_by_child(branches, children.len(), rows);
                children.iter_mut().zip(held).for_each(|(c, held)| c.clear_at(&held, Clear::Remove));
                match how {
                    Clear::Null => rows.iter().for_each(|&r| branches[r] = NULL_ROW),
                    Clear::Remove => retain_except(branches, rows, |_| {}),
                }
            },
            // A null keeps its placeholder value.
            _ if !remove => {},
            Buffers::Boolean(bits) => *bits = bits_without(bits, rows),
            Buffers::Int(v) => retain_except(v, rows, |_| {}),
            Buffers::Long(v) | Buffers::TimeMillis(v) | Buffers::TimeMicros(v) => retain_except(v, rows, |_| {}),
            Buffers::Float(v) | Buffers::FloatFromLong(v) => retain_except(v, rows, |_| {}),
            Buffers::Double(v) | Buffers::DoubleFromLong(v) | Buffers::DoubleFromFloat(v) => {
                retain_except(v, rows, |_| {})
            },
            Buffers::Decimal { values, .. } => retain_except(values, rows, |_| {}),
            Buffers::Enum { values, .. } => retain_except(values, rows, |_| {}),
            Buffers::Duration { months, days, millis } => {
                for v in [months, days, millis] {
                    retain_except(v, rows, |_| {});
                }
            },
            buffers => buffers.views_mut().expect("the other buffers are views").remove_at(rows),
        }
        match how {
            Clear::Remove => {
                if let Some(validity) = &mut self.validity {
                    *validity = bits_without(validity, rows);
                }
                self.len -= rows.len();
            },
            Clear::Null if matches!(self.buffers, Buffers::Null) => {},
            Clear::Null => {
                let mut validity = match self.validity.take() {
                    Some(bits) => bits.into_mut(),
                    None => MutableBitmap::from_len_set(self.len),
                };
                rows.iter().for_each(|&r| validity.set(r, false));
                let mut rebuilt = BitmapBuilder::with_capacity(self.len);
                rebuilt.extend_from_bitmap(&validity.freeze());
                self.validity = Some(rebuilt);
            },
        }
    }
}

/// What [`Column::clear_at`] does to its rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Clear {
    Null,
    Remove,
}

/// The items of a list's entries at `rows` (ascending), its `offsets` rewritten without
/// them: those entries left out, or (`remove` false) kept empty.
fn rewrite_offsets(offsets: &mut Vec<i64>, rows: &[usize], remove: bool) -> Vec<usize> {
    let mut items = Vec::new();
    let mut next = rows.iter().copied().peekable();
    // `start`: the entry's original start, kept since its slot may be rewritten already.
    let (mut start, mut end, mut out) = (offsets[0] as usize, 0, 1);
    for i in 0..offsets.len() - 1 {
        let stop = offsets[i + 1] as usize;
        let entry = std::mem::replace(&mut start, stop)..stop;
        if next.peek() == Some(&i) {
            next.next();
            items.extend(entry);
            if remove {
                continue;
            }
        } else {
            end += entry.len();
        }
        offsets[out] = end as i64;
        out += 1;
    }
    offsets.truncate(out);
    items
}

/// For each child of a one-of, the positions in it of the values at `rows` (ascending).
fn held_by_child(branches: &[u32], children: usize, rows: &[usize]) -> Vec<Vec<usize>> {
    let mut held = vec![Vec::new(); children];
    let mut seen = vec![0usize; children];
    let mut next = rows.iter().copied().peekable();
    for (i, &branch) in branches.iter().enumerate() {
        if branch == NULL_ROW {
            if next.peek() == Some(&i) {
                next.next();
            }
            continue;
        }
        let child = branch as usize;
        if next.peek() == Some(&i) {
            next.next();
            held[child].push(seen[child]);
        }
        seen[child] += 1;
    }
    held
}

#[cfg(test)]
mod tests {
    use polars_core::prelude::{PlSmallStr, Series};
    use serde_json::{json, Value};

    use super::*;
    use crate::decode::cursor::Cursor;
    use crate::decode::datum_read_type;
    use crate::schema::parse_schema;
    use crate::schema::AvroSchema;
    use crate::varint::{put_bytes, put_long};

    fn record(fields: Value) -> AvroSchema {
        parse_schema(&json!({"type": "record", "name": "R", "fields": fields}).to_string()).unwrap()
    }
    /// A datum of every nested kind: a list, a map of records holding a nullable string,
    /// a union of a list, and several writer branches read as one (a OneOf) of records.
    fn nested_datum(seed: i64) -> Vec<u8> {
        let mut out = Vec::new();
        put_long(&mut out, seed); // a
        put_long(&mut out, 2); // tags: one block of 2 strings
        put_bytes(&mut out, b"tag-one-longer-than-twelve");
        put_bytes(&mut out, format!("t{seed}").as_bytes());
        put_long(&mut out, 0);
        put_long(&mut out, 2); // m: one block of 2 entries
        for (key, x) in [("k1", 1), ("k2", 2)] {
            put_bytes(&mut out, key.as_bytes());
            put_long(&mut out, x * seed); // x
            put_long(&mut out, 1); // y: the string branch
            put_bytes(&mut out, b"why");
        }
        put_long(&mut out, 0);
        put_long(&mut out, 2); // u: the array branch, 3 longs
        put_long(&mut out, 3);
        for v in [seed, seed + 1, seed + 2] {
            put_long(&mut out, v);
        }
        put_long(&mut out, 0);
        put_long(&mut out, 1); // o: the branch B, its list v of 2 ints
        put_long(&mut out, 2);
        put_long(&mut out, seed * 10);
        put_long(&mut out, seed * 20);
        put_long(&mut out, 0);
        out
    }

    #[test]
    fn a_value_that_fails_anywhere_is_closed_into_one_value_and_the_builders_go_on() {
        // The writer's and the reader's fields, but for the one-of `o`: two records, read as one.
        let fields = |o: Value| {
            record(json!([
                {"name": "a", "type": "long"},
                {"name": "tags", "type": {"type": "array", "items": "string"}},
                {"name": "m", "type": {"type": "map", "values": {"type": "record", "name": "P", "fields": [
                    {"name": "x", "type": "int"}, {"name": "y", "type": ["null", "string"]}]}}},
                {"name": "u", "type": ["null", "int", {"type": "array", "items": "long"}]},
                {"name": "o", "type": o},
            ]))
        };
        let writer = fields(json!([
            {"type": "record", "name": "A", "fields": [{"name": "v", "type": {"type": "array", "items": "long"}}]},
            {"type": "record", "name": "B", "fields": [{"name": "v", "type": {"type": "array", "items": "int"}}]},
            "null"]));
        let reader = fields(json!(["null", {"type": "record", "name": "A", "aliases": ["B"], "fields": [
            {"name": "v", "type": {"type": "array", "items": "long"}}]}]));
        let read = datum_read_type(&writer, Some(&reader)).unwrap();
        let (first, second) = (nested_datum(3), nested_datum(5));
        let series = |column: Column| {
            // SAFETY: the builder makes the physical array of the read type's dtype.
            let array = column.finish().unwrap();
            unsafe { Series::from_chunks_and_dtype_unchecked(PlSmallStr::EMPTY, vec![array], &read.dtype) }
        };
        // What a failed datum between the two gives: a null.
        let mut expected = Column::new(&read);
        expected.decode(&writer, &mut Cursor::new(&first)).unwrap();
        expected.push_null();
        expected.decode(&writer, &mut Cursor::new(&second)).unwrap();
        let expected = series(expected);
        let mut closed_somewhere = false;
        for cut in 0..first.len() {
            let mut column = Column::new(&read);
            column.decode(&writer, &mut Cursor::new(&first)).unwrap();
            column.decode(&writer, &mut Cursor::new(&first[..cut])).expect_err("a datum cut short fails");
            let closed = column.close_partial();
            closed_somewhere |= closed;
            assert_eq!(column.len(), 1 + closed as usize, "cut at byte {cut}");
            if !closed {
                column.push_null();
            }
            column.decode(&writer, &mut Cursor::new(&second)).unwrap();
            // Finishing checks the arrays' structure (a struct's fields' lengths, a list's offsets).
            column.null_at(&[1]);
            let got = series(column);
            assert!(got.equals_missing(&expected), "cut at byte {cut}: {got:?}");
            // Nulled all the way down: a field of the null row is null too.
            let fields = got.struct_().unwrap().fields_as_series();
            assert!(fields.iter().all(|f| f.get(1).unwrap().is_null()), "cut at byte {cut}");
        }
        assert!(closed_somewhere, "some cuts leave parts to close");
        // A cut before anything was taken leaves nothing.
        let mut column = Column::new(&read);
        column.decode(&writer, &mut Cursor::new(&first[..0])).expect_err("nothing to read");
        assert!(!column.close_partial());
    }

    #[test]
    fn dropped_entries_take_their_items_and_emptied_ones_keep_their_place() {
        let mut offsets = vec![0, 2, 2, 5, 6];
        assert_eq!(rewrite_offsets(&mut offsets, &[0, 2], false), [0, 1, 2, 3, 4]);
        assert_eq!(offsets, [0, 0, 0, 0, 1]);
        let mut offsets = vec![0, 2, 2, 5, 6];
        assert_eq!(rewrite_offsets(&mut offsets, &[0, 3], true), [0, 1, 5]);
        assert_eq!(offsets, [0, 0, 3]);
        // Rows 0..5 in children 0, 1, null, 0, 1: rows 3 and 4 are child 0's second value and child 1's second.
        assert_eq!(held_by_child(&[0, 1, NULL_ROW, 0, 1], 2, &[2, 3, 4]), [vec![1], vec![1]]);
    }
}
