//! Planning splits for a cluster engine's tasks: the files' headers read once, then byte
//! ranges of about a target size, small files grouped. Which blocks a range reads is the
//! container's rule ([`ByteRange`]), so any ranges that tile a file read each of its
//! blocks exactly once.

use rayon::iter::{IntoParallelIterator, ParallelIterator};

use crate::container::{ByteRange, ContainerReader, Header};
use crate::error::{AvroError, AvroResult};
use crate::source::Source;
use crate::threads::io_pool;

/// A file's header and size, what a split of it needs to be read without reading them.
#[derive(Debug, Clone)]
pub struct FileFacts {
    /// Its header (schema, codec, sync marker, length).
    pub header: Header,
    /// Its size in bytes.
    pub size: u64,
}

/// The header and size of each source, read up to `files_in_flight` at a time; an error
/// for each that failed (a damaged header, a stream of unknown length).
pub fn read_file_facts(sources: Vec<Source>, files_in_flight: usize) -> AvroResult<Vec<AvroResult<FileFacts>>> {
    let read = |source: Source| {
        let name = source.name();
        let (stream, size) = source.open()?;
        // The header first: an empty file (whose size reads as unknown) is damage.
        let container = ContainerReader::open(stream, size).map_err(|e| e.in_file(&name))?;
        let size = size.ok_or_else(|| {
            AvroError::argument("a stream of unknown length cannot be split: pass a file or an object").in_file(&name)
        })?;
        Ok(FileFacts { header: container.header, size })
    };
    if sources.len() < 2 || files_in_flight < 2 {
        return Ok(sources.into_iter().map(read).collect());
    }
    Ok(io_pool(files_in_flight)?.install(|| sources.into_par_iter().map(read).collect()))
}

/// Splits of the files of these sizes, in file order, each a list of (file index, range):
/// a file larger than `target_bytes` is cut into ranges of `target_bytes` (the last one
/// shorter), each a split of its own; smaller files are grouped, in order, until a group
/// holds `target_bytes`. Every file is covered from byte 0 to its size exactly once.
pub fn plan_splits(sizes: &[u64], target_bytes: u64) -> Vec<Vec<(usize, ByteRange)>> {
    let target = target_bytes.max(1);
    let mut splits = Vec::new();
    let mut group: Vec<(usize, ByteRange)> = Vec::new();
    let mut group_bytes = 0u64;
    for (index, &size) in sizes.iter().enumerate() {
        if size > target {
            splits.extend((!group.is_empty()).then(|| std::mem::take(&mut group)));
            group_bytes = 0;
            let mut start = 0;
            while start < size {
                let end = start.saturating_add(target).min(size);
                splits.push(vec![(index, ByteRange { start, end })]);
                start = end;
            }
            continue;
        }
        group.push((index, ByteRange { start: 0, end: size }));
        group_bytes += size;
        if group_bytes >= target {
            splits.push(std::mem::take(&mut group));
            group_bytes = 0;
        }
    }
    splits.extend((!group.is_empty()).then_some(group));
    splits
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Every byte of every file belongs to exactly one split, in file order.
        #[test]
        fn splits_tile_every_file_once(sizes in prop::collection::vec(0u64..5000, 0..20), target in 1u64..3000) {
            let splits = plan_splits(&sizes, target);
            let parts: Vec<(usize, ByteRange)> = splits.iter().flatten().copied().collect();
            let mut expected_next = vec![0u64; sizes.len()];
            let mut last_file = 0;
            for (file, range) in &parts {
                prop_assert!(*file >= last_file);
                last_file = *file;
                prop_assert_eq!(range.start, expected_next[*file]);
                prop_assert!(range.end > range.start || sizes[*file] == 0);
                expected_next[*file] = range.end;
            }
            prop_assert_eq!(expected_next, sizes.clone());
            for split in &splits {
                let bytes: u64 = split.iter().map(|(_, r)| r.end - r.start).sum();
                // A split is one range of a large file, or small files of target bytes at most
                // before the last one joined.
                let first_bytes = bytes - split.last().map_or(0, |(_, r)| r.end - r.start);
                prop_assert!(split.len() == 1 || first_bytes < target);
            }
        }
    }
}
