//! How a message's bytes wrap its Avro datum, and which writer schema the wrapping names:
//! raw (nothing), Confluent's wire format (magic 0x00 and a 4-byte big-endian schema id,
//! or magic 0x01 and a 16-byte schema GUID), and the specification's single-object
//! encoding (0xC3 0x01 and the 8-byte little-endian CRC-64-AVRO fingerprint).

use std::fmt;

/// The framings a column of messages can be in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// A bare binary datum; the writer schema is given (or comes from an id column).
    Raw,
    /// Confluent Schema Registry's wire format.
    Confluent,
    /// Avro single-object encoding.
    SingleObject,
    /// Each message as its prefix says: single-object, Confluent, else raw.
    Auto,
}

impl Framing {
    /// The framings by their names in the Python API.
    pub const NAMES: [(&'static str, Framing); 4] = [
        ("raw", Framing::Raw),
        ("confluent", Framing::Confluent),
        ("single_object", Framing::SingleObject),
        ("auto", Framing::Auto),
    ];

    /// The framing of this name in the Python API.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::NAMES.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
    }

    /// Its name in the Python API.
    pub fn name(self) -> &'static str {
        Self::NAMES.iter().find(|(_, f)| *f == self).map_or("?", |(n, _)| n)
    }
}

/// What names a message's writer schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SchemaKey {
    /// A registry's integer id: Confluent's 4-byte id, or an id column's value.
    Id(i64),
    /// A Confluent schema GUID (magic byte 0x01).
    Guid([u8; 16]),
    /// The CRC-64-AVRO fingerprint of single-object encoding, as the signed long Java
    /// and the specification's test vectors write it.
    Fingerprint(i64),
}

impl fmt::Display for SchemaKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SchemaKey::Id(id) => write!(f, "schema id {id}"),
            SchemaKey::Guid(guid) => write!(f, "schema GUID {}", guid_text(guid)),
            SchemaKey::Fingerprint(fp) => write!(f, "schema fingerprint {fp}"),
        }
    }
}

/// A GUID in the canonical 8-4-4-4-12 form.
pub fn guid_text(guid: &[u8; 16]) -> String {
    let hex: String = guid.iter().map(|b| format!("{b:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
}

/// The framing of one message: its writer schema's key (None for a raw datum) and where
/// its datum starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Framed {
    /// What names the writer schema; None for a raw datum.
    pub key: Option<SchemaKey>,
    /// The offset of the datum in the message.
    pub datum_start: usize,
}

const CONFLUENT_ID_MAGIC: u8 = 0x00;
const CONFLUENT_GUID_MAGIC: u8 = 0x01;
const SINGLE_OBJECT_MAGIC: [u8; 2] = [0xC3, 0x01];

/// Reads a message's framing; the error says what was expected and what was found.
pub fn read_framing(message: &[u8], framing: Framing) -> Result<Framed, String> {
    let raw = Framed { key: None, datum_start: 0 };
    match framing {
        Framing::Raw => Ok(raw),
        Framing::Confluent => confluent(message).ok_or_else(|| {
            found(message, "the Confluent magic byte 0x00 and a 4-byte schema id, or 0x01 and a 16-byte schema GUID")
        }),
        Framing::SingleObject => single_object(message)
            .ok_or_else(|| found(message, "the single-object marker C3 01 and an 8-byte schema fingerprint")),
        Framing::Auto => Ok(single_object(message).or_else(|| confluent(message)).unwrap_or(raw)),
    }
}

fn confluent(message: &[u8]) -> Option<Framed> {
    match *message.first()? {
        CONFLUENT_ID_MAGIC => {
            let id: [u8; 4] = message.get(1..5)?.try_into().ok()?;
            Some(Framed { key: Some(SchemaKey::Id(i64::from(i32::from_be_bytes(id)))), datum_start: 5 })
        },
        CONFLUENT_GUID_MAGIC => {
            let guid: [u8; 16] = message.get(1..17)?.try_into().ok()?;
            Some(Framed { key: Some(SchemaKey::Guid(guid)), datum_start: 17 })
        },
        _ => None,
    }
}

fn single_object(message: &[u8]) -> Option<Framed> {
    if message.get(..2)? != SINGLE_OBJECT_MAGIC {
        return None;
    }
    let fingerprint: [u8; 8] = message.get(2..10)?.try_into().ok()?;
    Some(Framed { key: Some(SchemaKey::Fingerprint(i64::from_le_bytes(fingerprint))), datum_start: 10 })
}

/// "expected ..., found ..." with the message's first bytes in hex.
fn found(message: &[u8], expected: &str) -> String {
    let shown: Vec<String> = message.iter().take(8).map(|b| format!("{b:02X}")).collect();
    let what = match message.len() {
        0 => "an empty message".to_string(),
        n if n <= 8 => format!("{n} bytes: {}", shown.join(" ")),
        n => format!("{n} bytes starting {} ...", shown.join(" ")),
    };
    format!("expected {expected}, found {what}")
}

/// The prefix that frames a datum written with the schema `key` names.
pub fn frame_prefix(framing: Framing, key: Option<SchemaKey>) -> Result<Vec<u8>, String> {
    match (framing, key) {
        (Framing::Raw, _) => Ok(Vec::new()),
        (Framing::Confluent, Some(SchemaKey::Id(id))) => {
            let id = i32::try_from(id).map_err(|_| format!("a Confluent schema id fits in 4 bytes, found {id}"))?;
            let mut out = vec![CONFLUENT_ID_MAGIC];
            out.extend_from_slice(&id.to_be_bytes());
            Ok(out)
        },
        (Framing::Confluent, Some(SchemaKey::Guid(guid))) => {
            let mut out = vec![CONFLUENT_GUID_MAGIC];
            out.extend_from_slice(&guid);
            Ok(out)
        },
        (Framing::SingleObject, Some(SchemaKey::Fingerprint(fp))) => {
            let mut out = SINGLE_OBJECT_MAGIC.to_vec();
            out.extend_from_slice(&fp.to_le_bytes());
            Ok(out)
        },
        (Framing::Confluent, _) => Err("framing='confluent' needs the schema_id= the registry gave the schema".into()),
        (Framing::SingleObject, _) => Err("the single-object framing needs the schema's fingerprint".into()),
        (Framing::Auto, _) => Err("messages are written in one framing: raw, confluent or single_object".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_framing_finds_its_key_and_datum() {
        let confluent = [0, 0, 0, 1, 2, 42];
        assert_eq!(
            read_framing(&confluent, Framing::Confluent),
            Ok(Framed { key: Some(SchemaKey::Id(258)), datum_start: 5 })
        );
        let mut guid = vec![1];
        guid.extend(1..=16u8);
        guid.push(7);
        let framed = read_framing(&guid, Framing::Auto).unwrap();
        assert_eq!(framed.datum_start, 17);
        assert_eq!(framed.key.unwrap().to_string(), "schema GUID 01020304-0506-0708-090a-0b0c0d0e0f10");
        let single = [0xC3, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2];
        assert_eq!(
            read_framing(&single, Framing::Auto),
            Ok(Framed { key: Some(SchemaKey::Fingerprint(-1)), datum_start: 10 })
        );
        assert_eq!(read_framing(b"\x02abc", Framing::Auto), Ok(Framed { key: None, datum_start: 0 }));
    }

    #[test]
    fn a_wrong_or_short_prefix_says_what_it_found() {
        let err = read_framing(b"{\"a\": 1}", Framing::Confluent).unwrap_err();
        assert!(err.contains("0x00") && err.contains("8 bytes: 7B 22 61 22 3A 20 31 7D"), "{err}");
        let err = read_framing(&[0, 0, 1], Framing::Confluent).unwrap_err();
        assert!(err.contains("3 bytes: 00 00 01"), "{err}");
        assert!(read_framing(&[], Framing::SingleObject).unwrap_err().contains("an empty message"));
    }

    #[test]
    fn prefixes_read_back_as_their_keys() {
        for (framing, key) in [
            (Framing::Confluent, SchemaKey::Id(7)),
            (Framing::Confluent, SchemaKey::Guid([9; 16])),
            (Framing::SingleObject, SchemaKey::Fingerprint(-5)),
        ] {
            let prefix = frame_prefix(framing, Some(key)).unwrap();
            assert_eq!(read_framing(&prefix, framing).unwrap().key, Some(key));
        }
        assert!(frame_prefix(Framing::Confluent, Some(SchemaKey::Id(1 << 40))).is_err());
    }

    #[test]
    fn framings_are_found_by_their_python_names() {
        for (name, framing) in Framing::NAMES {
            assert_eq!((Framing::from_name(name), framing.name()), (Some(framing), name));
        }
        for unknown in ["Raw", "", "single-object", "confluent "] {
            assert_eq!(Framing::from_name(unknown), None, "{unknown}");
        }
    }

    #[test]
    fn a_confluent_id_is_a_signed_four_byte_number() {
        for id in [-1i64, i64::from(i32::MIN), i64::from(i32::MAX), 0] {
            let prefix = frame_prefix(Framing::Confluent, Some(SchemaKey::Id(id))).unwrap();
            assert_eq!(prefix.len(), 5);
            assert_eq!(
                read_framing(&prefix, Framing::Confluent),
                Ok(Framed { key: Some(SchemaKey::Id(id)), datum_start: 5 })
            );
        }
        assert_eq!(frame_prefix(Framing::Confluent, Some(SchemaKey::Id(-1))).unwrap(), [0, 0xff, 0xff, 0xff, 0xff]);
        let error = frame_prefix(Framing::Confluent, Some(SchemaKey::Id(i64::from(i32::MAX) + 1))).unwrap_err();
        assert_eq!(error, "a Confluent schema id fits in 4 bytes, found 2147483648");
    }

    #[test]
    fn a_prefix_needs_the_key_its_framing_names() {
        for (framing, key, wanted) in [
            (Framing::Confluent, None, "schema_id="),
            (Framing::Confluent, Some(SchemaKey::Fingerprint(1)), "schema_id="),
            (Framing::SingleObject, None, "fingerprint"),
            (Framing::SingleObject, Some(SchemaKey::Id(1)), "fingerprint"),
            (Framing::Auto, Some(SchemaKey::Id(1)), "written in one framing"),
        ] {
            let error = frame_prefix(framing, key).unwrap_err();
            assert!(error.contains(wanted), "{framing:?} {key:?}: {error}");
        }
        // A raw datum has no prefix, whatever names its schema.
        assert_eq!(frame_prefix(Framing::Raw, Some(SchemaKey::Fingerprint(3))), Ok(Vec::new()));
    }

    #[test]
    fn a_short_prefix_is_a_raw_datum_to_auto_and_an_error_to_its_framing() {
        let raw = Ok(Framed { key: None, datum_start: 0 });
        for (message, framing) in [
            (&[0xC3, 0x01, 0x00][..], Framing::SingleObject),
            (&[0x00, 0x00, 0x01][..], Framing::Confluent),
            (&[0x01; 16][..], Framing::Confluent),
        ] {
            assert_eq!(read_framing(message, Framing::Auto), raw, "{message:?}");
            assert!(read_framing(message, framing).is_err(), "{message:?}");
        }
        let error = read_framing(&[9; 10], Framing::SingleObject).unwrap_err();
        assert!(error.ends_with("found 10 bytes starting 09 09 09 09 09 09 09 09 ..."), "{error}");
        assert_eq!(SchemaKey::Id(5).to_string(), "schema id 5");
        assert_eq!(SchemaKey::Fingerprint(-5).to_string(), "schema fingerprint -5");
    }
}
