//! Partitioned output's bookkeeping: where each part goes (hive folders by key, part files
//! numbered in each), when a part is full (rows, or about so many bytes of the frame in
//! memory), and the local folders the output made, removed again when it fails.

use std::path::{Path, PathBuf};

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use crate::error::{AvroError, AvroResult};
use crate::source::HIVE_NULL;

/// What a folder name's key or value keeps unencoded: letters, digits and `_.-~`, as
/// Python's `urllib.parse.quote(..., safe="")` and Polars' sinks leave them.
const NAME: &AsciiSet = &NON_ALPHANUMERIC.remove(b'_').remove(b'.').remove(b'-').remove(b'~');
/// A folder name in a URL, encoded again (its `%` too) but for its `=`: a URL's path is
/// decoded once into the object's key, which then keeps the encoded names.
const IN_URL: &AsciiSet = &NAME.remove(b'=');

/// Where a partitioned output's parts go and when one is full.
#[derive(Debug, Clone)]
pub struct PartLayout {
    /// The output's folder: a path or an object store's URL.
    pub base: String,
    /// Whether `base` is an object store's URL.
    pub remote: bool,
    /// The partition keys' names, in order.
    pub keys: Vec<String>,
    /// Rows per part at most.
    pub max_rows: Option<u64>,
    /// About this many bytes per part at most (of the frame in memory, as Polars estimates it).
    pub max_bytes: Option<u64>,
}

/// Bytes of the batches a partitioned write asks the engine for, about. Each batch is split by
/// key and each piece written on its own, at a fixed cost per piece: batches larger than the
/// engine's own (100,000 rows) spread it over more rows, and memory holds only a few of them.
const BATCH_BYTES: usize = 32 << 20;

/// Rows of about [`BATCH_BYTES`] of columns of these bytes per value
/// (`FrameType::estimated_width`), between 100,000 and 1,000,000.
pub fn batch_rows(widths: impl IntoIterator<Item = usize>) -> usize {
    let width: usize = widths.into_iter().sum();
    (BATCH_BYTES / width.max(1)).clamp(100_000, 1_000_000)
}

/// What a part holds so far.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Held {
    /// Rows written into it.
    pub rows: u64,
    /// Their bytes in memory, as estimated.
    pub bytes: f64,
}

impl PartLayout {
    /// The path or URL of the part numbered `index` of the key whose values (as text, None
    /// for null) are `values`: `base/key=value/.../00000000.avro`.
    pub fn part_path(&self, values: &[Option<String>], index: u64) -> String {
        let mut path = self.base.trim_end_matches('/').to_string();
        for (key, value) in self.keys.iter().zip(values) {
            let value =
                value.as_deref().map_or_else(|| HIVE_NULL.to_string(), |v| utf8_percent_encode(v, NAME).to_string());
            let folder = format!("{}={value}", utf8_percent_encode(key, NAME));
            path.push('/');
            path.push_str(&if self.remote { utf8_percent_encode(&folder, IN_URL).to_string() } else { folder });
        }
        format!("{path}/{index:08}.avro")
    }

    /// How many of `rows` rows (`per_row` bytes each) go into a part holding `held`: at least
    /// one, so that every part holds a row.
    pub fn rows_that_fit(&self, held: Held, rows: u64, per_row: f64) -> u64 {
        let mut fit = rows;
        if let Some(most) = self.max_rows {
            fit = fit.min(most.saturating_sub(held.rows));
        }
        if let Some(most) = self.max_bytes {
            let room = (most as f64 - held.bytes) / per_row.max(1e-9);
            fit = fit.min(room.ceil().max(1.0) as u64);
        }
        fit.max(1)
    }

    /// Whether a part holding `held` is full.
    pub fn is_full(&self, held: Held) -> bool {
        self.max_rows.is_some_and(|most| held.rows >= most)
            || self.max_bytes.is_some_and(|most| held.bytes >= most as f64)
    }
}

/// The local folders an output made, outermost first: removed again when it fails, so that a
/// failed write leaves the folder as it was.
#[derive(Debug, Default)]
pub struct MadeFolders(Vec<PathBuf>);

impl MadeFolders {
    /// Makes `folder` and the folders above it that are missing, remembering them.
    pub fn make(&mut self, folder: &Path) -> AvroResult<()> {
        let mut missing = Vec::new();
        let mut at = Some(folder);
        while let Some(folder) = at.filter(|f| !f.as_os_str().is_empty() && !f.is_dir()) {
            missing.push(folder.to_path_buf());
            at = folder.parent();
        }
        for made in missing.into_iter().rev() {
            std::fs::create_dir_all(&made)
                .map_err(|e| AvroError::io(e, format!("could not make the folder '{}'", made.display())))?;
            self.0.push(made);
        }
        Ok(())
    }

    /// Removes the folders made, innermost first; one that is not empty stays (someone else
    /// wrote there meanwhile).
    pub fn remove(&mut self) {
        for folder in self.0.drain(..).rev() {
            let _ = std::fs::remove_dir(folder);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(base: &str, keys: &[&str], max_rows: Option<u64>, max_bytes: Option<u64>) -> PartLayout {
        let keys = keys.iter().map(|k| k.to_string()).collect();
        PartLayout { base: base.into(), remote: base.contains("://"), keys, max_rows, max_bytes }
    }

    #[test]
    fn parts_go_to_hive_folders_their_names_encoded_as_polars_writes_them() {
        let local = layout("/out/", &["a b", "c"], None, None);
        let values = [Some("x/y=1".to_string()), None];
        assert_eq!(local.part_path(&values, 3), "/out/a%20b=x%2Fy%3D1/c=__HIVE_DEFAULT_PARTITION__/00000003.avro");
        assert_eq!(
            local.part_path(&[Some("ok_.-~".into()), Some("é".into())], 0),
            "/out/a%20b=ok_.-~/c=%C3%A9/00000000.avro"
        );
        // A URL's path is decoded once into the object's key: encoded again, the key keeps the
        // encoded names.
        let remote = layout("s3://b/out", &["k"], None, None);
        assert_eq!(remote.part_path(&[Some("x/y".into())], 1), "s3://b/out/k=x%252Fy/00000001.avro");
        assert_eq!(layout("/out", &[], None, None).part_path(&[], 12), "/out/00000012.avro");
    }

    #[test]
    fn a_part_takes_the_rows_that_fit_and_at_least_one() {
        let by_rows = layout("/o", &[], Some(10), None);
        assert_eq!(by_rows.rows_that_fit(Held { rows: 4, bytes: 0.0 }, 100, 1.0), 6);
        assert_eq!(by_rows.rows_that_fit(Held { rows: 10, bytes: 0.0 }, 100, 1.0), 1);
        let by_bytes = layout("/o", &[], None, Some(100));
        assert_eq!(by_bytes.rows_that_fit(Held { rows: 0, bytes: 25.0 }, 100, 10.0), 8);
        assert_eq!(by_bytes.rows_that_fit(Held { rows: 0, bytes: 0.0 }, 3, 10.0), 3);
        assert_eq!(by_bytes.rows_that_fit(Held { rows: 0, bytes: 0.0 }, 5, 1000.0), 1);
        assert!(by_bytes.is_full(Held { rows: 1, bytes: 100.0 }) && !by_bytes.is_full(Held { rows: 1, bytes: 99.0 }));
        assert!(!layout("/o", &[], None, None).is_full(Held { rows: u64::MAX, bytes: f64::MAX }));
    }

    #[test]
    fn batches_hold_about_32_mb_of_the_columns_within_bounds() {
        assert_eq!(batch_rows([32; 5]), (32 << 20) / 160);
        assert_eq!(batch_rows([8]), 1_000_000);
        assert_eq!(batch_rows([64; 10]), 100_000);
        assert_eq!(batch_rows([]), 1_000_000);
    }

    #[test]
    fn made_folders_are_removed_innermost_first_but_not_a_folder_someone_filled() {
        let root = std::env::temp_dir().join(format!("polars-avro-made-{}", std::process::id()));
        let mut made = MadeFolders::default();
        made.make(&root.join("a/b")).unwrap();
        made.make(&root.join("c")).unwrap();
        std::fs::write(root.join("c/kept.txt"), b"x").unwrap();
        made.remove();
        assert!(!root.join("a").exists());
        assert!(root.join("c/kept.txt").exists());
        std::fs::remove_dir_all(&root).unwrap();
    }
}
