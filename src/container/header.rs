//! The header of an object container file: the magic bytes, the metadata map (the writer
//! schema, the codec, the user's entries) and the sync marker. [`HeaderDecoder`] decides it
//! from bytes pushed to it (no I/O), checking each part as it ends; [`Header::read`] feeds
//! it from a stream.

use std::io::BufRead;

use super::codec::Codec;
use super::framer::{hex, overlong};
use super::push::{at_end, ended, feed, Exact, Push, Pushed};
use crate::error::{AvroError, AvroResult};
use crate::varint::{decode_long, VarintError, MAX_VARINT_LEN};

pub const MAGIC: [u8; 4] = *b"Obj\x01";

/// Whether a header metadata key is one the format reserves (`avro.schema`, `avro.codec`
/// and any other `avro.*`): a writer refuses such keys from its user, and what a user
/// reads back as a file's own metadata is the rest ([`Header::user_metadata`]).
pub fn is_reserved_key(key: &str) -> bool {
    key.starts_with("avro.")
}

/// The parsed file header.
#[derive(Debug, Clone)]
pub struct Header {
    /// The writer schema exactly as stored (`avro.schema`).
    pub schema_json: String,
    /// The block codec (`avro.codec`).
    pub codec: Codec,
    /// Every metadata entry in file order, the avro.* ones included.
    pub metadata: Vec<(String, Vec<u8>)>,
    /// The 16-byte sync marker that ends the header and every block.
    pub sync: [u8; 16],
    /// Bytes taken by the header; the first block starts here.
    pub len: u64,
}

impl Header {
    /// Reads and checks the header at the start of `stream` (of `total_len` bytes, when
    /// known), leaving the stream at the first block.
    pub fn read<R: BufRead + ?Sized>(stream: &mut R, total_len: Option<u64>) -> AvroResult<Self> {
        if total_len == Some(0) || at_end(stream)? {
            return Err(
                AvroError::format("not an Avro object container file: the file is empty (0 bytes)").at_offset(0)
            );
        }
        feed(stream, &mut 0, &mut HeaderDecoder::new(total_len))
    }

    /// A header as a reader remembers it from an earlier read of the same version of the
    /// file: its schema and framing, not its metadata (reading blocks needs none of it).
    pub fn remembered(schema_json: String, codec: Codec, sync: [u8; 16], len: u64) -> Self {
        Self { schema_json, codec, metadata: Vec::new(), sync, len }
    }

    /// The metadata entries the file's writer added, in file order: all but the format's
    /// own (`avro.*`), as a rewrite of the file carries them over.
    pub fn user_metadata(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.metadata.iter().filter(|(key, _)| !is_reserved_key(key)).map(|(k, v)| (k.as_str(), v.as_slice()))
    }
}

/// Refuses a start of a file (up to its first 4 bytes) that cannot begin an Avro object
/// container: a stream (a pipe, a device such as `/dev/zero`) is checked before it is read.
pub fn check_magic(start: &[u8]) -> AvroResult<()> {
    let n = start.len().min(MAGIC.len());
    if start[..n] != MAGIC[..n] {
        return Err(AvroError::format(format!(
            "not an Avro object container file: expected the magic bytes 4f 62 6a 01 ('Obj' 1), found {}",
            hex(&start[..n])
        ))
        .at_offset(0));
    }
    Ok(())
}

/// A header decided from the bytes that begin a file, pushed in pieces of any size. Each
/// part is checked once it is whole (the magic bytes once all four are there); it takes
/// no byte past the sync marker. Its errors are those of [`Header::read`], but for a file
/// with no byte at all, which that calls empty.
#[derive(Debug)]
pub struct HeaderDecoder {
    total_len: Option<u64>,
    /// Bytes taken so far: the header begins the file, so also where the next one lies.
    position: u64,
    /// The part being read, and where it begins.
    part: Part,
    part_start: u64,
    /// Where the metadata block being read begins (its entry count), and its entries left.
    block_start: u64,
    entries_left: u64,
    /// The key of the entry being read, once read.
    key: String,
    metadata: Vec<(String, Vec<u8>)>,
}

/// A part of the header, each with its decoder.
#[derive(Debug)]
enum Part {
    Magic(Exact),
    /// A metadata block's entry count, negative when its byte size follows.
    Count(Long),
    BlockSize(Long),
    KeyLen(Long),
    Key(Exact),
    ValueLen(Long),
    Value(Exact),
    Sync(Exact),
}

/// A part as read.
enum Read {
    Magic(Vec<u8>),
    Count(i64),
    BlockSize,
    KeyLen(i64),
    Key(Vec<u8>),
    ValueLen(i64),
    Value(Vec<u8>),
    Sync(Vec<u8>),
}

impl Part {
    fn push(&mut self, bytes: &[u8]) -> Pushed<Read> {
        match self {
            Part::Magic(part) => part.push(bytes).map(Read::Magic),
            Part::Count(part) => part.push(bytes).map(Read::Count),
            Part::BlockSize(part) => part.push(bytes).map(|_| Read::BlockSize),
            Part::KeyLen(part) => part.push(bytes).map(Read::KeyLen),
            Part::Key(part) => part.push(bytes).map(Read::Key),
            Part::ValueLen(part) => part.push(bytes).map(Read::ValueLen),
            Part::Value(part) => part.push(bytes).map(Read::Value),
            Part::Sync(part) => part.push(bytes).map(Read::Sync),
        }
    }

    fn end(&mut self) -> AvroResult<Read> {
        match self {
            Part::Magic(part) => part.end().map(Read::Magic),
            Part::Count(part) => part.end().map(Read::Count),
            Part::BlockSize(part) => part.end().map(|_| Read::BlockSize),
            Part::KeyLen(part) => part.end().map(Read::KeyLen),
            Part::Key(part) => part.end().map(Read::Key),
            Part::ValueLen(part) => part.end().map(Read::ValueLen),
            Part::Value(part) => part.end().map(Read::Value),
            Part::Sync(part) => part.end().map(Read::Sync),
        }
    }

    fn at(&self) -> u64 {
        match self {
            Part::Magic(part) | Part::Key(part) | Part::Value(part) | Part::Sync(part) => part.at(),
            Part::Count(part) | Part::BlockSize(part) | Part::KeyLen(part) | Part::ValueLen(part) => part.at(),
        }
    }
}

impl HeaderDecoder {
    /// A decoder of the header of a file of `total_len` bytes, when known: a length within
    /// the header that claims more is refused before its bytes are read.
    pub fn new(total_len: Option<u64>) -> Self {
        Self {
            total_len,
            position: 0,
            part: Part::Magic(Exact::new(MAGIC.len() as u64, "the magic bytes", 0)),
            part_start: 0,
            block_start: 0,
            entries_left: 0,
            key: String::new(),
            metadata: Vec::new(),
        }
    }

    /// Goes on after a part read whole: the part that follows, or the header once its
    /// marker is read.
    fn next(&mut self, read: Read) -> AvroResult<Option<Header>> {
        let at = self.position;
        let long = |what| Long { what, start: at, bytes: [0; MAX_VARINT_LEN], len: 0 };
        self.part = match read {
            Read::Magic(magic) => {
                check_magic(&magic)?;
                self.block_start = at;
                Part::Count(long("the header's metadata entry count"))
            },
            Read::Count(0) => Part::Sync(Exact::new(16, "the header's sync marker", at)),
            Read::Count(count) if count < 0 => {
                let invalid =
                    || AvroError::format("invalid metadata entry count in the header").at_offset(self.block_start);
                self.entries_left = count.checked_neg().ok_or_else(invalid)? as u64;
                Part::BlockSize(long("the header's metadata block size"))
            },
            Read::Count(count) => {
                self.entries_left = count as u64;
                Part::KeyLen(long("a metadata key"))
            },
            Read::BlockSize => Part::KeyLen(long("a metadata key")),
            Read::KeyLen(len) => Part::Key(Exact::new(self.length(len, "a metadata key")?, "a metadata key", at)),
            Read::Key(key) => {
                let not_utf8 = || AvroError::format("a metadata key in the header is not valid UTF-8");
                self.key = String::from_utf8(key).map_err(|_| not_utf8().at_offset(self.block_start))?;
                Part::ValueLen(long("a metadata value"))
            },
            Read::ValueLen(len) => {
                Part::Value(Exact::new(self.length(len, "a metadata value")?, "a metadata value", at))
            },
            Read::Value(value) => {
                self.metadata.push((std::mem::take(&mut self.key), value));
                self.entries_left -= 1;
                if self.entries_left == 0 {
                    self.block_start = at;
                    Part::Count(long("the header's metadata entry count"))
                } else {
                    Part::KeyLen(long("a metadata key"))
                }
            },
            Read::Sync(sync) => return self.header(sync).map(Some),
        };
        self.part_start = at;
        Ok(None)
    }

    /// The length `len` of `what`, read in the part just ended: not negative, and no more
    /// than the file has left.
    fn length(&self, len: i64, what: &str) -> AvroResult<u64> {
        let start = self.part_start;
        if len < 0 {
            return Err(AvroError::format(format!(
                "expected a non-negative length of {what} in the header, found {len}"
            ))
            .at_offset(start));
        }
        if let Some(remaining) = self.total_len.map(|total| total.saturating_sub(self.position)) {
            if len as u64 > remaining {
                return Err(AvroError::format(format!(
                    "the file ended within the header: {what} claims {len} bytes, only {remaining} remain"
                ))
                .at_offset(start));
            }
        }
        Ok(len as u64)
    }

    /// The header, its marker read: its schema and codec taken from the metadata.
    fn header(&mut self, sync: Vec<u8>) -> AvroResult<Header> {
        let metadata = std::mem::take(&mut self.metadata);
        let sync = sync.try_into().expect("a marker of 16 bytes");
        let schema_bytes = metadata
            .iter()
            .find(|(k, _)| k == "avro.schema")
            .map(|(_, v)| v.clone())
            .ok_or_else(|| AvroError::format("the header has no avro.schema metadata entry").at_offset(4))?;
        let schema_json = String::from_utf8(schema_bytes)
            .map_err(|_| AvroError::schema("the avro.schema metadata entry is not valid UTF-8"))?;
        let codec_name = metadata
            .iter()
            .find(|(k, _)| k == "avro.codec")
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
            .unwrap_or_else(|| "null".to_string());
        let codec = Codec::from_name(&codec_name)?;
        Ok(Header { schema_json, codec, metadata, sync, len: self.position })
    }
}

impl Push for HeaderDecoder {
    type Output = Header;

    fn push(&mut self, bytes: &[u8]) -> Pushed<Header> {
        let mut used = 0;
        loop {
            // A part that needs no bytes (an empty value) ends at once, also at their end.
            let pushed = self.part.push(&bytes[used..]);
            used += pushed.used;
            self.position += pushed.used as u64;
            let next = match pushed.done {
                None => return Pushed::more(used),
                Some(read) => read.and_then(|read| self.next(read)),
            };
            match next {
                Ok(None) => {},
                Ok(Some(header)) => return Pushed::done(used, Ok(header)),
                Err(e) => return Pushed::done(used, Err(e)),
            }
        }
    }

    fn end(&mut self) -> AvroResult<Header> {
        let read = self.part.end().map_err(|e| match self.part {
            Part::Magic(_) => {
                AvroError::format(format!("not an Avro object container file: {}", e.message)).at_offset(0)
            },
            _ => e,
        })?;
        match self.next(read)? {
            Some(header) => Ok(header),
            None => self.end(),
        }
    }

    fn at(&self) -> u64 {
        self.part.at()
    }
}

/// A varint of the header, taking no byte past its last.
#[derive(Debug)]
struct Long {
    what: &'static str,
    start: u64,
    bytes: [u8; MAX_VARINT_LEN],
    len: usize,
}

impl Push for Long {
    type Output = i64;

    fn push(&mut self, bytes: &[u8]) -> Pushed<i64> {
        let take = bytes.len().min(MAX_VARINT_LEN - self.len);
        self.bytes[self.len..self.len + take].copy_from_slice(&bytes[..take]);
        let (held, decoded) = (self.len, decode_long(&self.bytes[..self.len + take]));
        self.len += take;
        match decoded {
            Ok((value, len)) => {
                self.len = len;
                Pushed::done(len - held, Ok(value))
            },
            // Said at its tenth byte, the last a varint may have.
            Err(VarintError::Overlong) => Pushed::done(take, Err(overlong(self.what, self.start).into())),
            Err(VarintError::Truncated) => Pushed::more(take),
        }
    }

    fn end(&mut self) -> AvroResult<i64> {
        Err(ended(self.what, 1, 0, self.at()))
    }

    /// The byte being read: a varint is read a byte at a time, up to its last.
    fn at(&self) -> u64 {
        self.start + self.len as u64
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use crate::varint::put_long;

    pub const SYNC: [u8; 16] = *b"0123456789abcdef";
    pub const SCHEMA: &[u8] = br#""long""#;

    /// A header with these metadata entries, in one map block.
    pub fn header(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        put_long(&mut out, entries.len() as i64);
        for (key, value) in entries {
            put_long(&mut out, key.len() as i64);
            out.extend_from_slice(key.as_bytes());
            put_long(&mut out, value.len() as i64);
            out.extend_from_slice(value);
        }
        put_long(&mut out, 0);
        out.extend_from_slice(&SYNC);
        out
    }

    fn read(bytes: &[u8]) -> AvroResult<Header> {
        Header::read(&mut &bytes[..], Some(bytes.len() as u64))
    }

    /// The header of `bytes` pushed to a decoder `piece` bytes at a time, and the bytes
    /// it took.
    fn pushed(bytes: &[u8], total_len: Option<u64>, piece: usize) -> (AvroResult<Header>, usize) {
        let mut decoder = HeaderDecoder::new(total_len);
        let mut used = 0;
        for chunk in bytes.chunks(piece) {
            let pushed = decoder.push(chunk);
            used += pushed.used;
            if let Some(done) = pushed.done {
                return (done, used);
            }
            assert_eq!(pushed.used, chunk.len(), "a decoder that needs more takes all");
        }
        (decoder.end(), used)
    }

    /// What a header says, in a form that compares: its parts, or its error's kind,
    /// message and offset.
    type Said = Result<(String, Codec, Vec<(String, Vec<u8>)>, [u8; 16], u64), String>;

    fn said(header: AvroResult<Header>) -> Said {
        header
            .map(|h| (h.schema_json, h.codec, h.metadata, h.sync, h.len))
            .map_err(|e| format!("{:?} {} at {:?}", e.kind, e.message, e.offset))
    }

    #[test]
    fn the_header_gives_schema_codec_metadata_sync_and_length() {
        let mut bytes = header(&[("avro.schema", SCHEMA), ("user", b"\x00\xff"), ("avro.codec", b"deflate")]);
        let h = read(&bytes).unwrap();
        assert_eq!(
            (h.schema_json.as_str(), h.codec, h.sync, h.len),
            ("\"long\"", Codec::Deflate, SYNC, bytes.len() as u64)
        );
        let keys: Vec<&str> = h.metadata.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["avro.schema", "user", "avro.codec"]);
        assert_eq!(h.metadata[1].1, b"\x00\xff");
        assert_eq!(h.user_metadata().collect::<Vec<_>>(), [("user", b"\x00\xff".as_slice())]);
        // It leaves the stream at the first block.
        let len = bytes.len();
        bytes.extend_from_slice(b"blocks");
        let mut stream = &bytes[..];
        Header::read(&mut stream, None).unwrap();
        assert_eq!((stream, len), (&b"blocks"[..], h.len as usize));
        // Without avro.codec the codec is null; a map block may give its byte size (a negative count).
        let mut bytes = MAGIC.to_vec();
        put_long(&mut bytes, -1);
        put_long(&mut bytes, 1 + 11 + 1 + SCHEMA.len() as i64);
        put_long(&mut bytes, 11);
        bytes.extend_from_slice(b"avro.schema");
        put_long(&mut bytes, SCHEMA.len() as i64);
        bytes.extend_from_slice(SCHEMA);
        put_long(&mut bytes, 0);
        bytes.extend_from_slice(&SYNC);
        assert_eq!(read(&bytes).unwrap().codec, Codec::Null);
    }

    #[test]
    fn a_bad_header_is_an_error_saying_what_was_expected_and_found() {
        let error = |bytes: &[u8]| read(bytes).expect_err("an error");
        let e = error(b"PAR1 and more");
        assert_eq!((e.kind, e.offset), (ErrorKind::Format, Some(0)));
        assert!(
            e.message.contains("expected the magic bytes 4f 62 6a 01 ('Obj' 1), found 50 41 52 31"),
            "{}",
            e.message
        );
        assert!(error(b"Ob").message.contains("not an Avro object container file: the file ended"));
        assert!(error(b"").message.contains("not an Avro object container file: the file is empty (0 bytes)"));
        // A start alone: refused at its first wrong byte, passed while it may still begin a file.
        assert!(check_magic(b"\0\0").unwrap_err().message.contains("found 00 00"));
        assert!(check_magic(b"Ob").is_ok() && check_magic(b"Obj\x01\x04").is_ok());
        let e = error(&header(&[("user", b"x")]));
        assert_eq!((e.kind, e.message.as_str()), (ErrorKind::Format, "the header has no avro.schema metadata entry"));
        let e = error(&header(&[("avro.schema", SCHEMA), ("avro.codec", b"lz4")]));
        assert_eq!(e.kind, ErrorKind::Codec);
        // A value longer than the file: refused before any byte of it is read.
        let mut bytes = header(&[("avro.schema", SCHEMA)]);
        bytes.truncate(MAGIC.len() + 1 + 1 + 11);
        put_long(&mut bytes, 1 << 40);
        assert!(error(&bytes).message.contains("a metadata value claims 1099511627776 bytes"));
        let mut bytes = MAGIC.to_vec();
        put_long(&mut bytes, 1);
        put_long(&mut bytes, -3);
        assert!(error(&bytes)
            .message
            .contains("expected a non-negative length of a metadata key in the header, found -3"));
    }

    #[test]
    fn a_header_cut_anywhere_says_where_the_file_ended_and_in_what() {
        let bytes = header(&[("avro.schema", SCHEMA), ("k", b"")]);
        let said_at = |cut: usize| said(Header::read(&mut &bytes[..cut], None)).unwrap_err();
        assert_eq!(said_at(0), "Format not an Avro object container file: the file is empty (0 bytes) at Some(0)");
        assert_eq!(
            said_at(2),
            "Format not an Avro object container file: the file ended while reading the magic bytes: \
             expected 4 bytes, found 2 at Some(0)"
        );
        assert_eq!(
            said_at(4),
            "Format the file ended while reading the header's metadata entry count: expected 1 bytes, found 0 at Some(4)"
        );
        assert_eq!(
            said_at(8),
            "Format the file ended while reading a metadata key: expected 11 bytes, found 2 at Some(6)"
        );
        // After the empty value of "k", the next map block's count.
        let count = bytes.len() - 17;
        assert_eq!(
            said_at(count),
            format!(
                "Format the file ended while reading the header's metadata entry count: expected 1 bytes, found 0 \
                 at Some({count})"
            )
        );
        assert_eq!(
            said_at(bytes.len() - 1),
            format!(
                "Format the file ended while reading the header's sync marker: expected 16 bytes, found 15 at Some({})",
                count + 1
            )
        );
        // Within the file's length as told, a length past it is refused first.
        let e = read(&bytes[..8]).unwrap_err();
        assert_eq!(
            (e.message.as_str(), e.offset),
            ("the file ended within the header: a metadata key claims 11 bytes, only 2 remain", Some(5))
        );
    }

    #[test]
    fn fed_in_pieces_of_any_size_a_header_reads_as_fed_whole() {
        let mut long_count = MAGIC.to_vec();
        long_count.extend([0x80; 9]);
        long_count.push(0x02);
        let mut map_blocks = MAGIC.to_vec();
        put_long(&mut map_blocks, -1);
        put_long(&mut map_blocks, 17);
        put_long(&mut map_blocks, 11);
        map_blocks.extend_from_slice(b"avro.schema");
        put_long(&mut map_blocks, SCHEMA.len() as i64);
        map_blocks.extend_from_slice(SCHEMA);
        put_long(&mut map_blocks, 1);
        put_long(&mut map_blocks, 2);
        map_blocks.extend_from_slice(b"\xff\xfe");
        put_long(&mut map_blocks, 0);
        put_long(&mut map_blocks, 0);
        map_blocks.extend_from_slice(&SYNC);
        let mut i64_min = MAGIC.to_vec();
        i64_min.extend([0xff; 9]);
        i64_min.push(0x01);
        let mut headers = vec![
            header(&[("avro.schema", SCHEMA), ("user", b"\x00\xff"), ("", b""), ("avro.codec", b"snappy")]),
            header(&[("avro.schema", b"\xff")]),
            header(&[("avro.schema", SCHEMA), ("avro.codec", b"lz4")]),
            header(&[("user", b"x")]),
            b"PAR1 and more".to_vec(),
            long_count,
            map_blocks,
            i64_min,
        ];
        let whole = headers[0].clone();
        headers.extend((0..whole.len()).map(|cut| whole[..cut].to_vec()));
        for bytes in &headers {
            for total_len in [None, Some(bytes.len() as u64)] {
                let (at_once, used) = pushed(bytes, total_len, bytes.len().max(1));
                let at_once = (said(at_once), used);
                for piece in [1, 2, 3, 7] {
                    let (in_pieces, used) = pushed(bytes, total_len, piece);
                    assert_eq!((said(in_pieces), used), at_once, "{bytes:?} in pieces of {piece}");
                }
            }
        }
        // Bytes past the header are not taken, however they come.
        let mut followed = whole.clone();
        followed.extend_from_slice(b"first block");
        for piece in [1, 5, followed.len()] {
            let (header, used) = pushed(&followed, None, piece);
            assert_eq!((header.unwrap().len, used), (whole.len() as u64, whole.len()), "pieces of {piece}");
        }
    }

    #[test]
    fn a_failure_of_the_source_is_said_to_be_where_the_part_being_read_begins() {
        let bytes = header(&[("avro.schema", SCHEMA)]);
        let mut decoder = HeaderDecoder::new(None);
        assert_eq!(decoder.at(), 0);
        decoder.push(&bytes[..2]);
        assert_eq!(decoder.at(), 0, "within the magic bytes");
        decoder.push(&bytes[2..8]);
        assert_eq!(decoder.at(), 6, "within a key, where it begins");
        decoder.push(&bytes[8..bytes.len() - 3]);
        assert_eq!(decoder.at(), bytes.len() as u64 - 16, "within the marker");
        // A varint is read a byte at a time: the byte not read.
        let mut decoder = HeaderDecoder::new(None);
        let mut long = MAGIC.to_vec();
        long.extend([0x80, 0x80]);
        decoder.push(&long);
        assert_eq!(decoder.at(), 6);
    }
}
