//! The kernel-C schemes in `schemes-c/`: every zoo scheme has a twin there
//! whose header declares what the Rust scheme declares (name, verdicts,
//! object, workload), and every file's header is complete and names
//! functions the file defines.
//!
//! The header is the block comment that opens each file: `/* unplug:`, then
//! TOML lines with their leading ` * ` stripped, up to `*/`.

use harness::finding::FindingKind;
use scenarios::schemes::{self, Scheme};
use scenarios::workload::Workload;
use std::path::{Path, PathBuf};

/// The directory of the kernel-C schemes, at the repository root.
fn schemes_c_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("schemes-c")
}

/// A file's header, parsed.
struct Header {
    table: toml::Table,
}

impl Header {
    /// The header of `source`, or why there is none.
    fn parse(source: &str) -> Result<Header, String> {
        let rest = source
            .strip_prefix("/* unplug:")
            .ok_or("the file does not start with `/* unplug:`")?;
        let end = rest.find("*/").ok_or("the header block is not closed")?;
        let text: String = rest[..end]
            .lines()
            .map(|l| {
                let l = l.trim_start();
                let l = l.strip_prefix('*').unwrap_or(l);
                l.strip_prefix(' ').unwrap_or(l)
            })
            .collect::<Vec<_>>()
            .join("\n");
        let table = text
            .parse::<toml::Table>()
            .map_err(|e| format!("the header is not TOML: {e}"))?;
        Ok(Header { table })
    }

    fn str(&self, key: &str) -> Option<&str> {
        self.table.get(key)?.as_str()
    }

    fn section(&self, name: &str) -> Option<&toml::Table> {
        self.table.get(name)?.as_table()
    }

    /// `[expect] key`: `clean` is `None`, anything else a finding kind.
    fn verdict(&self, key: &str) -> Result<Option<FindingKind>, String> {
        let v = self
            .section("expect")
            .and_then(|t| t.get(key))
            .and_then(|v| v.as_str())
            .ok_or(format!("no [expect] {key}"))?;
        if v == "clean" {
            return Ok(None);
        }
        FindingKind::from_name(v)
            .map(Some)
            .ok_or(format!("[expect] {key} = {v:?} is not a verdict"))
    }

    fn object(&self) -> Option<&str> {
        self.section("expect")?.get("object")?.as_str()
    }

    /// The workload: the defaults (2 users, 1 ioctl, 1 device) overridden
    /// by `[workload]`.
    fn workload(&self) -> Result<Workload, String> {
        let mut wl = Workload::default();
        let Some(t) = self.section("workload") else {
            return Ok(wl);
        };
        for (key, value) in t {
            let int = || {
                value
                    .as_integer()
                    .and_then(|i| u32::try_from(i).ok())
                    .ok_or(format!("[workload] {key} is not a count"))
            };
            match key.as_str() {
                "users" => wl.users = int()?,
                "ioctls" => wl.ioctls = int()?,
                "devices" => wl.devices = int()?,
                "remove_work" => wl.remove_work = int()?,
                "open_races_del" => {
                    wl.open_races_del = value
                        .as_bool()
                        .ok_or("[workload] open_races_del is not a bool")?
                }
                other => return Err(format!("unknown [workload] key {other}")),
            }
        }
        Ok(wl)
    }
}

/// Every `.c` file of `schemes-c/`, with its source.
fn c_files() -> Vec<(PathBuf, String)> {
    let mut files: Vec<_> = std::fs::read_dir(schemes_c_dir())
        .expect("schemes-c/ is in the repository")
        .map(|e| e.expect("a readable directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "c"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let source = std::fs::read_to_string(&p).expect("a readable .c file");
            (p, source)
        })
        .collect()
}

/// The source of the twin of `scheme`, `schemes-c/<name>.c`.
fn twin_source(scheme: &Scheme) -> String {
    let path = schemes_c_dir().join(format!("{}.c", scheme.name));
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: the twin of {}: {e}", path.display(), scheme.name))
}

#[test]
fn every_zoo_scheme_has_a_twin_declaring_what_it_declares() {
    for scheme in schemes::ALL {
        let header = Header::parse(&twin_source(scheme))
            .unwrap_or_else(|e| panic!("{}.c: {e}", scheme.name));
        let at = |what: &str| format!("{}.c: {what}", scheme.name);
        assert_eq!(header.str("name"), Some(scheme.name), "{}", at("name"));
        assert_eq!(
            header.str("summary"),
            Some(scheme.summary),
            "{}",
            at("summary")
        );
        assert_eq!(
            header.verdict("sc"),
            Ok(scheme.expected.sc),
            "{}",
            at("[expect] sc")
        );
        assert_eq!(
            header.verdict("c11"),
            Ok(scheme.expected.c11),
            "{}",
            at("[expect] c11")
        );
        assert_eq!(
            header.object(),
            scheme.expected.object,
            "{}",
            at("[expect] object")
        );
        assert_eq!(
            header.workload(),
            Ok(scheme.default_workload.clone()),
            "{}",
            at("[workload]")
        );
    }
}

#[test]
fn every_header_is_complete_and_names_functions_the_file_defines() {
    let files = c_files();
    assert!(
        files.len() >= schemes::ALL.len(),
        "schemes-c/ has {} .c files, fewer than the zoo's {} schemes",
        files.len(),
        schemes::ALL.len()
    );
    let mut names = std::collections::BTreeSet::new();
    for (path, source) in &files {
        let file = path.file_name().map(|n| n.to_string_lossy().into_owned());
        let file = file.as_deref().unwrap_or("?");
        let header = Header::parse(source).unwrap_or_else(|e| panic!("{file}: {e}"));
        let name = header
            .str("name")
            .unwrap_or_else(|| panic!("{file}: no name"));
        assert_eq!(
            format!("{name}.c"),
            file,
            "{file}: a file is named for its scheme"
        );
        assert!(names.insert(name.to_owned()), "{file}: name {name} twice");
        assert!(
            header.str("summary").is_some_and(|s| !s.is_empty()),
            "{file}: no summary"
        );
        header
            .verdict("sc")
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        header
            .verdict("c11")
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        let wl = header.workload().unwrap_or_else(|e| panic!("{file}: {e}"));
        wl.validate().unwrap_or_else(|e| panic!("{file}: {e}"));
        let probe = header
            .str("probe")
            .unwrap_or_else(|| panic!("{file}: no probe"));
        let remove = header
            .str("remove")
            .unwrap_or_else(|| panic!("{file}: no remove"));
        assert!(
            source.contains(&format!("static int {probe}(struct device *")),
            "{file}: probe {probe} is not defined as `static int {probe}(struct device *...)`"
        );
        assert!(
            source.contains(&format!("static void {remove}(struct device *")),
            "{file}: remove {remove} is not defined as `static void {remove}(struct device *...)`"
        );
    }
}

#[test]
fn a_header_without_its_opening_line_or_end_is_refused() {
    assert!(Header::parse("/* a comment */\nint x;").is_err());
    assert!(Header::parse("/* unplug:\n * name = \"x\"\n").is_err());
    assert!(Header::parse("/* unplug:\n * name = \n */").is_err());
    let h = Header::parse("/* unplug:\n * name = \"x\"\n *\n * [expect]\n * sc = \"hang\"\n */")
        .expect("a well-formed header");
    assert_eq!(h.str("name"), Some("x"));
    assert_eq!(h.verdict("sc"), Ok(Some(FindingKind::Hang)));
    assert!(h.verdict("c11").is_err());
}
