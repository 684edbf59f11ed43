//! Single datums, each a whole message (a Kafka value): every value of a column encoded
//! as one datum of the schema, after a framing prefix. The inverse of `decode::datum`.

use polars_arrow::array::{BinaryViewArray, MutableBinaryViewArray};
use polars_core::prelude::Series;

use super::plan::plan;
use crate::error::{AvroError, AvroResult};
use crate::frame_type::FrameType;
use crate::schema::AvroSchema;

/// Each value of `column` (Polars type `ft`) as `prefix` and one datum of `schema`; a
/// null value gives a null message.
pub fn encode_datums(
    schema: &AvroSchema,
    ft: &FrameType,
    column: &Series,
    prefix: &[u8],
) -> AvroResult<BinaryViewArray> {
    let physical = column.to_physical_repr();
    let mut out = MutableBinaryViewArray::<[u8]>::with_capacity(column.len());
    let mut message = Vec::new();
    let mut row = 0;
    let plan = plan(schema, schema.root, ft, "")?;
    for chunk in physical.chunks() {
        let encoder = plan.bind(chunk.as_ref())?;
        for i in 0..chunk.len() {
            if chunk.is_null(i) {
                out.push_null();
            } else {
                message.clear();
                message.extend_from_slice(prefix);
                encoder.encode(i, &mut message).map_err(|failure| {
                    AvroError::encode(format!("cannot encode the value {}", failure.0)).at_batch_row(row, column.len())
                })?;
                out.push_value(&message);
            }
            row += 1;
        }
    }
    Ok(out.into())
}

#[cfg(test)]
mod tests {
    use polars_core::prelude::NamedFrom;

    use super::*;
    use crate::error::ErrorKind;
    use crate::schema::parse_schema;

    fn messages(array: &BinaryViewArray) -> Vec<Option<Vec<u8>>> {
        array.iter().map(|m| m.map(<[u8]>::to_vec)).collect()
    }

    #[test]
    fn each_value_is_its_prefix_and_one_datum_and_a_null_no_message() {
        let schema = parse_schema(r#""long""#).unwrap();
        let ft = FrameType::Int { signed: true, bits: 64 };
        let column = Series::new("v".into(), &[Some(1i64), None, Some(-65)]);
        let encoded = encode_datums(&schema, &ft, &column, &[0xaa]).unwrap();
        assert_eq!(messages(&encoded), [Some(vec![0xaa, 0x02]), None, Some(vec![0xaa, 0x81, 0x01])]);
        let bare = encode_datums(&schema, &ft, &column, &[]).unwrap();
        assert_eq!(messages(&bare)[0], Some(vec![0x02]));
    }

    #[test]
    fn a_value_that_does_not_fit_names_its_row_across_chunks() {
        let schema = parse_schema(r#""int""#).unwrap();
        let ft = FrameType::Int { signed: true, bits: 64 };
        let mut column = Series::new("v".into(), &[1i64, 2]);
        column.append(&Series::new("v".into(), &[3i64, 1 << 40])).unwrap();
        let error = encode_datums(&schema, &ft, &column, &[]).unwrap_err();
        assert_eq!(error.kind, ErrorKind::Encode);
        assert_eq!((error.row, error.batch_rows), (Some(3), Some(4)));
        assert!(error.message.starts_with("cannot encode the value "), "{error}");
        assert!(error.message.contains("1099511627776 is beyond the range of an Avro int"), "{error}");
        // A type the schema cannot take is refused before any value.
        let error = encode_datums(&schema, &FrameType::String, &Series::new("s".into(), &["a"]), &[]).unwrap_err();
        assert_eq!((error.kind, error.row), (ErrorKind::Schema, None));
    }
}
