//! The floor of a compressed write (issue 43, item 3): the time to compress a file's blocks
//! with the codec's own crate at a level, as our writer calls it (libdeflate, zstd's bulk
//! compressor stating the frame's size, snap with its CRC), one thread, each compressor
//! made once. The blocks are FILE's, decompressed first (untimed): give it a file our
//! writer made of the same frame, and the floor compresses exactly the blocks ours does.
//!
//!     cargo bench --bench write_floor -- FILE CODEC LEVEL [--runs 9]
//!
//! CODEC is deflate, zstandard or snappy (LEVEL ignored). One JSON line: the median
//! milliseconds, the bytes in and out, the blocks and their records.

#[path = "common/hand.rs"]
mod hand;

#[path = "common/container.rs"]
mod container;
#[path = "common/timing.rs"]
mod timing;

use container::{decompress, Walker};
use timing::median_ms;

/// A compressor made once and kept, as our writer keeps one per thread.
enum Compressor {
    Deflate(libdeflater::Compressor),
    Zstandard(zstd::bulk::Compressor<'static>),
    Snappy(Box<snap::raw::Encoder>),
}

impl Compressor {
    fn new(codec: &str, level: i32) -> Self {
        match codec {
            "deflate" => Self::Deflate(libdeflater::Compressor::new(libdeflater::CompressionLvl::new(level).unwrap())),
            "zstandard" => {
                let mut compressor = zstd::bulk::Compressor::new(level).unwrap();
                compressor.include_contentsize(true).unwrap();
                Self::Zstandard(compressor)
            },
            "snappy" => Self::Snappy(Box::new(snap::raw::Encoder::new())),
            other => panic!("no write floor for the codec {other}"),
        }
    }

    /// Compresses `data` into `out` (cleared first), as a block of the codec is stored.
    fn compress(&mut self, data: &[u8], out: &mut Vec<u8>) {
        out.clear();
        match self {
            Self::Deflate(deflater) => {
                out.resize(deflater.deflate_compress_bound(data.len()), 0);
                let len = deflater.deflate_compress(data, out).unwrap();
                out.truncate(len);
            },
            Self::Zstandard(compressor) => {
                out.reserve(zstd::zstd_safe::compress_bound(data.len()));
                compressor.compress_to_buffer(data, out).unwrap();
            },
            Self::Snappy(encoder) => {
                out.resize(snap::raw::max_compress_len(data.len()), 0);
                let len = encoder.compress(data, out).unwrap();
                out.truncate(len);
                out.extend_from_slice(&crc32fast::hash(data).to_be_bytes());
            },
        }
    }
}

fn main() {
    let mut args = std::env::args().skip(1).filter(|a| a != "--bench");
    let (mut positional, mut runs) = (Vec::new(), 9);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--runs" => runs = args.next().expect("--runs N").parse().expect("a run count"),
            _ => positional.push(arg),
        }
    }
    let [path, codec, level] = &positional[..] else {
        eprintln!("usage: write_floor FILE CODEC LEVEL [--runs 9]");
        std::process::exit(2);
    };
    let level: i32 = level.parse().expect("a compression level");
    let file = std::fs::read(path).expect("the file reads");
    let mut walker = Walker::new(&file, None).expect("an Avro container file");
    let (mut blocks, mut records): (Vec<Vec<u8>>, usize) = (Vec::new(), 0);
    while let Some(batch) = walker.next_batch().expect("the file's blocks") {
        records += batch.rows;
        assert_eq!(batch.rows, batch.blocks.iter().map(|b| b.count).sum::<usize>(), "no limit: every record");
        for block in batch.blocks {
            let mut out = Vec::new();
            blocks.push(decompress(walker.codec, block.data, &mut out).expect("the block decompresses").to_vec());
        }
    }
    let mut compressor = Compressor::new(codec, level);
    let mut out = Vec::new();
    let mut compressed = 0;
    let ms = median_ms(runs, || {
        compressed = 0;
        for block in &blocks {
            compressor.compress(block, &mut out);
            compressed += out.len();
        }
    });
    let raw: usize = blocks.iter().map(Vec::len).sum();
    let blocks = blocks.len();
    println!(
        "{{\"compress_ms\": {ms:.3}, \"raw_bytes\": {raw}, \"compressed_bytes\": {compressed}, \
         \"blocks\": {blocks}, \"records\": {records}}}"
    );
}
