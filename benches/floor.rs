//! The floor of each case of `benches/compare.py`: what a read of that file could cost at
//! best on this machine. It maps the file, walks its blocks, decompresses every block with
//! the codec's own crate, and decodes the records with a decoder written by hand for the
//! file's one record shape: every field read in line, no step chosen at run time. The
//! decoders make the reader's checks (bounds, varint length, int range, booleans, UTF-8,
//! used-up blocks, snappy's checksum) and build what a Polars column holds (values, 16-byte
//! string views and their data buffer, validity bitmaps, list offsets), into fresh memory.
//!
//! Before timing, the floor's columns are checked against ours (`AvroReader`, the same
//! columns, rows and filter), value for value. Each batch of blocks is decoded into columns
//! of its own; on n threads a pool takes each batch as soon as the walk has found it.
//!
//!     cargo bench --bench floor -- FILE SHAPE QUERY [PARAM] [--threads 1,2] [--runs 9] [--only floor|ours]
//!
//! SHAPE is the dataset's schema in `benches/workloads.py` (primitives, wide, nulls,
//! nested, logical); QUERY is the workload's (read, streaming, select, filter, head,
//! first, count). One JSON line: the floor's median milliseconds per thread count, and
//! ours' (through the Rust API, in the same process; for filter and count that reads every
//! row, as the Rust API takes no predicate and has no count of its own). `--only` times
//! one side (the other is null), so that a profiler of the process sees that side alone.

use std::collections::BTreeMap;

use polars_arrow::array::ListArray;
use polars_arrow::bitmap::{Bitmap, BitmapBuilder};
use polars_avro::read::{AvroReader, Source};
use polars_core::prelude::*;

#[path = "common/hand.rs"]
mod hand;

#[path = "common/container.rs"]
mod container;
#[path = "common/timing.rs"]
mod timing;

use container::{decompress, Batch, Codec, Walker};
use hand::{Bad, Bytes, Strings};
use timing::median_ms;

// --- Polars' layouts -----------------------------------------------------------------

/// A ["null", T] column: its values (a default where null) and its validity.
struct Nullable<T> {
    values: T,
    valid: BitmapBuilder,
}

impl<T> Nullable<T> {
    fn new(values: T, rows: usize) -> Self {
        Self { values, valid: BitmapBuilder::with_capacity(rows) }
    }
}

/// List offsets, starting at 0.
fn offsets(rows: usize) -> Vec<i64> {
    let mut offsets = Vec::with_capacity(rows + 1);
    offsets.push(0);
    offsets
}

// --- the check: the floor's columns as Series ------------------------------------------

fn numbers<T: PolarsNumericType>(name: &str, values: Vec<T::Native>, valid: Option<BitmapBuilder>) -> Series {
    ChunkedArray::<T>::from_vec_validity(name.into(), values, valid.map(BitmapBuilder::freeze)).into_series()
}

fn booleans(name: &str, values: BitmapBuilder, valid: Option<BitmapBuilder>) -> Series {
    let valid: Option<Bitmap> = valid.map(BitmapBuilder::freeze);
    let values: Bitmap = values.freeze();
    BooleanChunked::from_iter_options(
        name.into(),
        values.iter().enumerate().map(|(i, v)| valid.as_ref().is_none_or(|m| m.get_bit(i)).then_some(v)),
    )
    .into_series()
}

fn strings(name: &str, values: &Strings, valid: Option<BitmapBuilder>) -> Series {
    let valid: Option<Bitmap> = valid.map(BitmapBuilder::freeze);
    StringChunked::from_iter_options(
        name.into(),
        values.values().enumerate().map(|(i, v)| {
            valid.as_ref().is_none_or(|m| m.get_bit(i)).then(|| std::str::from_utf8(v).expect("checked as read"))
        }),
    )
    .into_series()
}

fn binaries(name: &str, values: &Strings, valid: BitmapBuilder) -> Series {
    let valid: Bitmap = valid.freeze();
    BinaryChunked::from_iter_options(
        name.into(),
        values.values().enumerate().map(|(i, v)| valid.get_bit(i).then_some(v)),
    )
    .into_series()
}

fn list(name: &str, offsets: Vec<i64>, items: Series) -> Series {
    let items = items.rechunk();
    let dtype = DataType::List(Box::new(items.dtype().clone()));
    let values = items.to_arrow(0, CompatLevel::newest());
    let arrow = ListArray::<i64>::default_datatype(values.dtype().clone());
    let array = ListArray::<i64>::new(arrow, offsets.try_into().expect("offsets grow"), values, None);
    // SAFETY: the dtype is the list of the items' dtype, which the array holds.
    unsafe { Series::from_chunks_and_dtype_unchecked(name.into(), vec![Box::new(array)], &dtype) }
}

fn record(name: &str, fields: &[Series]) -> Series {
    StructChunked::from_series(name.into(), fields[0].len(), fields.iter()).expect("fields of one length").into_series()
}

// --- the shapes ------------------------------------------------------------------------

/// A decoder written for one record shape: `block` appends the first `rows` records of a
/// decompressed block; `series` gives what was decoded, in Polars' physical types.
trait Shape: Send + Sized {
    fn block(&mut self, b: &mut Bytes, rows: usize) -> Result<(), Bad>;
    fn series(self) -> Vec<Series>;
}

/// `primitives`: long, double, string, int, boolean, float, timestamp-micros.
struct Primitives {
    id: Vec<i64>,
    value: Vec<f64>,
    name: Strings,
    count: Vec<i32>,
    flag: BitmapBuilder,
    ratio: Vec<f32>,
    ts: Vec<i64>,
    /// The predicate workload's `count < 1000`: only the rows it keeps are pushed.
    filter: bool,
}

impl Primitives {
    fn new(rows: usize, filter: bool) -> Self {
        // A filter keeps 1% of the rows: room for its rows grows as needed.
        let rows = if filter { 0 } else { rows };
        Self {
            id: Vec::with_capacity(rows),
            value: Vec::with_capacity(rows),
            name: Strings::with_capacity(rows),
            count: Vec::with_capacity(rows),
            flag: BitmapBuilder::with_capacity(rows),
            ratio: Vec::with_capacity(rows),
            ts: Vec::with_capacity(rows),
            filter,
        }
    }
}

impl Shape for Primitives {
    fn block(&mut self, b: &mut Bytes, rows: usize) -> Result<(), Bad> {
        if self.filter {
            for _ in 0..rows {
                let (id, value, name, count) = (b.long()?, b.double()?, b.string()?, b.int()?);
                let (flag, ratio, ts) = (b.boolean()?, b.float()?, b.long()?);
                if count < 1000 {
                    self.id.push(id);
                    self.value.push(value);
                    self.name.push(name);
                    self.count.push(count);
                    self.flag.push(flag);
                    self.ratio.push(ratio);
                    self.ts.push(ts);
                }
            }
            return Ok(());
        }
        for _ in 0..rows {
            self.id.push(b.long()?);
            self.value.push(b.double()?);
            b.string_into(&mut self.name)?;
            self.count.push(b.int()?);
            self.flag.push(b.boolean()?);
            self.ratio.push(b.float()?);
            self.ts.push(b.long()?);
        }
        Ok(())
    }

    fn series(self) -> Vec<Series> {
        vec![
            numbers::<Int64Type>("id", self.id, None),
            numbers::<Float64Type>("value", self.value, None),
            strings("name", &self.name, None),
            numbers::<Int32Type>("count", self.count, None),
            booleans("flag", self.flag, None),
            numbers::<Float32Type>("ratio", self.ratio, None),
            numbers::<Int64Type>("ts", self.ts, None),
        ]
    }
}

/// `nulls`: a long, then ["null", T] of int, long, double, float, string, boolean, bytes and
/// timestamp-micros.
struct Nulls {
    id: Vec<i64>,
    int: Nullable<Vec<i32>>,
    long: Nullable<Vec<i64>>,
    double: Nullable<Vec<f64>>,
    float: Nullable<Vec<f32>>,
    string: Nullable<Strings>,
    boolean: Nullable<BitmapBuilder>,
    bytes: Nullable<Strings>,
    ts: Nullable<Vec<i64>>,
}

impl Nulls {
    fn new(rows: usize) -> Self {
        Self {
            id: Vec::with_capacity(rows),
            int: Nullable::new(Vec::with_capacity(rows), rows),
            long: Nullable::new(Vec::with_capacity(rows), rows),
            double: Nullable::new(Vec::with_capacity(rows), rows),
            float: Nullable::new(Vec::with_capacity(rows), rows),
            string: Nullable::new(Strings::with_capacity(rows), rows),
            boolean: Nullable::new(BitmapBuilder::with_capacity(rows), rows),
            bytes: Nullable::new(Strings::with_capacity(rows), rows),
            ts: Nullable::new(Vec::with_capacity(rows), rows),
        }
    }
}

/// Reads a ["null", T] field into a `Nullable`: the branch, then `$push` (which reads the
/// value and pushes it) or the default.
macro_rules! nullable {
    ($b:ident, $column:expr, $push:expr, $default:expr) => {{
        let present = $b.present()?;
        $column.valid.push(present);
        if present {
            $push;
        } else {
            $column.values.push($default);
        }
    }};
}

impl Shape for Nulls {
    fn block(&mut self, b: &mut Bytes, rows: usize) -> Result<(), Bad> {
        for _ in 0..rows {
            self.id.push(b.long()?);
            nullable!(b, self.int, self.int.values.push(b.int()?), 0);
            nullable!(b, self.long, self.long.values.push(b.long()?), 0);
            nullable!(b, self.double, self.double.values.push(b.double()?), 0.0);
            nullable!(b, self.float, self.float.values.push(b.float()?), 0.0);
            nullable!(b, self.string, b.string_into(&mut self.string.values)?, b"");
            nullable!(b, self.boolean, self.boolean.values.push(b.boolean()?), false);
            nullable!(b, self.bytes, self.bytes.values.push(b.bytes()?), b"");
            nullable!(b, self.ts, self.ts.values.push(b.long()?), 0);
        }
        Ok(())
    }

    fn series(self) -> Vec<Series> {
        vec![
            numbers::<Int64Type>("id", self.id, None),
            numbers::<Int32Type>("opt_int", self.int.values, Some(self.int.valid)),
            numbers::<Int64Type>("opt_long", self.long.values, Some(self.long.valid)),
            numbers::<Float64Type>("opt_double", self.double.values, Some(self.double.valid)),
            numbers::<Float32Type>("opt_float", self.float.values, Some(self.float.valid)),
            strings("opt_string", &self.string.values, Some(self.string.valid)),
            booleans("opt_boolean", self.boolean.values, Some(self.boolean.valid)),
            binaries("opt_bytes", &self.bytes.values, self.bytes.valid),
            numbers::<Int64Type>("opt_ts", self.ts.values, Some(self.ts.valid)),
        ]
    }
}

/// `wide`: 100 fields, ten groups of int, long, double, string, boolean, then the same five
/// as ["null", T]. `want` names the fields kept (a projection): the others are read past.
struct Wide {
    groups: Vec<WideGroup>,
    want: [bool; 100],
}

/// One group's ten columns: index 0 the plain kinds, 1 the nullable ones.
struct WideGroup {
    int: [Vec<i32>; 2],
    long: [Vec<i64>; 2],
    double: [Vec<f64>; 2],
    string: [Strings; 2],
    boolean: [BitmapBuilder; 2],
    valid: [BitmapBuilder; 5],
}

impl Wide {
    fn new(rows: usize, want: [bool; 100]) -> Self {
        let group = |g: usize| {
            // Room for the kept fields only.
            let rows = |k: usize| if want[g * 10 + k] { rows } else { 0 };
            WideGroup {
                int: [Vec::with_capacity(rows(0)), Vec::with_capacity(rows(5))],
                long: [Vec::with_capacity(rows(1)), Vec::with_capacity(rows(6))],
                double: [Vec::with_capacity(rows(2)), Vec::with_capacity(rows(7))],
                string: [Strings::with_capacity(rows(3)), Strings::with_capacity(rows(8))],
                boolean: [BitmapBuilder::with_capacity(rows(4)), BitmapBuilder::with_capacity(rows(9))],
                valid: std::array::from_fn(|k| BitmapBuilder::with_capacity(rows(5 + k))),
            }
        };
        Self { groups: (0..10).map(group).collect(), want }
    }

    fn name(i: usize) -> String {
        let kind = ["int", "long", "double", "string", "boolean"][i % 5];
        format!("c{i:02}_{}{kind}", if i % 10 >= 5 { "opt_" } else { "" })
    }
}

/// A field of the wide shape: `$push` reads and pushes it when kept, `$skip` reads past it
/// otherwise.
macro_rules! wide_field {
    ($want:expr, $push:expr, $skip:expr) => {
        if $want {
            $push;
        } else {
            $skip;
        }
    };
}

/// A nullable field of the wide shape: its branch, then as `wide_field!`, with `$default`
/// pushed for a null.
macro_rules! wide_nullable {
    ($b:ident, $want:expr, $valid:expr, $push:expr, $skip:expr, $default:expr) => {{
        let present = $b.present()?;
        if $want {
            $valid.push(present);
            if present {
                $push;
            } else {
                $default;
            }
        } else if present {
            $skip;
        }
    }};
}

impl Shape for Wide {
    fn block(&mut self, b: &mut Bytes, rows: usize) -> Result<(), Bad> {
        let want = &self.want;
        for _ in 0..rows {
            for (g, c) in self.groups.iter_mut().enumerate() {
                let w = &want[g * 10..g * 10 + 10];
                wide_field!(w[0], c.int[0].push(b.int()?), b.long()?);
                wide_field!(w[1], c.long[0].push(b.long()?), b.long()?);
                wide_field!(w[2], c.double[0].push(b.double()?), b.take(8)?);
                wide_field!(w[3], b.string_into(&mut c.string[0])?, b.bytes()?);
                wide_field!(w[4], c.boolean[0].push(b.boolean()?), b.boolean()?);
                wide_nullable!(b, w[5], c.valid[0], c.int[1].push(b.int()?), b.long()?, c.int[1].push(0));
                wide_nullable!(b, w[6], c.valid[1], c.long[1].push(b.long()?), b.long()?, c.long[1].push(0));
                wide_nullable!(b, w[7], c.valid[2], c.double[1].push(b.double()?), b.take(8)?, c.double[1].push(0.0));
                wide_nullable!(
                    b,
                    w[8],
                    c.valid[3],
                    b.string_into(&mut c.string[1])?,
                    b.bytes()?,
                    c.string[1].push(b"")
                );
                wide_nullable!(
                    b,
                    w[9],
                    c.valid[4],
                    c.boolean[1].push(b.boolean()?),
                    b.boolean()?,
                    c.boolean[1].push(false)
                );
            }
        }
        Ok(())
    }

    fn series(self) -> Vec<Series> {
        let mut out = Vec::new();
        for (g, c) in self.groups.into_iter().enumerate() {
            let [int, int_opt] = c.int;
            let [long, long_opt] = c.long;
            let [double, double_opt] = c.double;
            let [string, string_opt] = c.string;
            let [boolean, boolean_opt] = c.boolean;
            let [v_int, v_long, v_double, v_string, v_boolean] = c.valid;
            let name = |k: usize| Wide::name(g * 10 + k);
            let columns = [
                numbers::<Int32Type>(&name(0), int, None),
                numbers::<Int64Type>(&name(1), long, None),
                numbers::<Float64Type>(&name(2), double, None),
                strings(&name(3), &string, None),
                booleans(&name(4), boolean, None),
                numbers::<Int32Type>(&name(5), int_opt, Some(v_int)),
                numbers::<Int64Type>(&name(6), long_opt, Some(v_long)),
                numbers::<Float64Type>(&name(7), double_opt, Some(v_double)),
                strings(&name(8), &string_opt, Some(v_string)),
                booleans(&name(9), boolean_opt, Some(v_boolean)),
            ];
            out.extend(columns.into_iter().enumerate().filter(|(k, _)| self.want[g * 10 + k]).map(|(_, s)| s));
        }
        out
    }
}

/// `nested`: a long, a record of two doubles and a string, a record holding a string, an
/// int and a record of two doubles, an array of ints, an array of strings, a map of longs
/// and an array of records (string, int, double).
struct Nested {
    id: Vec<i64>,
    x: Vec<f64>,
    y: Vec<f64>,
    label: Strings,
    street: Strings,
    zip: Vec<i32>,
    lat: Vec<f64>,
    lon: Vec<f64>,
    scores: Vec<i64>,
    score: Vec<i32>,
    tags: Vec<i64>,
    tag: Strings,
    attrs: Vec<i64>,
    key: Strings,
    value: Vec<i64>,
    items: Vec<i64>,
    sku: Strings,
    qty: Vec<i32>,
    price: Vec<f64>,
}

impl Nested {
    fn new(rows: usize) -> Self {
        Self {
            id: Vec::with_capacity(rows),
            x: Vec::with_capacity(rows),
            y: Vec::with_capacity(rows),
            label: Strings::with_capacity(rows),
            street: Strings::with_capacity(rows),
            zip: Vec::with_capacity(rows),
            lat: Vec::with_capacity(rows),
            lon: Vec::with_capacity(rows),
            scores: offsets(rows),
            score: Vec::new(),
            tags: offsets(rows),
            tag: Strings::default(),
            attrs: offsets(rows),
            key: Strings::default(),
            value: Vec::new(),
            items: offsets(rows),
            sku: Strings::default(),
            qty: Vec::new(),
            price: Vec::new(),
        }
    }
}

impl Shape for Nested {
    fn block(&mut self, b: &mut Bytes, rows: usize) -> Result<(), Bad> {
        for _ in 0..rows {
            self.id.push(b.long()?);
            self.x.push(b.double()?);
            self.y.push(b.double()?);
            b.string_into(&mut self.label)?;
            b.string_into(&mut self.street)?;
            self.zip.push(b.int()?);
            self.lat.push(b.double()?);
            self.lon.push(b.double()?);
            b.each_item(|b| {
                self.score.push(b.int()?);
                Ok(())
            })?;
            self.scores.push(self.score.len() as i64);
            b.each_item(|b| b.string_into(&mut self.tag))?;
            self.tags.push(self.tag.views.len() as i64);
            b.each_item(|b| {
                b.string_into(&mut self.key)?;
                self.value.push(b.long()?);
                Ok(())
            })?;
            self.attrs.push(self.value.len() as i64);
            b.each_item(|b| {
                b.string_into(&mut self.sku)?;
                self.qty.push(b.int()?);
                self.price.push(b.double()?);
                Ok(())
            })?;
            self.items.push(self.qty.len() as i64);
        }
        Ok(())
    }

    fn series(self) -> Vec<Series> {
        let point = [
            numbers::<Float64Type>("x", self.x, None),
            numbers::<Float64Type>("y", self.y, None),
            strings("label", &self.label, None),
        ];
        let geo = [numbers::<Float64Type>("lat", self.lat, None), numbers::<Float64Type>("lon", self.lon, None)];
        let address =
            [strings("street", &self.street, None), numbers::<Int32Type>("zip", self.zip, None), record("geo", &geo)];
        let entry = [strings("key", &self.key, None), numbers::<Int64Type>("value", self.value, None)];
        let item = [
            strings("sku", &self.sku, None),
            numbers::<Int32Type>("qty", self.qty, None),
            numbers::<Float64Type>("price", self.price, None),
        ];
        vec![
            numbers::<Int64Type>("id", self.id, None),
            record("point", &point),
            record("address", &address),
            list("scores", self.scores, numbers::<Int32Type>("", self.score, None)),
            list("tags", self.tags, strings("", &self.tag, None)),
            list("attrs", self.attrs, record("", &entry)),
            list("items", self.items, record("", &item)),
        ]
    }
}

/// `logical`: date, time-millis, time-micros, timestamp-millis, timestamp-micros, a
/// decimal on bytes, a uuid on string, local-timestamp-micros; times become nanoseconds,
/// as Polars' Time holds them.
struct Logical {
    date: Vec<i32>,
    time_ms: Vec<i64>,
    time_us: Vec<i64>,
    ts_ms: Vec<i64>,
    ts_us: Vec<i64>,
    amount: Vec<i128>,
    uuid: Strings,
    local_ts_us: Vec<i64>,
}

impl Logical {
    fn new(rows: usize) -> Self {
        Self {
            date: Vec::with_capacity(rows),
            time_ms: Vec::with_capacity(rows),
            time_us: Vec::with_capacity(rows),
            ts_ms: Vec::with_capacity(rows),
            ts_us: Vec::with_capacity(rows),
            amount: Vec::with_capacity(rows),
            uuid: Strings::with_capacity(rows),
            local_ts_us: Vec::with_capacity(rows),
        }
    }
}

/// A big-endian two's-complement decimal of up to 16 bytes, of at most `precision`
/// digits: shifted in a byte at a time (a copy into a 16-byte buffer calls memmove).
#[inline(always)]
fn unscaled(raw: &[u8], limit: u128) -> Result<i128, Bad> {
    if raw.len() > 16 {
        return Err(Bad("a decimal wider than 16 bytes"));
    }
    let sign = if raw.first().is_some_and(|b| b & 0x80 != 0) { -1 } else { 0 };
    let value = raw.iter().fold(sign, |value: i128, &byte| (value << 8) | i128::from(byte));
    match value.unsigned_abs() < limit {
        true => Ok(value),
        false => Err(Bad("a decimal wider than its precision")),
    }
}

/// 10^10: `amount` is a decimal(10, 2).
const AMOUNT_LIMIT: u128 = 10_000_000_000;

impl Shape for Logical {
    fn block(&mut self, b: &mut Bytes, rows: usize) -> Result<(), Bad> {
        for _ in 0..rows {
            self.date.push(b.int()?);
            self.time_ms.push(i64::from(b.int()?) * 1_000_000);
            self.time_us.push(b.long()?.checked_mul(1000).ok_or(Bad("a time out of range"))?);
            self.ts_ms.push(b.long()?);
            self.ts_us.push(b.long()?);
            self.amount.push(unscaled(b.bytes()?, AMOUNT_LIMIT)?);
            b.string_into(&mut self.uuid)?;
            self.local_ts_us.push(b.long()?);
        }
        Ok(())
    }

    fn series(self) -> Vec<Series> {
        vec![
            numbers::<Int32Type>("date", self.date, None),
            numbers::<Int64Type>("time_ms", self.time_ms, None),
            numbers::<Int64Type>("time_us", self.time_us, None),
            numbers::<Int64Type>("ts_ms", self.ts_ms, None),
            numbers::<Int64Type>("ts_us", self.ts_us, None),
            numbers::<Int128Type>("amount", self.amount, None),
            strings("uuid", &self.uuid, None),
            numbers::<Int64Type>("local_ts_us", self.local_ts_us, None),
        ]
    }
}

// --- a read --------------------------------------------------------------------------

/// What the case asks of the file.
#[derive(Clone)]
struct Case {
    path: std::path::PathBuf,
    shape: String,
    query: String,
    /// The row limit of `head` and `first`; the columns of `select`.
    param: Option<String>,
}

impl Case {
    fn limit(&self) -> Option<usize> {
        matches!(self.query.as_str(), "head" | "first")
            .then(|| self.param.as_deref().unwrap_or("1000").parse().unwrap())
    }

    fn columns(&self) -> Option<Vec<String>> {
        (self.query == "select").then(|| {
            let text = self.param.as_deref().expect("select names its columns");
            text.split(',').map(|c| c.trim_matches(|ch: char| " []'\"".contains(ch)).to_string()).collect()
        })
    }
}

/// Decompresses and decodes a batch into fresh columns.
fn decode_batch<S: Shape>(codec: Codec, batch: &Batch, make: &impl Fn(usize) -> S) -> Result<S, Bad> {
    let (mut shape, mut buffer, mut left) = (make(batch.rows), Vec::new(), batch.rows);
    for block in &batch.blocks {
        let data = decompress(codec, block.data, &mut buffer)?;
        let mut b = Bytes::new(data);
        let take = block.count.min(left);
        shape.block(&mut b, take)?;
        if take == block.count {
            b.done()?;
        }
        left -= take;
    }
    Ok(shape)
}

/// One read of the case: the decoded batches (none for `count`) and the record count. On
/// one thread the walk and the batches take turns; with a pool each batch starts on it as
/// soon as the walk has found its blocks, as ours' read-ahead does.
fn read_once<S: Shape>(
    case: &Case,
    pool: Option<&rayon::ThreadPool>,
    make: &(impl Fn(usize) -> S + Sync),
) -> Result<(usize, Vec<S>), Bad> {
    let file = std::fs::File::open(&case.path).expect("the file opens");
    // SAFETY: the benchmark's files are not changed while read.
    let map = unsafe { memmap2::Mmap::map(&file) }.expect("the file maps");
    let mut walker = Walker::new(&map, case.limit())?;
    let codec = walker.codec;
    let mut records = 0;
    if case.query == "count" {
        while let Some(batch) = walker.next_batch()? {
            records += batch.rows;
        }
        return Ok((records, Vec::new()));
    }
    let Some(pool) = pool else {
        let mut decoded = Vec::new();
        while let Some(batch) = walker.next_batch()? {
            records += batch.rows;
            decoded.push(decode_batch(codec, &batch, make)?);
        }
        return Ok((records, decoded));
    };
    let (sender, receiver) = std::sync::mpsc::channel();
    pool.in_place_scope(|scope| -> Result<(), Bad> {
        let mut index = 0;
        while let Some(batch) = walker.next_batch()? {
            records += batch.rows;
            let sender = sender.clone();
            scope.spawn(move |_| drop(sender.send((index, decode_batch(codec, &batch, make)))));
            index += 1;
        }
        Ok(())
    })?;
    drop(sender);
    let mut decoded: Vec<(usize, Result<S, Bad>)> = receiver.into_iter().collect();
    decoded.sort_by_key(|(index, _)| *index);
    Ok((records, decoded.into_iter().map(|(_, d)| d).collect::<Result<_, _>>()?))
}

/// Ours on `threads` threads, asked the case's question: the frame the floor must equal.
fn ours(case: &Case, threads: usize) -> DataFrame {
    let mut reader = AvroReader::new(Source::from_path(&case.path)).with_n_threads(Some(threads));
    reader = reader.with_columns(case.columns()).with_n_rows(case.limit());
    let df = reader.finish().expect("ours reads the file");
    if case.query != "filter" {
        return df;
    }
    let mask = df.column("count").unwrap().i32().unwrap().lt(1000);
    df.filter(&mask).unwrap()
}

/// The floor's columns equal ours, value for value (in physical types: the floor builds
/// the values, Polars' logical types only name them).
fn check<S: Shape>(case: &Case, decoded: Vec<S>, records: usize) {
    let df = ours(case, 1);
    if case.query == "count" {
        assert_eq!(records, df.height(), "the floor counts the records ours reads");
        return;
    }
    let mut parts = decoded.into_iter().map(Shape::series);
    let mut columns = parts.next().expect("a run at least");
    for part in parts {
        for (column, more) in columns.iter_mut().zip(part) {
            column.append(&more).unwrap();
        }
    }
    assert_eq!(columns.len(), df.width(), "the floor decodes ours' columns");
    for (floor, theirs) in columns.into_iter().zip(df.columns()) {
        assert_eq!(floor.name(), theirs.name(), "the floor decodes ours' columns, in order");
        let theirs = theirs.to_physical_repr();
        let floor = Column::from(floor);
        assert!(
            floor.equals_missing(&theirs),
            "the floor's {} differs from ours:\nfloor {floor:?}\nours {theirs:?}",
            floor.name()
        );
    }
}

/// A pool of `threads` threads for the floor's batches; none for one thread, where the
/// walk and the batches take turns.
fn pool(threads: usize) -> Option<rayon::ThreadPool> {
    (threads > 1).then(|| rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap())
}

/// The floor's and ours' median milliseconds per thread count.
/// The floor's and ours' medians of one thread count (None: not timed, see `--only`).
type Medians = (Option<f64>, Option<f64>);
type Times = BTreeMap<usize, Medians>;

/// The sides a run times: the floor, ours, or both.
#[derive(Clone, Copy, PartialEq)]
enum Sides {
    Both,
    Floor,
    Ours,
}

fn measure<S: Shape>(
    case: &Case,
    (threads, runs, sides): (&[usize], usize, Sides),
    make: impl Fn(usize) -> S + Sync,
) -> Times {
    let read = |pool: Option<&rayon::ThreadPool>| read_once(case, pool, &make).expect("the floor reads the file");
    let (records, decoded) = read(None);
    check(case, decoded, records);
    let mut times = Times::new();
    for &n in threads {
        let pool = pool(n);
        if pool.is_some() {
            let (records, decoded) = read(pool.as_ref());
            check(case, decoded, records);
        }
        let floor = (sides != Sides::Ours).then(|| median_ms(runs, || read(pool.as_ref())));
        // Ours through the Rust API, in this process: beside the floor in the same run.
        let ours = (sides != Sides::Floor).then(|| median_ms(runs, || ours(case, n)));
        times.insert(n, (floor, ours));
    }
    times
}

fn main() {
    let mut args = std::env::args().skip(1).filter(|a| a != "--bench");
    let mut positional = Vec::new();
    let (mut threads, mut runs, mut sides) = (vec![1, 2], 9, Sides::Both);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--threads" => {
                threads =
                    args.next().expect("--threads N,M").split(',').map(|n| n.parse().expect("a thread count")).collect()
            },
            "--runs" => runs = args.next().expect("--runs N").parse().expect("a run count"),
            "--only" => {
                sides = match args.next().as_deref() {
                    Some("floor") => Sides::Floor,
                    Some("ours") => Sides::Ours,
                    other => panic!("--only floor or --only ours, found {other:?}"),
                }
            },
            _ => positional.push(arg),
        }
    }
    let [path, shape, query, param @ ..] = &positional[..] else {
        eprintln!("usage: floor FILE SHAPE QUERY [PARAM] [--threads 1,2] [--runs 9] [--only floor|ours]");
        std::process::exit(2);
    };
    let case = Case { path: path.into(), shape: shape.clone(), query: query.clone(), param: param.first().cloned() };
    let ms = match (case.shape.as_str(), case.query.as_str()) {
        ("primitives", query) => {
            let filter = query == "filter";
            measure(&case, (&threads, runs, sides), |rows| Primitives::new(rows, filter))
        },
        ("wide", _) => {
            let columns = case.columns();
            let want: [bool; 100] =
                std::array::from_fn(|i| columns.as_ref().is_none_or(|c| c.contains(&Wide::name(i))));
            measure(&case, (&threads, runs, sides), |rows| Wide::new(rows, want))
        },
        ("nulls", _) => measure(&case, (&threads, runs, sides), Nulls::new),
        ("nested", _) => measure(&case, (&threads, runs, sides), Nested::new),
        ("logical", _) => measure(&case, (&threads, runs, sides), Logical::new),
        (shape, _) => panic!("no floor for the shape {shape}"),
    };
    let json = |pick: fn(&Medians) -> Option<f64>| {
        let cell = |ms: Option<f64>| ms.map_or("null".to_string(), |ms| format!("{ms:.3}"));
        let cells: Vec<String> = ms.iter().map(|(n, t)| format!("\"{n}\": {}", cell(pick(t)))).collect();
        format!("{{{}}}", cells.join(", "))
    };
    println!("{{\"floor_ms\": {}, \"ours_ms\": {}}}", json(|t| t.0), json(|t| t.1));
}
