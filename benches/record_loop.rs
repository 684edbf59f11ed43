//! How close the record loop is to its floor (criterion, one thread): our reader beside
//! two decoders written by hand for one record shape (long, double, string, int,
//! boolean, float, long: the comparison's `primitives`), on the same null-codec file.
//!
//! - `specialised`: one function for this shape alone, every field read in line, with no
//!   step to dispatch on: what code generated per schema could reach at best.
//! - `per-field-dispatch`: the same reads, chosen per field from a list of steps, as any
//!   decoder that takes its schema at run time must.
//!
//! Both do every check the reader does (bounds, varint length, int range, booleans,
//! UTF-8, used-up blocks) and build what a Polars column holds (values, 16-byte string
//! views and their data buffer, a boolean per row), sized once from the block counts.
//! Their values are checked against ours before timing.
//!
//!     cargo bench --bench record_loop

#[path = "../tests/common/avro_encoder.rs"]
mod avro_encoder;

use avro_encoder::{container, schema_json, Ty, Val};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use polars_avro::container::ContainerReader;
use polars_avro::read::{AvroReader, Source};
use polars_core::prelude::DataFrame;

const ROWS: usize = 200_000;
const BLOCK_ROWS: usize = 4_000;

fn shape() -> Ty {
    Ty::Record(vec![Ty::Long, Ty::Double, Ty::Str, Ty::Int, Ty::Bool, Ty::Float, Ty::Long])
}

fn record(i: usize) -> Val {
    Val::Record(vec![
        Val::Long(i as i64),
        Val::Double(i as f64 * 0.5),
        // 7 to 27 bytes: inline views and buffered ones.
        Val::Str(format!("name-{}-{}", i % 1000, "x".repeat(i % 17))),
        Val::Int((i % 100_000) as i32 - 50_000),
        Val::Bool(i.is_multiple_of(3)),
        Val::Float(i as f32 * 0.25),
        Val::Long(1_700_000_000_000_000 + i as i64 * 1_000_003),
    ])
}

/// The decoded columns, in Polars' layout.
#[derive(Default)]
struct Columns {
    id: Vec<i64>,
    value: Vec<f64>,
    views: Vec<u128>,
    text: Vec<u8>,
    count: Vec<i32>,
    flag: Vec<bool>,
    ratio: Vec<f32>,
    ts: Vec<i64>,
}

impl Columns {
    fn with_capacity(rows: usize) -> Self {
        Self {
            id: Vec::with_capacity(rows),
            value: Vec::with_capacity(rows),
            views: Vec::with_capacity(rows),
            text: Vec::new(),
            count: Vec::with_capacity(rows),
            flag: Vec::with_capacity(rows),
            ratio: Vec::with_capacity(rows),
            ts: Vec::with_capacity(rows),
        }
    }
}

struct Bad;

/// The bytes of one block, read front to back.
struct Bytes<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Bytes<'_> {
    #[inline(always)]
    fn long(&mut self) -> Result<i64, Bad> {
        let (mut value, mut shift) = (0u64, 0);
        loop {
            let byte = *self.data.get(self.pos).ok_or(Bad)?;
            self.pos += 1;
            value |= u64::from(byte & 0x7f) << shift;
            if byte < 0x80 {
                return Ok(((value >> 1) as i64) ^ -((value & 1) as i64));
            }
            shift += 7;
            if shift > 63 {
                return Err(Bad);
            }
        }
    }

    #[inline(always)]
    fn fixed<const N: usize>(&mut self) -> Result<[u8; N], Bad> {
        let bytes = self.data.get(self.pos..self.pos + N).ok_or(Bad)?;
        self.pos += N;
        Ok(bytes.try_into().unwrap())
    }

    #[inline(always)]
    fn long_into(&mut self, out: &mut Vec<i64>) -> Result<(), Bad> {
        out.push(self.long()?);
        Ok(())
    }

    #[inline(always)]
    fn int_into(&mut self, out: &mut Vec<i32>) -> Result<(), Bad> {
        out.push(i32::try_from(self.long()?).map_err(|_| Bad)?);
        Ok(())
    }

    #[inline(always)]
    fn bool_into(&mut self, out: &mut Vec<bool>) -> Result<(), Bad> {
        match self.fixed::<1>()? {
            [b @ (0 | 1)] => out.push(b == 1),
            _ => return Err(Bad),
        }
        Ok(())
    }

    #[inline(always)]
    fn string_into(&mut self, views: &mut Vec<u128>, text: &mut Vec<u8>) -> Result<(), Bad> {
        let len = usize::try_from(self.long()?).map_err(|_| Bad)?;
        let value = self.data.get(self.pos..self.pos + len).ok_or(Bad)?;
        self.pos += len;
        if !value.is_ascii() && std::str::from_utf8(value).is_err() {
            return Err(Bad);
        }
        // A view: the length, then the value itself (up to 12 bytes) or its first 4
        // bytes, buffer 0 and the offset there.
        let mut raw = [0u8; 16];
        if len <= 12 {
            raw[4..4 + len].copy_from_slice(value);
        } else {
            raw[4..8].copy_from_slice(&value[..4]);
            raw[12..16].copy_from_slice(&(text.len() as u32).to_le_bytes());
            text.extend_from_slice(value);
        }
        views.push(u128::from_le_bytes(raw) | len as u128);
        Ok(())
    }
}

/// Every block's records, each field read in line.
fn specialised(blocks: &[(usize, &[u8])], rows: usize) -> Result<Columns, Bad> {
    let mut c = Columns::with_capacity(rows);
    for (count, data) in blocks {
        let mut b = Bytes { data, pos: 0 };
        for _ in 0..*count {
            b.long_into(&mut c.id)?;
            c.value.push(f64::from_le_bytes(b.fixed()?));
            b.string_into(&mut c.views, &mut c.text)?;
            b.int_into(&mut c.count)?;
            b.bool_into(&mut c.flag)?;
            c.ratio.push(f32::from_le_bytes(b.fixed()?));
            b.long_into(&mut c.ts)?;
        }
        if b.pos != data.len() {
            return Err(Bad);
        }
    }
    Ok(c)
}

#[derive(Clone, Copy)]
enum Step {
    Id,
    Value,
    Name,
    Count,
    Flag,
    Ratio,
    Ts,
}

/// Every block's records, each field's read chosen by its step.
fn per_field_dispatch(blocks: &[(usize, &[u8])], rows: usize, steps: &[Step]) -> Result<Columns, Bad> {
    let mut c = Columns::with_capacity(rows);
    for (count, data) in blocks {
        let mut b = Bytes { data, pos: 0 };
        for _ in 0..*count {
            for step in steps {
                match step {
                    Step::Id => b.long_into(&mut c.id)?,
                    Step::Value => c.value.push(f64::from_le_bytes(b.fixed()?)),
                    Step::Name => b.string_into(&mut c.views, &mut c.text)?,
                    Step::Count => b.int_into(&mut c.count)?,
                    Step::Flag => b.bool_into(&mut c.flag)?,
                    Step::Ratio => c.ratio.push(f32::from_le_bytes(b.fixed()?)),
                    Step::Ts => b.long_into(&mut c.ts)?,
                }
            }
        }
        if b.pos != data.len() {
            return Err(Bad);
        }
    }
    Ok(c)
}

/// A read of the file on disk (mapped, as users' local files are: no copy of it).
fn ours(path: &std::path::Path) -> DataFrame {
    AvroReader::new(Source::from_path(path)).with_n_threads(Some(1)).finish().expect("the bench file reads")
}

/// The hand-written decoders read what ours reads, value for value.
fn check(c: &Columns, df: &DataFrame) {
    let column = |i: usize| df.column(&format!("f{i}")).unwrap().as_materialized_series().clone();
    let strings: Vec<Vec<u8>> = c
        .views
        .iter()
        .map(|view| {
            let (raw, len) = (view.to_le_bytes(), *view as u32 as usize);
            match len <= 12 {
                true => &raw[4..4 + len],
                false => {
                    let offset = u32::from_le_bytes(raw[12..16].try_into().unwrap()) as usize;
                    &c.text[offset..offset + len]
                },
            }
            .to_vec()
        })
        .collect();
    assert!(column(0).i64().unwrap().into_no_null_iter().eq(c.id.iter().copied()));
    assert!(column(1).f64().unwrap().into_no_null_iter().map(f64::to_bits).eq(c.value.iter().map(|v| v.to_bits())));
    assert!(column(2).str().unwrap().iter().map(|v| v.unwrap().as_bytes().to_vec()).eq(strings));
    assert!(column(3).i32().unwrap().into_no_null_iter().eq(c.count.iter().copied()));
    assert!(column(4).bool().unwrap().iter().map(Option::unwrap).eq(c.flag.iter().copied()));
    assert!(column(5).f32().unwrap().into_no_null_iter().map(f32::to_bits).eq(c.ratio.iter().map(|v| v.to_bits())));
    assert!(column(6).i64().unwrap().into_no_null_iter().eq(c.ts.iter().copied()));
}

fn record_loop(c: &mut Criterion) {
    let top = shape();
    let records: Vec<Val> = (0..ROWS).map(record).collect();
    let bytes = container(&schema_json(&top, &mut 0), &top, &records, BLOCK_ROWS, "null");
    let mut reader = ContainerReader::new(std::io::Cursor::new(bytes.clone()), None).expect("the bench file reads");
    let mut raw = Vec::new();
    while let Some(block) = reader.next_block().expect("the bench file reads") {
        raw.push((block.count, block.data));
    }
    let blocks: Vec<(usize, &[u8])> = raw.iter().map(|(count, data)| (*count, &data[..])).collect();
    let steps = [Step::Id, Step::Value, Step::Name, Step::Count, Step::Flag, Step::Ratio, Step::Ts];
    let path = std::env::temp_dir().join(format!("polars-avro-record-loop-{}.avro", std::process::id()));
    std::fs::write(&path, &bytes).expect("the bench file is written");
    let df = ours(&path);
    check(&specialised(&blocks, ROWS).ok().expect("the specialised loop reads the file"), &df);
    check(&per_field_dispatch(&blocks, ROWS, &steps).ok().expect("the dispatching loop reads the file"), &df);

    let mut group = c.benchmark_group("record-loop");
    group.throughput(Throughput::Elements(ROWS as u64));
    group.bench_function("ours", |b| b.iter(|| ours(&path).height()));
    group.bench_function("specialised", |b| b.iter(|| specialised(&blocks, ROWS).ok().map(|c| c.id.len())));
    group.bench_function("per-field-dispatch", |b| {
        b.iter(|| per_field_dispatch(&blocks, ROWS, std::hint::black_box(&steps)).ok().map(|c| c.id.len()))
    });
    group.finish();
    let _ = std::fs::remove_file(path);
}

criterion_group!(benches, record_loop);
criterion_main!(benches);
