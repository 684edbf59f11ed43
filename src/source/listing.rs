//! Local file lists: the files a glob pattern matches, and the Avro files under a
//! directory, found by walking the folders (no per-file `stat`: the directory entries say
//! which are files).

use std::fs;
use std::path::Path;

use crate::error::{AvroError, AvroResult};

/// The files `pattern` matches, sorted: `*` and `?` stay within a folder name, `**` spans
/// any number of folders, `[...]` (or `[!...]`) is a set of characters. As in Polars' globs
/// (and unlike Python's), wildcards match names starting with `.` too: no name is hidden
/// here (the Python package leaves out what `hidden_file_prefix` names).
pub fn glob_files(pattern: &str) -> AvroResult<Vec<String>> {
    let first_wildcard = pattern.find(['*', '?', '[']).unwrap_or(pattern.len());
    let split = pattern[..first_wildcard].rfind('/').map_or(0, |i| i + 1);
    let (base, rest) = pattern.split_at(split);
    let parts: Vec<&str> = rest.split('/').filter(|p| !p.is_empty()).collect();
    let mut out = Vec::new();
    walk_pattern(base, &parts, &mut out)?;
    out.sort();
    out.dedup();
    Ok(out)
}

/// Every `.avro` file under `dir`, in any folder below it, sorted: what the glob
/// `dir/**/*.avro` matches. As Polars lists a directory, no name is hidden here (the Python
/// package leaves out what `hidden_file_prefix` names).
pub fn avro_files_under(dir: &str) -> AvroResult<Vec<String>> {
    let mut out = Vec::new();
    let mut folders = vec![dir.trim_end_matches('/').to_string()];
    while let Some(folder) = folders.pop() {
        for (name, path, is_dir) in entries(&folder)? {
            if is_dir {
                folders.push(path);
            } else if name.ends_with(".avro") {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// The entries of a folder: (name, path, whether it is a folder). A symbolic link is
/// followed to say which.
fn entries(folder: &str) -> AvroResult<Vec<(String, String, bool)>> {
    let listing = fs::read_dir(if folder.is_empty() { "." } else { folder })
        .map_err(|e| AvroError::io(e, format!("could not list '{folder}'")).in_file(folder))?;
    let mut out = Vec::new();
    for entry in listing {
        let entry = entry.map_err(|e| AvroError::io(e, format!("could not list '{folder}'")).in_file(folder))?;
        let Ok(name) = entry.file_name().into_string() else { continue };
        let file_type = entry.file_type().map_err(|e| AvroError::io(e, "could not list a folder"))?;
        let path = if folder.is_empty() {
            name.clone()
        } else if folder.ends_with('/') {
            format!("{folder}{name}")
        } else {
            format!("{folder}/{name}")
        };
        let is_dir = if file_type.is_symlink() { Path::new(&path).is_dir() } else { file_type.is_dir() };
        out.push((name, path, is_dir));
    }
    Ok(out)
}

/// Adds to `out` the files under `folder` that the pattern `parts` (folder names, the
/// last a file name) matches.
fn walk_pattern(folder: &str, parts: &[&str], out: &mut Vec<String>) -> AvroResult<()> {
    let Some((part, rest)) = parts.split_first() else { return Ok(()) };
    if *part == "**" {
        // No folder at all, or any number of them; last, every file below.
        if rest.is_empty() {
            for (_, path, is_dir) in entries(folder)? {
                if is_dir {
                    walk_pattern(&path, parts, out)?;
                } else {
                    out.push(path);
                }
            }
            return Ok(());
        }
        walk_pattern(folder, rest, out)?;
        for (_, path, is_dir) in entries(folder)? {
            if is_dir {
                walk_pattern(&path, parts, out)?;
            }
        }
        return Ok(());
    }
    if !part.contains(['*', '?', '[']) {
        // A plain name: no listing needed.
        let path = if folder.is_empty() { part.to_string() } else { format!("{folder}{}{part}", sep(folder)) };
        let meta = fs::metadata(&path);
        match (rest.is_empty(), meta) {
            (true, Ok(m)) if m.is_file() => out.push(path),
            (false, Ok(m)) if m.is_dir() => walk_pattern(&path, rest, out)?,
            _ => {},
        }
        return Ok(());
    }
    let listing = match entries(folder) {
        Ok(listing) => listing,
        // A folder the pattern names that is not there matches nothing.
        Err(_) if !Path::new(if folder.is_empty() { "." } else { folder }).is_dir() => return Ok(()),
        Err(e) => return Err(e),
    };
    for (name, path, is_dir) in listing {
        if !matches(part, &name) {
            continue;
        }
        if rest.is_empty() {
            if !is_dir {
                out.push(path);
            }
        } else if is_dir {
            walk_pattern(&path, rest, out)?;
        }
    }
    Ok(())
}

fn sep(folder: &str) -> &'static str {
    if folder.ends_with('/') {
        ""
    } else {
        "/"
    }
}

/// Whether a name matches one folder's pattern (`*`, `?`, `[...]`, `[!...]`).
fn matches(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    // Backtracking over the last `*`: linear for the patterns people write.
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ni));
            pi += 1;
            continue;
        }
        if pi < p.len() {
            if let Some((matched, next)) = match_one(&p, pi, n[ni]) {
                if matched {
                    pi = next;
                    ni += 1;
                    continue;
                }
            }
        }
        match star {
            Some((star_p, star_n)) => {
                pi = star_p + 1;
                ni = star_n + 1;
                star = Some((star_p, star_n + 1));
            },
            None => return false,
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// Whether the pattern item at `pi` (a literal, `?` or a `[...]` set) matches `c`, and
/// where the next item starts; None for a `*`.
fn match_one(p: &[char], pi: usize, c: char) -> Option<(bool, usize)> {
    match p[pi] {
        '*' => None,
        '?' => Some((true, pi + 1)),
        '[' => {
            let negated = p.get(pi + 1) == Some(&'!');
            let start = pi + 1 + usize::from(negated);
            // A `]` right after the opening is part of the set.
            let Some(end) = (start + 1..p.len()).find(|&i| p[i] == ']') else {
                return Some((c == '[', pi + 1));
            };
            let set = &p[start..end];
            let mut found = false;
            let mut i = 0;
            while i < set.len() {
                if i + 2 < set.len() && set[i + 1] == '-' {
                    found |= set[i] <= c && c <= set[i + 2];
                    i += 3;
                } else {
                    found |= set[i] == c;
                    i += 1;
                }
            }
            Some((found != negated, end + 1))
        },
        literal => Some((literal == c, pi + 1)),
    }
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn names_match_patterns() {
        assert!(matches("*.avro", "part-0.avro"));
        assert!(!matches("*.avro", "part-0.avro.crc"));
        assert!(matches("part-?.avro", "part-7.avro"));
        assert!(matches("part-[0-3].avro", "part-2.avro"));
        assert!(!matches("part-[!0-3].avro", "part-2.avro"));
        assert!(matches("a*b*c", "aXXbYYc"));
        assert!(!matches("a*b*c", "aXXbYY"));
        assert!(matches("*", ""));
    }
}
