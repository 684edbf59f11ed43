//! A small Avro encoder for tests and benchmarks: a type model, values, the binary
//! encoding and container files. It lives outside the crate so the reader is always
//! checked against an encoding it did not produce.

#![allow(dead_code)]

use std::io::Write;

#[derive(Debug, Clone)]
pub enum Ty {
    Bool,
    Int,
    Long,
    Float,
    Double,
    Str,
    Bytes,
    Enum(usize),
    Fixed(usize),
    Array(Box<Ty>),
    Map(Box<Ty>),
    Record(Vec<Ty>),
    Nullable(Box<Ty>, bool),
    /// A union of these branches (no null: that is `Nullable`).
    Union(Vec<Ty>),
}

#[derive(Debug, Clone)]
pub enum Val {
    Null,
    Bool(bool),
    Int(i32),
    Long(i64),
    Float(f32),
    Double(f64),
    Str(String),
    Bytes(Vec<u8>),
    Enum(u32),
    Array(Vec<Val>),
    Map(Vec<(String, Val)>),
    Record(Vec<Val>),
    /// The value of a union's branch.
    Branch(usize, Box<Val>),
}

/// The Avro JSON schema of a type; `n` numbers the named types.
pub fn schema_json(ty: &Ty, n: &mut usize) -> String {
    *n += 1;
    match ty {
        Ty::Bool => "\"boolean\"".into(),
        Ty::Int => "\"int\"".into(),
        Ty::Long => "\"long\"".into(),
        Ty::Float => "\"float\"".into(),
        Ty::Double => "\"double\"".into(),
        Ty::Str => "\"string\"".into(),
        Ty::Bytes => "\"bytes\"".into(),
        Ty::Enum(k) => {
            let symbols: Vec<String> = (0..*k).map(|i| format!("\"S{i}\"")).collect();
            format!(r#"{{"type":"enum","name":"E{n}","symbols":[{}]}}"#, symbols.join(","))
        },
        Ty::Fixed(size) => format!(r#"{{"type":"fixed","name":"F{n}","size":{size}}}"#),
        Ty::Array(item) => format!(r#"{{"type":"array","items":{}}}"#, schema_json(item, n)),
        Ty::Map(value) => format!(r#"{{"type":"map","values":{}}}"#, schema_json(value, n)),
        Ty::Record(fields) => {
            let name = format!("R{n}");
            let fields: Vec<String> = fields
                .iter()
                .enumerate()
                .map(|(i, f)| format!(r#"{{"name":"f{i}","type":{}}}"#, schema_json(f, n)))
                .collect();
            format!(r#"{{"type":"record","name":"{name}","fields":[{}]}}"#, fields.join(","))
        },
        Ty::Union(branches) => {
            let branches: Vec<String> = branches.iter().map(|b| schema_json(b, n)).collect();
            format!("[{}]", branches.join(","))
        },
        Ty::Nullable(inner, null_first) => {
            let inner = schema_json(inner, n);
            if *null_first {
                format!(r#"["null",{inner}]"#)
            } else {
                format!(r#"[{inner},"null"]"#)
            }
        },
    }
}

pub fn zigzag(out: &mut Vec<u8>, v: i64) {
    let mut z = ((v << 1) ^ (v >> 63)) as u64;
    while z >= 0x80 {
        out.push((z as u8 & 0x7f) | 0x80);
        z >>= 7;
    }
    out.push(z as u8);
}

pub fn encode(ty: &Ty, val: &Val, out: &mut Vec<u8>) {
    match (ty, val) {
        (Ty::Bool, Val::Bool(b)) => out.push(*b as u8),
        (Ty::Int, Val::Int(v)) => zigzag(out, i64::from(*v)),
        (Ty::Long, Val::Long(v)) => zigzag(out, *v),
        (Ty::Float, Val::Float(v)) => out.extend_from_slice(&v.to_le_bytes()),
        (Ty::Double, Val::Double(v)) => out.extend_from_slice(&v.to_le_bytes()),
        (Ty::Str, Val::Str(s)) => {
            zigzag(out, s.len() as i64);
            out.extend_from_slice(s.as_bytes());
        },
        (Ty::Bytes, Val::Bytes(b)) => {
            zigzag(out, b.len() as i64);
            out.extend_from_slice(b);
        },
        (Ty::Fixed(_), Val::Bytes(b)) => out.extend_from_slice(b),
        (Ty::Enum(_), Val::Enum(i)) => zigzag(out, i64::from(*i)),
        (Ty::Array(item), Val::Array(items)) => {
            // Odd lengths use a negative count with a byte size, as some writers do.
            if !items.is_empty() {
                let mut body = Vec::new();
                items.iter().for_each(|v| encode(item, v, &mut body));
                if items.len() % 2 == 1 {
                    zigzag(out, -(items.len() as i64));
                    zigzag(out, body.len() as i64);
                } else {
                    zigzag(out, items.len() as i64);
                }
                out.extend_from_slice(&body);
            }
            zigzag(out, 0);
        },
        (Ty::Map(value), Val::Map(entries)) => {
            for (k, v) in entries {
                zigzag(out, 1);
                zigzag(out, k.len() as i64);
                out.extend_from_slice(k.as_bytes());
                encode(value, v, out);
            }
            zigzag(out, 0);
        },
        (Ty::Record(fields), Val::Record(vals)) => fields.iter().zip(vals).for_each(|(f, v)| encode(f, v, out)),
        (Ty::Nullable(inner, null_first), v) => {
            let is_null = matches!(v, Val::Null);
            zigzag(out, if is_null == *null_first { 0 } else { 1 });
            if !is_null {
                encode(inner, v, out);
            }
        },
        (Ty::Union(branches), Val::Branch(i, v)) => {
            zigzag(out, *i as i64);
            encode(&branches[*i], v, out);
        },
        (t, v) => panic!("value {v:?} does not fit {t:?}"),
    }
}

/// A container file: the records split into blocks of `block_rows`, with `codec`.
pub fn container(schema: &str, ty: &Ty, rows: &[Val], block_rows: usize, codec: &str) -> Vec<u8> {
    let sync = [7u8; 16];
    let mut out = b"Obj\x01".to_vec();
    zigzag(&mut out, 2);
    for (k, v) in [("avro.schema", schema), ("avro.codec", codec)] {
        zigzag(&mut out, k.len() as i64);
        out.extend_from_slice(k.as_bytes());
        zigzag(&mut out, v.len() as i64);
        out.extend_from_slice(v.as_bytes());
    }
    zigzag(&mut out, 0);
    out.extend_from_slice(&sync);
    for chunk in rows.chunks(block_rows.max(1)) {
        let mut data = Vec::new();
        chunk.iter().for_each(|r| encode(ty, r, &mut data));
        let data = match codec {
            "null" => data,
            "deflate" => {
                let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
                e.write_all(&data).unwrap();
                e.finish().unwrap()
            },
            "snappy" => {
                let mut c = snap::raw::Encoder::new().compress_vec(&data).unwrap();
                c.extend_from_slice(&crc32fast::hash(&data).to_be_bytes());
                c
            },
            other => panic!("codec {other}"),
        };
        zigzag(&mut out, chunk.len() as i64);
        zigzag(&mut out, data.len() as i64);
        out.extend_from_slice(&data);
        out.extend_from_slice(&sync);
    }
    out
}
