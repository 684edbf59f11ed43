//! Decoder throughput per type family (criterion): each case is a container file of
//! 100,000 records in blocks of 4,000 (the null codec, so only decoding is measured),
//! read on one thread. A last group reads a snappy file on one thread and on every
//! thread, through the read-ahead pipeline, beside the floor: reading the blocks and
//! decompressing them, with no decoding.
//!
//!     cargo bench --bench decode

#[path = "../tests/common/avro_encoder.rs"]
mod avro_encoder;

use avro_encoder::{container, schema_json, Ty, Val};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use polars_avro::container::ContainerReader;
use polars_avro::read::{default_threads, AvroReader, Source};

const ROWS: usize = 100_000;
const BLOCK_ROWS: usize = 4_000;

/// A deterministic value of `ty` for row `i` (no randomness: runs are comparable).
fn value(ty: &Ty, i: usize) -> Val {
    match ty {
        Ty::Bool => Val::Bool(i.is_multiple_of(3)),
        Ty::Int => Val::Int((i % 100_000) as i32 - 50_000),
        Ty::Long => Val::Long(1_700_000_000_000_000 + i as i64 * 7),
        Ty::Float => Val::Float(i as f32 * 0.25),
        Ty::Double => Val::Double(i as f64 * 0.5),
        Ty::Str => Val::Str(format!("name-{}-{}", i % 1000, "x".repeat(i % 17))),
        Ty::Bytes => Val::Bytes((0..(i % 24) as u8).collect()),
        Ty::Enum(n) => Val::Enum((i % n) as u32),
        Ty::Fixed(n) => Val::Bytes(vec![(i % 251) as u8; *n]),
        Ty::Array(item) => Val::Array((0..i % 5).map(|j| value(item, i + j)).collect()),
        Ty::Map(v) => Val::Map((0..i % 4).map(|j| (format!("k{j}"), value(v, i + j))).collect()),
        Ty::Record(fields) => Val::Record(fields.iter().enumerate().map(|(j, f)| value(f, i + j)).collect()),
        Ty::Union(_) => unreachable!("no family has a union of several types"),
        Ty::Nullable(inner, _) => {
            // 30% nulls.
            if i % 10 < 3 {
                Val::Null
            } else {
                value(inner, i)
            }
        },
    }
}

fn file(fields: Vec<Ty>, codec: &str, rows: usize) -> Vec<u8> {
    let top = Ty::Record(fields);
    let schema = schema_json(&top, &mut 0);
    let records: Vec<Val> = (0..rows).map(|i| value(&top, i)).collect();
    container(&schema, &top, &records, BLOCK_ROWS, codec)
}

fn nullable(ty: Ty) -> Ty {
    Ty::Nullable(Box::new(ty), true)
}

fn families() -> Vec<(&'static str, Vec<Ty>)> {
    vec![
        ("long", vec![Ty::Long]),
        ("int", vec![Ty::Int]),
        ("double", vec![Ty::Double]),
        ("boolean", vec![Ty::Bool]),
        ("string", vec![Ty::Str]),
        ("bytes", vec![Ty::Bytes]),
        ("enum", vec![Ty::Enum(5)]),
        ("fixed16", vec![Ty::Fixed(16)]),
        ("nullable-long-30pct", vec![nullable(Ty::Long)]),
        ("nullable-string-30pct", vec![nullable(Ty::Str)]),
        ("array-of-int", vec![Ty::Array(Box::new(Ty::Int))]),
        ("map-of-long", vec![Ty::Map(Box::new(Ty::Long))]),
        ("record", vec![Ty::Record(vec![Ty::Long, Ty::Str, Ty::Double])]),
        ("mixed-6", vec![Ty::Long, Ty::Double, Ty::Str, nullable(Ty::Int), Ty::Bool, Ty::Long]),
    ]
}

fn read(bytes: &[u8], threads: usize, rows: usize) -> usize {
    let df = AvroReader::new(Source::from_bytes(bytes.to_vec()))
        .with_n_threads(Some(threads))
        .finish()
        .expect("the bench file reads");
    assert_eq!(df.height(), rows);
    df.height()
}

/// Reads every block and decompresses it: what any reader must do, the floor.
fn read_and_decompress(bytes: &[u8]) -> usize {
    let source = std::io::Cursor::new(bytes.to_vec());
    let mut container = ContainerReader::new(source, Some(bytes.len() as u64)).expect("the bench file reads");
    let codec = container.header.codec;
    let mut buffer = Vec::new();
    let mut total = 0;
    while let Some(block) = container.next_block().expect("the bench file reads") {
        codec.decompress(&block.data, &mut buffer).expect("the bench file decompresses");
        total += buffer.len();
    }
    total
}

fn decode_per_family(c: &mut Criterion) {
    let mut group = c.benchmark_group("decode");
    group.throughput(Throughput::Elements(ROWS as u64));
    for (name, fields) in families() {
        let bytes = file(fields, "null", ROWS);
        group.bench_with_input(BenchmarkId::from_parameter(name), &bytes, |b, bytes| b.iter(|| read(bytes, 1, ROWS)));
    }
    group.finish();
}

fn pipeline(c: &mut Criterion) {
    let mut group = c.benchmark_group("pipeline");
    group.throughput(Throughput::Elements(ROWS as u64));
    let (_, fields) = families().pop().expect("mixed-6 is last");
    let bytes = file(fields, "snappy", ROWS);
    group.bench_with_input(BenchmarkId::new("mixed-6-snappy", "floor"), &bytes, |b, bytes| {
        b.iter(|| read_and_decompress(bytes))
    });
    for threads in [1, default_threads()] {
        group.bench_with_input(BenchmarkId::new("mixed-6-snappy", threads), &bytes, |b, bytes| {
            b.iter(|| read(bytes, threads, ROWS))
        });
    }
    group.finish();

    // A file of one block: the pipeline must cost nothing over the sequential path.
    let mut group = c.benchmark_group("one-block");
    group.throughput(Throughput::Elements(BLOCK_ROWS as u64));
    let (_, fields) = families().pop().expect("mixed-6 is last");
    let bytes = file(fields, "snappy", BLOCK_ROWS);
    for threads in [1, default_threads()] {
        group.bench_with_input(BenchmarkId::new("mixed-6-snappy", threads), &bytes, |b, bytes| {
            b.iter(|| read(bytes, threads, BLOCK_ROWS))
        });
    }
    group.finish();
}

criterion_group!(benches, decode_per_family, pipeline);
criterion_main!(benches);
