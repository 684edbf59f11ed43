//! A column of messages decoded into one column of values: each message's framing names
//! its writer schema, each writer schema is resolved once into the reader schema, and the
//! datums of each writer are decoded into their own column builders, put back in row
//! order at the end. Rows are split across threads for large batches.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use polars_core::prelude::{DataType, IdxCa, IdxSize, IntoSeries, NamedFrom, PlSmallStr, Series, StringChunked};
use rayon::prelude::*;

use super::framing::{read_framing, Framing, SchemaKey};
use crate::decode::{datum_read_type, in_message, DatumColumn, ReadType};
use crate::error::{AvroError, AvroResult, ErrorKind};
use crate::schema::{parse_schema, AvroSchema};

/// What a failed message gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The first failure raises, naming its row.
    Strict,
    /// A failed message gives a null value, and is counted.
    Permissive,
    /// Each row gives why its message failed, or null.
    Reasons,
}

/// A writer schema, and how its datums become the reader's values.
pub struct Writer {
    schema: AvroSchema,
    read: ReadType,
}

/// Where each message's writer schema comes from: its key, or for a raw datum the id
/// column's value or the one schema given.
#[derive(Clone, Copy)]
pub struct Rows<'a> {
    /// The messages, null where the column is.
    pub messages: &'a [Option<&'a [u8]>],
    /// Each message's schema id, from a column beside the messages (raw datums).
    pub ids: Option<&'a [Option<i64>]>,
}

/// The writer schemas seen so far, by key: resolved, or why not (unknown, invalid, or not
/// readable as the reader schema).
type Writers = HashMap<SchemaKey, Result<Arc<Writer>, String>>;

/// Decodes columns of messages in one framing into values of one reader schema.
pub struct MessageDecoder {
    reader: AvroSchema,
    dtype: DataType,
    framing: Framing,
    /// The writer of raw datums that carry no key.
    given: Option<Arc<Writer>>,
    writers: RwLock<Writers>,
}

/// Batches smaller than this decode on the calling thread.
const ROWS_PER_PART: usize = 16_384;
/// Rows a thread decodes in one round: a decode checks whether it is to stop between
/// rounds (Ctrl-C), each a fraction of a second.
const ROWS_PER_ROUND: usize = 1 << 18;

/// The rows `0..n` as rounds of parts: each round at most `ROWS_PER_ROUND` rows per thread,
/// split into at most `threads` parts of at least `ROWS_PER_PART` rows (one, however few).
fn rounds(n: usize, threads: usize) -> Vec<Vec<(usize, usize)>> {
    let per_round = ROWS_PER_ROUND * threads;
    (0..n.max(1))
        .step_by(per_round)
        .map(|start| {
            let rows = (n - start).min(per_round);
            let parts = (rows / ROWS_PER_PART).clamp(1, threads);
            (0..parts).map(|p| (start + p * rows / parts, start + (p + 1) * rows / parts)).collect()
        })
        .collect()
}

impl MessageDecoder {
    /// `given`: the writer schema of raw datums (None: each message names its own).
    pub fn new(reader: AvroSchema, framing: Framing, given: Option<AvroSchema>) -> AvroResult<Self> {
        let dtype = datum_read_type(&reader, None)?.dtype;
        let mut decoder = Self { reader, dtype, framing, given: None, writers: RwLock::default() };
        if let Some(given) = given {
            decoder.given = Some(Arc::new(decoder.writer(given).map_err(AvroError::schema)?));
        }
        Ok(decoder)
    }

    /// The dtype of the values (of the reader schema).
    pub fn dtype(&self) -> &DataType {
        &self.dtype
    }

    fn writer(&self, schema: AvroSchema) -> Result<Writer, String> {
        let reader = (schema != self.reader).then_some(&self.reader);
        let read = datum_read_type(&schema, reader)
            .map_err(|e| format!("it cannot be read as the reader schema: {}", e.message))?;
        if read.dtype != self.dtype {
            return Err(format!("it reads as {}, not as the reader schema's {}", read.dtype, self.dtype));
        }
        Ok(Writer { schema, read })
    }

    /// The keys of `rows` from row `from` on that `known` lacks, each once, in the order
    /// first seen.
    fn missing_keys(&self, rows: Rows, from: usize, known: &Writers) -> Vec<SchemaKey> {
        let mut missing = Vec::new();
        let mut recent = None;
        for (i, message) in rows.messages.iter().enumerate().skip(from) {
            let Some(message) = message else { continue };
            if let Ok((Some(key), _)) = self.key_of(message, rows.ids.map(|ids| ids[i])) {
                // Messages of one schema come in runs: each run is looked up once.
                if recent != Some(key) && !known.contains_key(&key) && !missing.contains(&key) {
                    missing.push(key);
                }
                recent = Some(key);
            }
        }
        missing
    }

    /// Adds the writer schema (JSON) that `key` names; a schema that is invalid or cannot
    /// be read as the reader schema fails the messages that name it.
    pub fn add_writer(&self, key: SchemaKey, json: &str) {
        let writer = parse_schema(json)
            .map_err(|e| format!("it is not a valid Avro schema: {}", e.message))
            .and_then(|schema| self.writer(schema));
        self.writers.write().unwrap_or_else(|e| e.into_inner()).insert(key, writer.map(Arc::new));
    }

    /// Records that no schema could be found for `key`, and why.
    pub fn add_missing(&self, key: SchemaKey, reason: String) {
        self.writers.write().unwrap_or_else(|e| e.into_inner()).insert(key, Err(reason));
    }

    /// The key a message names (None for a raw datum without an id) and where its datum starts.
    fn key_of(&self, message: &[u8], id: Option<Option<i64>>) -> Result<(Option<SchemaKey>, usize), Failure> {
        let framed = read_framing(message, self.framing).map_err(Failure::Framing)?;
        match (framed.key, id) {
            (Some(key), _) => Ok((Some(key), framed.datum_start)),
            (None, None) => Ok((None, framed.datum_start)),
            (None, Some(Some(id))) => Ok((Some(SchemaKey::Id(id)), framed.datum_start)),
            (None, Some(None)) => Err(Failure::Schema("the schema id column is null for this message".into())),
        }
    }

    /// Decodes `rows` into a Series named `name` of the reader's dtype, and how many
    /// messages failed (with [`Mode::Permissive`]; with [`Mode::Strict`] the first raises).
    /// When messages name schemas not added yet, their keys instead: add them, then decode.
    pub fn decode(
        &self,
        name: PlSmallStr,
        rows: Rows,
        mode: Mode,
        threads: usize,
    ) -> AvroResult<Decoded<(Series, usize)>> {
        let parts = match self.run_parts(rows, mode, threads)? {
            Decoded::Done(parts) => parts,
            Decoded::Missing(keys) => return Ok(Decoded::Missing(keys)),
        };
        let failed = parts.iter().map(|p| p.failed).sum();
        let mut series: Option<Series> = None;
        for part in parts {
            let part = part.values.expect("values are kept unless reasons are asked for");
            match &mut series {
                None => series = Some(part),
                Some(out) => {
                    out.append_owned(part)?;
                },
            }
        }
        let series = series.unwrap_or_else(|| Series::new_empty(PlSmallStr::EMPTY, &self.dtype));
        Ok(Decoded::Done((series.with_name(name), failed)))
    }

    /// Why each message fails, or null where it decodes (or the keys to add first).
    pub fn reasons(&self, name: PlSmallStr, rows: Rows, threads: usize) -> AvroResult<Decoded<Series>> {
        let parts = match self.run_parts(rows, Mode::Reasons, threads)? {
            Decoded::Done(parts) => parts,
            Decoded::Missing(keys) => return Ok(Decoded::Missing(keys)),
        };
        let reasons: Vec<Option<String>> = parts.into_iter().flat_map(|p| p.reasons).collect();
        Ok(Decoded::Done(StringChunked::new(name, reasons).into_series()))
    }

    fn run_parts(&self, rows: Rows, mode: Mode, threads: usize) -> AvroResult<Decoded<Vec<Part>>> {
        let writers = self.writers.read().unwrap_or_else(|e| e.into_inner()).clone();
        let n = rows.messages.len();
        let threads = threads.max(1);
        let decode_part = |&(start, end): &(usize, usize)| {
            let part = Rows { messages: &rows.messages[start..end], ids: rows.ids.map(|ids| &ids[start..end]) };
            PartDecoder { decoder: self, writers: &writers, rows: part, first_row: start, batch_rows: n, mode }.run()
        };
        let mut results: Vec<AvroResult<Decoded<Part>>> = Vec::new();
        for round in rounds(n, threads) {
            // Between rounds, each a fraction of a second: a decode stops when asked to.
            crate::interrupt::check()?;
            if round.len() == 1 {
                results.extend(round.iter().map(decode_part));
            } else {
                let decoded: Vec<_> =
                    crate::threads::pool(threads)?.install(|| round.par_iter().map(decode_part).collect());
                results.extend(decoded);
            }
        }
        let (mut parts, mut missing) = (Vec::with_capacity(results.len()), Vec::new());
        for result in results {
            match result? {
                Decoded::Done(part) => parts.push(part),
                Decoded::Missing(keys) => {
                    for key in keys {
                        if !missing.contains(&key) {
                            missing.push(key);
                        }
                    }
                },
            }
        }
        Ok(if missing.is_empty() { Decoded::Done(parts) } else { Decoded::Missing(missing) })
    }
}

/// What a decode gives: its result, or the keys whose writer schemas must be added first.
#[derive(Debug)]
pub enum Decoded<T> {
    /// Every message was decoded (or failed as the mode says).
    Done(T),
    /// Messages name these keys, whose writer schemas have not been added.
    Missing(Vec<SchemaKey>),
}

/// Why one message failed, by kind.
enum Failure {
    Framing(String),
    Schema(String),
    Decode(AvroError),
    /// Its key's writer schema has not been added: not a failure of the message.
    Unknown,
}

/// One part's result: its values (not kept for reasons), the failures, their reasons.
struct Part {
    values: Option<Series>,
    failed: usize,
    reasons: Vec<Option<String>>,
}

struct PartDecoder<'d> {
    decoder: &'d MessageDecoder,
    writers: &'d Writers,
    rows: Rows<'d>,
    /// The row of the batch this part starts at (for messages).
    first_row: usize,
    /// The rows of the whole batch.
    batch_rows: usize,
    mode: Mode,
}

impl PartDecoder<'_> {
    fn run(&self) -> AvroResult<Decoded<Part>> {
        // The values of each writer schema, in one builder each. A failed message is a
        // null in its writer's builder (`DatumColumn::null_failed`), or, when its writer is
        // not known, in the builder of the last value, as a null message.
        let mut chunks: Vec<DatumColumn> = Vec::new();
        let mut chunk_of_writer: HashMap<*const Writer, usize> = HashMap::new();
        let mut place = Placement::default();
        // The chunk that took the last value.
        let mut last: Option<usize> = None;
        let mut failed = 0;
        let mut reasons: Vec<Option<String>> = Vec::new();
        let mut recent = None;
        for (i, message) in self.rows.messages.iter().enumerate() {
            // A null, in the builder of the last value (saving a gather).
            let null_after_last = |chunks: &mut Vec<DatumColumn>| {
                last.map(|c: usize| {
                    chunks[c].push_null();
                    (c, chunks[c].len() - 1)
                })
            };
            let Some(message) = message else {
                place.push(null_after_last(&mut chunks));
                if self.mode == Mode::Reasons {
                    reasons.push(None);
                }
                continue;
            };
            let outcome = self.locate(message, i, &mut recent).and_then(|(writer, start)| {
                let c = chunk_of(&mut chunks, &mut chunk_of_writer, writer);
                let chunk = &mut chunks[c];
                chunk.decode(message, start).map(|()| (c, chunk.len() - 1)).map_err(|e| (Failure::Decode(e), Some(c)))
            });
            match outcome {
                Ok(placed) => {
                    place.push(Some(placed));
                    last = Some(placed.0);
                    if self.mode == Mode::Reasons {
                        reasons.push(None);
                    }
                },
                Err((Failure::Unknown, _)) => {
                    return Ok(Decoded::Missing(self.decoder.missing_keys(self.rows, i, self.writers)));
                },
                Err((failure, chunk)) => {
                    failed += 1;
                    if self.mode == Mode::Strict {
                        return Err(self.row_error(i, message, failure));
                    }
                    if self.mode == Mode::Reasons {
                        reasons.push(Some(self.describe(i, message, failure)));
                    }
                    place.push(match chunk {
                        Some(c) => Some((c, chunks[c].null_failed())),
                        None => null_after_last(&mut chunks),
                    });
                },
            }
        }
        if self.mode == Mode::Reasons {
            return Ok(Decoded::Done(Part { values: None, failed, reasons }));
        }
        let values = self.assemble(chunks, &place)?;
        Ok(Decoded::Done(Part { values: Some(values), failed, reasons }))
    }

    /// The writer of a message and where its datum starts; on failure, why (no chunk yet).
    /// `recent`: the last key located and its writer (messages of one writer come in runs).
    fn locate<'s>(
        &'s self,
        message: &[u8],
        i: usize,
        recent: &mut Option<(Option<SchemaKey>, &'s Writer)>,
    ) -> Result<(&'s Writer, usize), (Failure, Option<usize>)> {
        let id = self.rows.ids.map(|ids| ids[i]);
        let (key, start) = self.decoder.key_of(message, id).map_err(|f| (f, None))?;
        if let Some((recent_key, writer)) = *recent {
            if recent_key == key {
                return Ok((writer, start));
            }
        }
        let writer = match key {
            Some(key) => match self.writers.get(&key) {
                Some(Ok(writer)) => writer.as_ref(),
                Some(Err(why)) => return Err((Failure::Schema(format!("the {key}: {why}")), None)),
                None => return Err((Failure::Unknown, None)),
            },
            None => match &self.decoder.given {
                Some(writer) => writer.as_ref(),
                None => {
                    let why = "the message carries no schema id, and no writer schema was given for raw datums";
                    return Err((Failure::Schema(why.into()), None));
                },
            },
        };
        *recent = Some((key, writer));
        Ok((writer, start))
    }

    /// The chunks' values in row order: the one chunk as it is when it holds every row in
    /// order, else all chunks gathered by `place` (None gives null).
    fn assemble(&self, chunks: Vec<DatumColumn>, place: &Placement) -> AvroResult<Series> {
        let dtype = &self.decoder.dtype;
        if chunks.is_empty() {
            return Ok(Series::full_null(PlSmallStr::EMPTY, place.len(), dtype));
        }
        // Each chunk's values, chunk after chunk; where each chunk begins.
        let (mut arrays, mut bases, mut total) =
            (Vec::with_capacity(chunks.len()), Vec::with_capacity(chunks.len()), 0);
        for chunk in chunks {
            bases.push(total);
            total += chunk.len();
            arrays.push(chunk.finish()?);
        }
        let Some(rows) = &place.rows else {
            // SAFETY: the datum builders produce the physical layout of the reader's dtype.
            return Ok(unsafe { Series::from_chunks_and_dtype_unchecked(PlSmallStr::EMPTY, arrays, dtype) });
        };
        // SAFETY: as above.
        let values = unsafe { Series::from_chunks_and_dtype_unchecked(PlSmallStr::EMPTY, arrays, dtype) };
        let indices: IdxCa = rows.iter().map(|p| p.map(|(c, at)| (bases[c] + at) as IdxSize)).collect();
        Ok(values.take(&indices)?)
    }

    fn row_error(&self, i: usize, message: &[u8], failure: Failure) -> AvroError {
        let kind = match failure {
            Failure::Schema(_) => ErrorKind::Schema,
            Failure::Framing(_) | Failure::Decode(_) | Failure::Unknown => ErrorKind::Decode,
        };
        AvroError::new(kind, self.describe(i, message, failure)).at_batch_row(self.first_row + i, self.batch_rows)
    }

    /// What went wrong with a message, and which framing and schema it names.
    fn describe(&self, i: usize, message: &[u8], failure: Failure) -> String {
        let framing = self.decoder.framing.name();
        match failure {
            Failure::Framing(why) => format!("{why} (framing '{framing}')"),
            Failure::Schema(why) => format!("{why} (framing '{framing}')"),
            Failure::Unknown => format!("its writer schema was not added (framing '{framing}')"),
            Failure::Decode(e) => {
                let id = self.rows.ids.map(|ids| ids[i]);
                let key = self.decoder.key_of(message, id).ok().and_then(|(key, _)| key);
                match key {
                    Some(key) => format!("{} (framing '{framing}', {key})", in_message(e).message),
                    None => format!("{} (framing '{framing}')", in_message(e).message),
                }
            },
        }
    }
}

/// Where each row's value is: (chunk, position in it), or None for a null placed at the
/// end. Kept only once a row is anywhere but next in the first chunk, the common case.
#[derive(Default)]
struct Placement {
    /// None while every row so far is the next value of chunk 0.
    rows: Option<Vec<Option<(usize, usize)>>>,
    len: usize,
}

impl Placement {
    fn push(&mut self, place: Option<(usize, usize)>) {
        match &mut self.rows {
            None if place == Some((0, self.len)) => {},
            None => {
                let mut rows: Vec<Option<(usize, usize)>> = (0..self.len).map(|i| Some((0, i))).collect();
                rows.push(place);
                self.rows = Some(rows);
            },
            Some(rows) => rows.push(place),
        }
        self.len += 1;
    }

    fn len(&self) -> usize {
        self.len
    }
}

/// The chunk of `writer`, made the first time.
fn chunk_of<'w>(
    chunks: &mut Vec<DatumColumn<'w>>,
    chunk_of_writer: &mut HashMap<*const Writer, usize>,
    writer: &'w Writer,
) -> usize {
    *chunk_of_writer.entry(writer as *const Writer).or_insert_with(|| {
        chunks.push(DatumColumn::new(&writer.schema, &writer.read));
        chunks.len() - 1
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_decoded_in_rounds_of_parts_covering_each_row_once() {
        assert_eq!(rounds(0, 4), vec![vec![(0, 0)]]);
        assert_eq!(rounds(100, 4), vec![vec![(0, 100)]], "too few rows to split");
        for (n, threads) in [(ROWS_PER_ROUND * 3 + 5, 1), (ROWS_PER_ROUND * 9, 4), (40_000, 2)] {
            let rounds = rounds(n, threads);
            assert!(rounds.iter().all(|round| round.len() <= threads));
            assert!(rounds.iter().all(|round| round.last().unwrap().1 - round[0].0 <= ROWS_PER_ROUND * threads));
            let parts: Vec<(usize, usize)> = rounds.into_iter().flatten().collect();
            assert_eq!(parts[0].0, 0);
            assert_eq!(parts.last().unwrap().1, n);
            assert!(parts.windows(2).all(|w| w[0].1 == w[1].0), "{n} rows, {threads} threads");
        }
        assert_eq!(rounds(ROWS_PER_ROUND * 3 + 5, 1).len(), 4);
    }
}
