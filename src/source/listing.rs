//! File lists and their rules: what a glob pattern is and matches, where its walk or
//! listing starts, which names `hidden_file_prefix` leaves out; and, for local files, the
//! files a pattern matches and the Avro files under a directory, found by walking the
//! folders (no per-file `stat`: the directory entries say which are files). Object stores
//! list with the same rules (`remote::glob_objects`).

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{AvroError, AvroResult, ErrorKind};

/// The characters that make a path a glob pattern.
const WILDCARDS: [char; 3] = ['*', '?', '['];

/// Whether a path is a glob pattern: it holds `*`, `?` or `[`.
pub fn has_glob(path: &str) -> bool {
    path.contains(WILDCARDS)
}

/// Where a pattern's walk or listing starts: everything before the folder that holds its
/// first wildcard, with the `/` that ends it ("" when that is the first folder).
pub fn glob_base(pattern: &str) -> &str {
    let first_wildcard = pattern.find(WILDCARDS).unwrap_or(pattern.len());
    &pattern[..pattern[..first_wildcard].rfind('/').map_or(0, |i| i + 1)]
}

/// Whether the whole of `path` matches `pattern`, folder by folder: `*` and `?` stay within
/// a folder name, `[...]` (or `[!...]`) is a set of characters, and `**` as a folder of
/// its own spans any number of folders, none included. As in Polars' globs (and unlike
/// Python's), wildcards match names starting with `.` too.
pub fn glob_matches(pattern: &str, path: &str) -> bool {
    let pattern: Vec<&str> = pattern.split('/').collect();
    let path: Vec<&str> = path.split('/').collect();
    folders_match(&pattern, &path)
}

fn folders_match(pattern: &[&str], path: &[&str]) -> bool {
    match pattern.split_first() {
        None => path.is_empty(),
        Some((&"**", rest)) => (0..=path.len()).any(|skipped| folders_match(rest, &path[skipped..])),
        Some((part, rest)) => {
            path.split_first().is_some_and(|(name, names)| matches(part, name) && folders_match(rest, names))
        },
    }
}

/// Whether `hidden_file_prefix` leaves a file out (Polars' rule, whoever named the file):
/// the last part of its path or URL begins with one of `prefixes`.
pub fn is_hidden(path: &str, prefixes: &[String]) -> bool {
    let path = path.trim_end_matches('/');
    let name = path.rsplit(['/', std::path::MAIN_SEPARATOR]).next().unwrap_or(path);
    prefixes.iter().any(|prefix| name.starts_with(prefix.as_str()))
}

/// The local files `pattern` matches ([`glob_matches`]), sorted. No name is hidden here
/// ([`is_hidden`] is the caller's to apply).
pub fn glob_files(pattern: &str) -> AvroResult<Vec<String>> {
    let (base, rest) = pattern.split_at(glob_base(pattern).len());
    let parts: Vec<&str> = rest.split('/').filter(|p| !p.is_empty()).collect();
    let mut out = Vec::new();
    walk_pattern(base, &parts, &mut Inside::root(base), &mut out)?;
    out.sort();
    out.dedup();
    Ok(out)
}

/// A local file a scan names, and the folder its hive partitions start below: the
/// directory or the pattern's base that listed it (None where the path named the file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedFile {
    /// The file's path.
    pub path: String,
    /// The directory, or the pattern's base, that listed it.
    pub base: Option<String>,
}

/// The local files `paths` name, in order: every `.avro` file under a directory
/// ([`avro_files_under`]), what a pattern matches ([`glob_files`]; with `glob`, and where no
/// file has the pattern's own name), else the path itself (which the reader opens, or
/// finds missing); less the files whose names begin with one of `hidden` ([`is_hidden`]).
/// A directory or a pattern that gives no file is not found, and so is a list whose every
/// file is hidden.
pub fn list_local(paths: &[String], glob: bool, hidden: &[String]) -> AvroResult<Vec<ListedFile>> {
    visible(list_all(paths, glob)?, |file| Some(&file.path), paths, hidden)
}

/// The files listed for `given` (the paths or URL a user named) less those whose names
/// begin with one of `hidden` ([`is_hidden`]); a file of no name (`path_of` None: bytes, a
/// file object) is never hidden. A listing whose every file is hidden is not found,
/// naming what was given.
pub fn visible<T>(
    listed: Vec<T>,
    path_of: impl Fn(&T) -> Option<&str>,
    given: &[String],
    hidden: &[String],
) -> AvroResult<Vec<T>> {
    let (total, first) = (listed.len(), listed.first().and_then(&path_of).map(str::to_string));
    let kept: Vec<T> = listed.into_iter().filter(|f| path_of(f).is_none_or(|path| !is_hidden(path, hidden))).collect();
    match first {
        Some(first) if kept.is_empty() => {
            let names = if total == 1 {
                format!("the name of '{first}' begins")
            } else {
                let of = if let [given] = given { format!(" of '{given}'") } else { String::new() };
                format!("the names of all {total} files{of} begin")
            };
            let named = if let [given] = given { given } else { &first };
            Err(not_found(format!("no files to read: {names} with hidden_file_prefix {hidden:?}"), named))
        },
        _ => Ok(kept),
    }
}

fn list_all(paths: &[String], glob: bool) -> AvroResult<Vec<ListedFile>> {
    let mut out = Vec::new();
    for path in paths {
        let meta = fs::metadata(path);
        let (files, base) = if meta.as_ref().is_ok_and(fs::Metadata::is_dir) {
            let files = avro_files_under(path)?;
            if files.is_empty() {
                return Err(not_found(format!("the directory '{path}' holds no .avro files"), path));
            }
            (files, Some(path.clone()))
        } else if glob && meta.is_err() && has_glob(path) {
            let files = glob_files(path)?;
            if files.is_empty() {
                return Err(not_found(format!("no files match the pattern '{path}'"), path));
            }
            (files, Some(glob_base(path).to_string()))
        } else {
            (vec![path.clone()], None)
        };
        out.extend(files.into_iter().map(|path| ListedFile { path, base: base.clone() }));
    }
    Ok(out)
}

pub(crate) fn not_found(message: String, path: &str) -> AvroError {
    AvroError::new(ErrorKind::NotFound, message).in_file(path)
}

/// Every `.avro` file under `dir`, in any folder below it, sorted: what the glob
/// `dir/**/*.avro` matches. As Polars lists a directory, no name is hidden here.
pub fn avro_files_under(dir: &str) -> AvroResult<Vec<String>> {
    let mut out = Vec::new();
    let dir = dir.trim_end_matches('/');
    walk_folder(dir, &mut Inside::root(dir), &mut out)?;
    out.sort();
    Ok(out)
}

fn walk_folder(folder: &str, inside: &mut Inside, out: &mut Vec<String>) -> AvroResult<()> {
    // A folder at a time: a listing of millions of files stops when asked to.
    crate::interrupt::check()?;
    for entry in entries(folder)? {
        if entry.is_dir {
            inside.within(&entry, |inside| walk_folder(&entry.path, inside, out))?;
        } else if entry.name.ends_with(".avro") {
            out.push(entry.path);
        }
    }
    Ok(())
}

/// The folders a walk is inside, by their real paths. A folder met again inside itself is
/// a loop of symbolic links: refused, as Polars refuses a folder holding one ("Too many
/// levels of symbolic links"), where the walk listed its files again at every depth (41
/// times for a link to itself, without end for a link to its parent as well).
struct Inside(Vec<PathBuf>);

impl Inside {
    fn root(folder: &str) -> Self {
        let folder = if folder.is_empty() { "." } else { folder };
        Self(vec![fs::canonicalize(folder).unwrap_or_else(|_| PathBuf::from(folder))])
    }

    /// Goes into `entry`: its real path is the current folder's and its name, unless it is
    /// a symbolic link (then the system resolves it).
    fn enter(&mut self, entry: &Entry) -> AvroResult<()> {
        let real = match (entry.is_link, self.0.last()) {
            (false, Some(current)) => current.join(&entry.name),
            _ => fs::canonicalize(&entry.path)
                .map_err(|e| AvroError::io(e, format!("could not list '{}'", entry.path)).in_file(&entry.path))?,
        };
        if let Some(again) = self.0.iter().find(|folder| **folder == real) {
            let again = format!("it is '{}' again, a folder it is inside: a loop of symbolic links", again.display());
            let what = format!("could not list '{}'", entry.path);
            return Err(AvroError::io(std::io::Error::other(again), what).in_file(&entry.path));
        }
        self.0.push(real);
        Ok(())
    }

    /// `walk` of `entry`, a folder of the current one, inside it.
    fn within(&mut self, entry: &Entry, walk: impl FnOnce(&mut Self) -> AvroResult<()>) -> AvroResult<()> {
        self.enter(entry)?;
        walk(self)?;
        self.0.pop();
        Ok(())
    }
}

/// A folder's entry: a folder or not, a symbolic link or not (followed to say which).
struct Entry {
    name: String,
    path: String,
    is_dir: bool,
    is_link: bool,
}

/// The entries of a folder.
fn entries(folder: &str) -> AvroResult<Vec<Entry>> {
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
        let is_link = file_type.is_symlink();
        let is_dir = if is_link { Path::new(&path).is_dir() } else { file_type.is_dir() };
        out.push(Entry { name, path, is_dir, is_link });
    }
    Ok(out)
}

/// Adds to `out` the files under `folder` that the pattern `parts` (folder names, the
/// last a file name) matches.
fn walk_pattern(folder: &str, parts: &[&str], inside: &mut Inside, out: &mut Vec<String>) -> AvroResult<()> {
    crate::interrupt::check()?;
    let Some((part, rest)) = parts.split_first() else { return Ok(()) };
    if *part == "**" {
        // No folder at all, or any number of them; last, every file below.
        if !rest.is_empty() {
            walk_pattern(folder, rest, inside, out)?;
        }
        for entry in entries(folder)? {
            if entry.is_dir {
                inside.within(&entry, |inside| walk_pattern(&entry.path, parts, inside, out))?;
            } else if rest.is_empty() {
                out.push(entry.path);
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
            // `.` and `..` go back up the folders the walk is inside: a walk of their own.
            (false, Ok(m)) if m.is_dir() && matches!(*part, "." | "..") => {
                walk_pattern(&path, rest, &mut Inside::root(&path), out)?
            },
            (false, Ok(m)) if m.is_dir() => {
                // Whether a link or not, unknown without another call: resolved as one.
                let entry = Entry { name: part.to_string(), path, is_dir: true, is_link: true };
                inside.within(&entry, |inside| walk_pattern(&entry.path, rest, inside, out))?;
            },
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
    for entry in listing {
        if !matches(part, &entry.name) {
            continue;
        }
        if rest.is_empty() {
            if !entry.is_dir {
                out.push(entry.path);
            }
        } else if entry.is_dir {
            inside.within(&entry, |inside| walk_pattern(&entry.path, rest, inside, out))?;
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
    #[cfg(unix)]
    use super::{avro_files_under, glob_files};
    use super::{glob_base, glob_matches, has_glob, is_hidden, list_local, matches, visible};
    use crate::error::ErrorKind;

    /// A fresh folder of the system's temporary ones, for one test (the symbolic links').
    #[cfg(unix)]
    fn folder(test: &str) -> String {
        let path = std::env::temp_dir().join(format!("polars-avro-listing-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(path.join("d/sub")).unwrap();
        std::fs::write(path.join("d/a.avro"), b"").unwrap();
        std::fs::write(path.join("d/sub/b.avro"), b"").unwrap();
        path.to_str().unwrap().to_string()
    }

    #[cfg(unix)]
    #[test]
    fn loops_of_symbolic_links_are_refused_naming_the_link() {
        // A link to its own folder, and one to the folder above the walk (whose `d` is the
        // walk's folder again: the loop is met there).
        for (test, link, target) in [("self", "d/self", "."), ("parent", "d/sub/up", "../..")] {
            let root = folder(test);
            std::os::unix::fs::symlink(target, format!("{root}/{link}")).unwrap();
            let looped = format!("could not list '{root}/{link}");
            for listed in [avro_files_under(&format!("{root}/d")), glob_files(&format!("{root}/d/**/*.avro"))] {
                let message = listed.unwrap_err().to_string();
                assert!(message.contains(&looped) && message.contains("a loop of symbolic links"), "{message}");
            }
            std::fs::remove_dir_all(&root).unwrap();
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_link_to_a_folder_elsewhere_is_followed() {
        let root = folder("elsewhere");
        std::fs::create_dir(format!("{root}/other")).unwrap();
        std::fs::write(format!("{root}/other/c.avro"), b"").unwrap();
        std::os::unix::fs::symlink("../other", format!("{root}/d/link")).unwrap();
        let expected: Vec<String> =
            ["d/a.avro", "d/link/c.avro", "d/sub/b.avro"].iter().map(|f| format!("{root}/{f}")).collect();
        assert_eq!(avro_files_under(&format!("{root}/d")).unwrap(), expected);
        assert_eq!(glob_files(&format!("{root}/d/**/*.avro")).unwrap(), expected);
        assert_eq!(glob_files(&format!("{root}/d/sub/../*.avro")).unwrap(), [format!("{root}/d/sub/../a.avro")]);
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn patterns_start_at_the_folder_before_their_first_wildcard() {
        assert_eq!(glob_base("s3://b/data/2024-*/part-?.avro"), "s3://b/data/");
        assert_eq!(glob_base("data/**/*.avro"), "data/");
        assert_eq!(glob_base("*.avro"), "");
        assert_eq!(glob_base("a/b[0-9]/c"), "a/");
        assert!(has_glob("a/b[0-9]") && has_glob("a?") && !has_glob("s3://b/plain/file.avro"));
    }

    #[test]
    fn whole_paths_match_folder_by_folder() {
        let pattern = "s3://b/data/**/*.avro";
        for path in ["s3://b/data/x.avro", "s3://b/data/y=1/x.avro", "s3://b/data/y=1/z=2/.x.avro"] {
            assert!(glob_matches(pattern, path), "{path}");
        }
        for path in ["s3://b/data/x.avro.crc", "s3://b/other/x.avro", "s3://b/data"] {
            assert!(!glob_matches(pattern, path), "{path}");
        }
        // `*` and `?` stay within a folder; `**` last takes everything below.
        assert!(glob_matches("s3://b/d/*.avro", "s3://b/d/x.avro"));
        assert!(!glob_matches("s3://b/d/*.avro", "s3://b/d/e/x.avro"));
        assert!(!glob_matches("s3://b/d?x.avro", "s3://b/d/x.avro"));
        assert!(glob_matches("s3://b/d/**", "s3://b/d/e/f/x.avro"));
        assert!(glob_matches("s3://b/**/e/*.avro", "s3://b/d/e/x.avro"));
        assert!(glob_matches("gs://b/p-[0-3]/[!_]*", "gs://b/p-2/x.avro"));
        assert!(!glob_matches("gs://b/p-[0-3]/[!_]*", "gs://b/p-2/_x.avro"));
    }

    #[test]
    fn hidden_names_are_the_last_part_beginning_with_a_prefix() {
        let prefixes = [".".to_string(), "_".to_string()];
        assert!(is_hidden("data/_SUCCESS", &prefixes));
        assert!(is_hidden("s3://b/data/.x.avro", &prefixes));
        assert!(!is_hidden("_data/x.avro", &prefixes), "a folder's name hides nothing");
        assert!(is_hidden("s3://b/data/_tmp/", &prefixes), "a folder's URL names the folder");
        assert!(!is_hidden("data/x.avro", &[]));
    }

    #[test]
    fn a_listing_keeps_what_no_prefix_hides_and_a_file_of_no_name() {
        let hidden = ["_".to_string()];
        let listed = vec![Some("d/_a.avro"), None, Some("d/b.avro")];
        assert_eq!(visible(listed, |name| *name, &[], &hidden).unwrap(), [None, Some("d/b.avro")]);
        // Every file hidden: not found, naming what was given.
        let error = visible(vec![Some("d/_a.avro"), Some("d/_b.avro")], |name| *name, &["d".into()], &hidden);
        let error = error.unwrap_err();
        assert_eq!((error.kind, error.file.as_deref()), (ErrorKind::NotFound, Some("d")));
        assert!(error.message.contains("the names of all 2 files of 'd' begin with hidden_file_prefix"), "{error}");
        assert!(visible(Vec::<Option<&str>>::new(), |name| *name, &[], &hidden).unwrap().is_empty());
    }

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

    /// An empty folder of the system's temporary ones, for one test.
    fn scratch(test: &str) -> String {
        let path = std::env::temp_dir().join(format!("polars-avro-list-local-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        path.to_str().unwrap().replace('\\', "/")
    }

    #[test]
    fn a_scans_paths_list_as_directories_patterns_and_files_each_with_its_base() {
        let root = scratch("kinds");
        std::fs::create_dir_all(format!("{root}/t/k=1")).unwrap();
        for file in ["t/k=1/a.avro", "t/k=1/b.txt", "c.avro"] {
            std::fs::write(format!("{root}/{file}"), b"").unwrap();
        }
        let named = [format!("{root}/t"), format!("{root}/*.avro"), format!("{root}/x.avro")];
        let listed = list_local(&named, true, &[]).unwrap();
        let want = [
            (format!("{root}/t/k=1/a.avro"), Some(format!("{root}/t"))),
            (format!("{root}/c.avro"), Some(format!("{root}/"))),
            (format!("{root}/x.avro"), None),
        ];
        let got: Vec<_> = listed.into_iter().map(|f| (f.path, f.base)).collect();
        assert_eq!(got, want);
        // Without glob, a pattern is a file's name.
        let plain = list_local(&[format!("{root}/*.avro")], false, &[]).unwrap();
        assert_eq!(plain[0].base, None);
        // Hidden names are left out, and a list of nothing but hidden files is not found.
        let kept = list_local(&named, true, &["c".to_string()]).unwrap();
        assert_eq!(kept.len(), 2);
        let err = list_local(&[format!("{root}/*.avro")], true, &["c".to_string()]).unwrap_err();
        assert_eq!(err.kind, ErrorKind::NotFound);
        assert!(err.to_string().contains("begins with hidden_file_prefix"), "{err}");
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn an_empty_directory_or_pattern_is_not_found_naming_it() {
        let root = scratch("empty");
        let err = list_local(std::slice::from_ref(&root), true, &[]).unwrap_err();
        assert_eq!(err.kind, ErrorKind::NotFound);
        assert!(err.to_string().contains("holds no .avro files"), "{err}");
        let err = list_local(&[format!("{root}/*.avro")], true, &[]).unwrap_err();
        assert!(err.to_string().contains("no files match the pattern"), "{err}");
        std::fs::remove_dir_all(&root).unwrap();
    }
}
