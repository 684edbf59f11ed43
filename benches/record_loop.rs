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
#[path = "common/hand.rs"]
mod hand;

use avro_encoder::{container, schema_json, Ty, Val};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use hand::{Bad, Bytes, Strings};
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
    name: Strings,
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
            name: Strings::with_capacity(rows),
            count: Vec::with_capacity(rows),
            flag: Vec::with_capacity(rows),
            ratio: Vec::with_capacity(rows),
            ts: Vec::with_capacity(rows),
        }
    }
}

/// Every block's records, each field read in line.
fn specialised(blocks: &[(usize, &[u8])], rows: usize) -> Result<Columns, Bad> {
    let mut c = Columns::with_capacity(rows);
    for (count, data) in blocks {
        let mut b = Bytes::new(data);
        for _ in 0..*count {
            c.id.push(b.long()?);
            c.value.push(b.double()?);
            c.name.push(b.string()?);
            c.count.push(b.int()?);
            c.flag.push(b.boolean()?);
            c.ratio.push(b.float()?);
            c.ts.push(b.long()?);
        }
        b.done()?;
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
        let mut b = Bytes::new(data);
        for _ in 0..*count {
            for step in steps {
                match step {
                    Step::Id => c.id.push(b.long()?),
                    Step::Value => c.value.push(b.double()?),
                    Step::Name => c.name.push(b.string()?),
                    Step::Count => c.count.push(b.int()?),
                    Step::Flag => c.flag.push(b.boolean()?),
                    Step::Ratio => c.ratio.push(b.float()?),
                    Step::Ts => c.ts.push(b.long()?),
                }
            }
        }
        b.done()?;
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
    assert!(column(0).i64().unwrap().into_no_null_iter().eq(c.id.iter().copied()));
    assert!(column(1).f64().unwrap().into_no_null_iter().map(f64::to_bits).eq(c.value.iter().map(|v| v.to_bits())));
    assert!(column(2)
        .str()
        .unwrap()
        .iter()
        .map(|v| v.unwrap().as_bytes().to_vec())
        .eq(c.name.values().map(<[u8]>::to_vec)));
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
    check(&specialised(&blocks, ROWS).expect("the specialised loop reads the file"), &df);
    check(&per_field_dispatch(&blocks, ROWS, &steps).expect("the dispatching loop reads the file"), &df);

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
