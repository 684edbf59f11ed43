//! Random schemas and values, written by an Avro encoder that lives only in this test,
//! read back by the crate's reader and compared value by value; then written again by the
//! crate's writer and read back once more.

#[path = "common/avro_encoder.rs"]
mod avro_encoder;

use avro_encoder::{container, schema_json, Ty, Val};
use polars_avro::container::Codec;
use polars_avro::read::{AvroReader, ReadAhead, Source};
use polars_avro::write::{AvroWriter, WriteOptions};
use polars_core::prelude::*;
use proptest::prelude::*;

fn ty_strategy() -> impl Strategy<Value = Ty> {
    let leaf = prop_oneof![
        Just(Ty::Bool),
        Just(Ty::Int),
        Just(Ty::Long),
        Just(Ty::Float),
        Just(Ty::Double),
        Just(Ty::Str),
        Just(Ty::Bytes),
        (1usize..5).prop_map(Ty::Enum),
        (0usize..6).prop_map(Ty::Fixed),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            inner.clone().prop_map(|t| Ty::Array(Box::new(t))),
            inner.clone().prop_map(|t| Ty::Map(Box::new(t))),
            prop::collection::vec(inner.clone(), 1..4).prop_map(Ty::Record),
            (inner, any::<bool>()).prop_filter_map("no nested nullable", |(t, first)| match t {
                Ty::Nullable(..) => None,
                t => Some(Ty::Nullable(Box::new(t), first)),
            }),
        ]
    })
}

fn val_strategy(ty: &Ty) -> BoxedStrategy<Val> {
    match ty {
        Ty::Bool => any::<bool>().prop_map(Val::Bool).boxed(),
        Ty::Int => any::<i32>().prop_map(Val::Int).boxed(),
        Ty::Long => any::<i64>().prop_map(Val::Long).boxed(),
        Ty::Float => any::<f32>().prop_map(Val::Float).boxed(),
        Ty::Double => any::<f64>().prop_map(Val::Double).boxed(),
        Ty::Str => ".{0,12}".prop_map(Val::Str).boxed(),
        Ty::Bytes => prop::collection::vec(any::<u8>(), 0..12).prop_map(Val::Bytes).boxed(),
        Ty::Enum(n) => (0..*n as u32).prop_map(Val::Enum).boxed(),
        Ty::Fixed(n) => prop::collection::vec(any::<u8>(), *n).prop_map(Val::Bytes).boxed(),
        Ty::Array(item) => prop::collection::vec(val_strategy(item), 0..4).prop_map(Val::Array).boxed(),
        Ty::Map(value) => prop::collection::vec(("[a-z]{0,4}", val_strategy(value)), 0..4).prop_map(Val::Map).boxed(),
        Ty::Record(fields) => fields.iter().map(val_strategy).collect::<Vec<_>>().prop_map(Val::Record).boxed(),
        Ty::Nullable(inner, _) => prop_oneof![1 => Just(Val::Null), 3 => val_strategy(inner)].boxed(),
        Ty::Union(_) => unreachable!("the type strategy makes no unions of several types"),
    }
}

/// Compares a column with the expected values; `None` rows are not checked (their
/// parent is null).
fn check(ty: &Ty, s: &Series, expected: &[Option<&Val>]) {
    assert_eq!(s.len(), expected.len(), "length of {}", s.name());
    let inner_ty = match ty {
        Ty::Nullable(inner, _) => inner.as_ref(),
        t => t,
    };
    for (i, e) in expected.iter().enumerate() {
        if let Some(e) = e {
            assert_eq!(s.is_null().get(i).unwrap(), matches!(e, Val::Null), "null at row {i} of {}", s.name());
        }
    }
    let present = |i: usize| expected[i].filter(|v| !matches!(v, Val::Null));
    match inner_ty {
        Ty::Record(fields) => {
            let ca = s.struct_().unwrap();
            for (f, (fty, field)) in fields.iter().zip(ca.fields_as_series()).enumerate() {
                let sub: Vec<Option<&Val>> = (0..s.len())
                    .map(|i| {
                        present(i).map(|v| match v {
                            Val::Record(vals) => &vals[f],
                            other => panic!("{other:?}"),
                        })
                    })
                    .collect();
                check(fty, &field, &sub);
            }
        },
        Ty::Array(item) | Ty::Map(item) => {
            let ca = s.list().unwrap();
            for i in 0..s.len() {
                let Some(v) = present(i) else { continue };
                let inner = ca.get_as_series(i).unwrap();
                match v {
                    Val::Array(items) => check(item, &inner, &items.iter().map(Some).collect::<Vec<_>>()),
                    Val::Map(entries) => {
                        let st = inner.struct_().unwrap();
                        let fields = st.fields_as_series();
                        let keys_ca = fields[0].str().unwrap();
                        let keys: Vec<Option<&str>> = (0..keys_ca.len()).map(|j| keys_ca.get(j)).collect();
                        let want: Vec<Option<&str>> = entries.iter().map(|(k, _)| Some(k.as_str())).collect();
                        assert_eq!(keys, want);
                        check(item, &fields[1], &entries.iter().map(|(_, v)| Some(v)).collect::<Vec<_>>());
                    },
                    other => panic!("{other:?}"),
                }
            }
        },
        _ => {
            for i in 0..s.len() {
                let Some(v) = present(i) else { continue };
                let ok = match v {
                    Val::Bool(b) => s.bool().unwrap().get(i) == Some(*b),
                    Val::Int(x) => s.i32().unwrap().get(i) == Some(*x),
                    Val::Long(x) => s.i64().unwrap().get(i) == Some(*x),
                    Val::Float(x) => s.f32().unwrap().get(i).map(f32::to_bits) == Some(x.to_bits()),
                    Val::Double(x) => s.f64().unwrap().get(i).map(f64::to_bits) == Some(x.to_bits()),
                    Val::Str(x) => s.str().unwrap().get(i) == Some(x.as_str()),
                    Val::Bytes(x) => s.binary().unwrap().get(i) == Some(x.as_slice()),
                    Val::Enum(x) => {
                        let phys = s.to_physical_repr().cast(&DataType::UInt32).unwrap();
                        phys.u32().unwrap().get(i) == Some(*x)
                    },
                    other => panic!("unexpected {other:?}"),
                };
                assert!(ok, "row {i} of column {}: expected {v:?}, found {:?}", s.name(), s.get(i));
            }
        },
    }
}

/// A container file of the rows as records of the field types, and its schema JSON.
fn file_of(tys: &[Ty], rows: &[Vec<Val>], block_rows: usize, codec: &str) -> (String, Vec<u8>) {
    let top = Ty::Record(tys.to_vec());
    let schema = schema_json(&top, &mut 0);
    let records: Vec<Val> = rows.iter().map(|r| Val::Record(r.clone())).collect();
    let bytes = container(&schema, &top, &records, block_rows, codec);
    (schema, bytes)
}

fn table() -> impl Strategy<Value = (Vec<Ty>, Vec<Vec<Val>>, usize, &'static str)> {
    prop::collection::vec(ty_strategy(), 1..5).prop_flat_map(|tys| {
        let row = tys.iter().map(val_strategy).collect::<Vec<_>>();
        (
            Just(tys),
            prop::collection::vec(row, 0..40),
            1usize..17,
            prop_oneof![Just("null"), Just("deflate"), Just("snappy")],
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn random_schemas_round_trip((tys, rows, block_rows, codec) in table()) {
        let (_, bytes) = file_of(&tys, &rows, block_rows, codec);
        let df = AvroReader::new(Source::from_bytes(bytes)).with_batch_size(5).finish().unwrap();
        prop_assert_eq!(df.height(), rows.len());
        prop_assert_eq!(df.width(), tys.len());
        for (c, ty) in tys.iter().enumerate() {
            let column = df.columns()[c].as_materialized_series().clone();
            let expected: Vec<Option<&Val>> = rows.iter().map(|r| Some(&r[c])).collect();
            check(ty, &column, &expected);
        }
    }

    #[test]
    fn projection_and_n_rows_agree_with_full_read((tys, rows, block_rows, codec) in table(), n in 0usize..50) {
        let (_, bytes) = file_of(&tys, &rows, block_rows, codec);
        let last = format!("f{}", tys.len() - 1);
        let df = AvroReader::new(Source::from_bytes(bytes))
            .with_columns(Some(vec![last]))
            .with_n_rows(Some(n))
            .with_batch_size(3)
            .finish()
            .unwrap();
        let k = n.min(rows.len());
        prop_assert_eq!(df.shape(), (k, 1));
        let expected: Vec<Option<&Val>> = rows[..k].iter().map(|r| r.last()).collect();
        check(tys.last().unwrap(), df.columns()[0].as_materialized_series(), &expected);
    }

    #[test]
    fn parallel_reads_match_sequential_reads(
        (tys, rows, block_rows, codec) in table(),
        batch_size in 1usize..20,
        threads in 2usize..5,
        max_batches in 1usize..4,
        max_bytes in 1usize..4096,
        n_rows in prop::option::of(0usize..50),
    ) {
        let (_, bytes) = file_of(&tys, &rows, block_rows, codec);
        let read = |threads: usize, read_ahead: Option<ReadAhead>| {
            AvroReader::new(Source::from_bytes(bytes.clone()))
                .with_batch_size(batch_size)
                .with_n_rows(n_rows)
                .with_n_threads(Some(threads))
                .with_read_ahead(read_ahead)
                .finish()
                .unwrap()
        };
        let sequential = read(1, None);
        let parallel = read(threads, Some(ReadAhead { max_batches, max_bytes }));
        prop_assert_eq!(sequential.height(), n_rows.map_or(rows.len(), |n| n.min(rows.len())));
        prop_assert!(sequential.equals_missing(&parallel));
    }

    #[test]
    fn written_frames_read_back_the_same(
        (tys, rows, block_rows, codec) in table(),
        with_file_schema in any::<bool>(),
        threads in 1usize..4,
        sync_interval in 1usize..300,
        cut in 0usize..40,
    ) {
        let (schema, bytes) = file_of(&tys, &rows, block_rows, codec);
        let df = AvroReader::new(Source::from_bytes(bytes))
            .finish()
            .unwrap();
        let options = WriteOptions {
            codec: Codec::from_name(codec).unwrap(),
            // The file's own schema (enums, fixed, unions in either order), or one derived from the frame.
            schema_json: with_file_schema.then(|| schema.clone()),
            sync_interval,
            n_threads: Some(threads),
            ..WriteOptions::default()
        };
        let mut writer = AvroWriter::for_frame(Vec::new(), &df, options).unwrap();
        // Two writes, so that rows short of a block carry over from one to the next.
        let cut = cut.min(df.height());
        writer.write(&df.slice(0, cut)).unwrap();
        writer.write(&df.slice(cut as i64, df.height() - cut)).unwrap();
        let back = AvroReader::new(Source::from_bytes(writer.finish().unwrap())).finish().unwrap();
        prop_assert!(df.equals_missing(&back), "{df:?}\n{back:?}");
    }

    #[test]
    fn resolving_against_the_writer_schema_changes_nothing((tys, rows, block_rows, codec) in table()) {
        let (schema, bytes) = file_of(&tys, &rows, block_rows, codec);
        let plain = AvroReader::new(Source::from_bytes(bytes.clone())).finish().unwrap();
        let reader = std::sync::Arc::new(polars_avro::schema::parse_schema(&schema).unwrap());
        let resolved = AvroReader::new(Source::from_bytes(bytes)).with_reader_schema(Some(reader)).finish().unwrap();
        prop_assert!(plain.equals_missing(&resolved), "{plain:?}\n{resolved:?}");
    }
}
