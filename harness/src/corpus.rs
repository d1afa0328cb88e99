//! The corpus: one small, versioned, human-readable TOML file per failing
//! schedule. `cargo test` replays every entry and requires the recorded
//! finding; an entry that no longer reproduces fails loudly.
//!
//! ```toml
//! # unplug corpus entry: replayed by `cargo test`; see README.md.
//! format = 1
//! scheme = "unsynchronized"
//! finding = "use-after-removal"
//! signature = "use-after-removal:mem0.cxlm:unsynchronized.rs:33:unsynchronized.rs:40"
//! explorer = "random"
//! seed = 1
//! preemptions = 1
//! choices = [1, 1, 3, 3, 2]
//!
//! [workload]
//! users = 2
//! ...
//! ```
//!
//! Replay follows `choices` (the task picked at each decision that had a
//! real choice), not the seed, so an entry survives changes to the
//! explorers; the seed is kept to say where it came from.

use crate::finding::{strip_line_numbers, FindingKind};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// The corpus format this build reads and writes.
pub const FORMAT: u32 = 1;

/// The largest corpus entry (or raw schedule) this build reads, in bytes:
/// a schedule of the default step budget is some 60 KiB of TOML, and a file
/// larger than this is rejected before it is parsed.
pub const MAX_FILE_BYTES: u64 = 1 << 20;

/// Read at most [`MAX_FILE_BYTES`] from `path` (a device such as
/// `/dev/zero` never ends: the cap is on what is read, not on the size the
/// file claims).
pub fn read_capped(path: &Path) -> Result<Vec<u8>, CorpusError> {
    let io = |source| CorpusError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = fs::File::open(path).map_err(io)?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(CorpusError::TooLarge {
            path: path.to_path_buf(),
        });
    }
    Ok(bytes)
}

/// What [`Entry::save_new`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Saved {
    /// The corpus had no entry with this finding: saved here.
    New(PathBuf),
    /// The corpus had one with a larger schedule (left in place): the
    /// smaller one is saved here.
    Smaller {
        /// The new entry.
        path: PathBuf,
        /// The larger one already there.
        previous: PathBuf,
    },
    /// The corpus already holds this finding with a schedule no larger.
    Known(PathBuf),
}

/// One corpus entry; `W` is the workload description of the scenario crate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry<W> {
    /// Always [`FORMAT`].
    pub format: u32,
    /// The scheme's name.
    pub scheme: String,
    /// The kind of finding the schedule must reproduce.
    pub finding: FindingKind,
    /// The finding's signature (kind and sites), compared on replay.
    pub signature: String,
    /// The explorer that found it (`random`, `pct`, `fuzz`, `minimized`).
    pub explorer: String,
    /// The execution seed, where the explorer had one (as a hex string:
    /// TOML integers are signed 64-bit and a seed uses all 64 bits).
    #[serde(default, skip_serializing_if = "Option::is_none", with = "hex_seed")]
    pub seed: Option<u64>,
    /// Preemptions in the schedule.
    pub preemptions: u32,
    /// The task chosen at each scheduling decision that had a real choice.
    pub choices: Vec<u8>,
    /// The workload the scheme ran.
    pub workload: W,
}

/// Errors reading or writing corpus entries.
#[derive(Debug, thiserror::Error)]
pub enum CorpusError {
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not a valid entry (truncated, edited, not TOML).
    #[error("{path}: not a valid corpus entry: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What the parser said, on one line.
        message: String,
    },
    /// The entry could not be written as TOML.
    #[error("{path}: cannot write the entry: {message}")]
    Serialize {
        /// The file.
        path: PathBuf,
        /// What the serialiser said.
        message: String,
    },
    /// The file is larger than any entry this build writes.
    #[error(
        "{path}: larger than {} bytes, the most a corpus entry or schedule may have",
        MAX_FILE_BYTES
    )]
    TooLarge {
        /// The file.
        path: PathBuf,
    },
    /// The entry was written by another version of the format.
    #[error(
        "{path}: corpus format {found} is not supported by this build (it reads format {FORMAT})"
    )]
    Format {
        /// The file.
        path: PathBuf,
        /// The format it declares.
        found: u32,
    },
}

impl<W: Serialize + DeserializeOwned> Entry<W> {
    /// Read and validate an entry.
    pub fn load(path: &Path) -> Result<Self, CorpusError> {
        let bytes = read_capped(path)?;
        let text = String::from_utf8(bytes).map_err(|_| CorpusError::Parse {
            path: path.to_path_buf(),
            message: "not UTF-8 text".into(),
        })?;
        Self::parse(&text, path)
    }

    /// Parse an entry's text (`path` is for messages).
    pub fn parse(text: &str, path: &Path) -> Result<Self, CorpusError> {
        // Check the format first, so that an entry from another version is
        // named as such rather than as a parse error of its fields.
        if let Ok(table) = text.parse::<toml::Table>() {
            if let Some(found) = table.get("format").and_then(|v| v.as_integer()) {
                if found != FORMAT as i64 {
                    return Err(CorpusError::Format {
                        path: path.to_path_buf(),
                        found: found.clamp(0, u32::MAX as i64) as u32,
                    });
                }
            }
        }
        toml::from_str(text).map_err(|e| {
            let message = e.message().split_whitespace().collect::<Vec<_>>().join(" ");
            CorpusError::Parse {
                path: path.to_path_buf(),
                // Some parse errors carry no message of their own (a file
                // cut off in the middle of a value, say).
                message: if message.is_empty() {
                    "the file is incomplete or malformed".into()
                } else {
                    message
                },
            }
        })
    }

    /// The entry as TOML, with a header comment.
    pub fn to_text(&self) -> Result<String, toml::ser::Error> {
        let body = toml::to_string(self)?;
        Ok(format!(
            "# unplug corpus entry: a failing schedule, replayed by `cargo test`.\n{body}"
        ))
    }

    /// Write the entry to `path` atomically: to a temporary file in the
    /// same directory, then renamed over the target, so a crash never
    /// leaves a half-written entry and never loses one already saved.
    pub fn save(&self, path: &Path) -> Result<(), CorpusError> {
        let io = |source| CorpusError::Io {
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(io)?;
        }
        let text = self.to_text().map_err(|e| CorpusError::Serialize {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
        let write = || -> std::io::Result<()> {
            let mut f = fs::File::create(&tmp)?;
            f.write_all(text.as_bytes())?;
            f.sync_all()?;
            fs::rename(&tmp, path)
        };
        write().map_err(|e| {
            let _ = fs::remove_file(&tmp);
            io(e)
        })
    }

    /// The conventional file name: `corpus/<scheme>/<finding>-<hash>.toml`,
    /// the hash over the schedule so that the same schedule maps to the
    /// same file.
    pub fn default_path(&self, corpus_dir: &Path) -> PathBuf {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in self.signature.bytes().chain(self.choices.iter().copied()) {
            h = (h ^ b as u64).wrapping_mul(0x0100_0000_01b3);
        }
        corpus_dir
            .join(self.scheme_dir())
            .join(format!("{}-{:08x}.toml", self.finding, h as u32))
    }

    /// The folder of this entry's scheme in a corpus: its name, or for a
    /// scheme named by a file path (a kernel-C scheme) the file's name, so
    /// that `/tmp/x.c` cannot lead outside the corpus. The entry itself
    /// records the whole path.
    pub fn scheme_dir(&self) -> &str {
        self.scheme
            .rsplit(['/', '\\'])
            .find(|s| !s.is_empty() && *s != "." && *s != "..")
            .unwrap_or("scheme")
    }
}

impl<W: Serialize + DeserializeOwned> Entry<W> {
    /// The size minimisation descends: preemptions, then choices.
    pub fn size(&self) -> (u32, usize) {
        (self.preemptions, self.choices.len())
    }

    /// The readable entries in this entry's scheme folder of `corpus_dir`
    /// with the same finding (signatures compared with line numbers
    /// aside, as replay does), smallest first. Files that do not parse are
    /// skipped: they are not this finding's.
    pub fn same_finding(&self, corpus_dir: &Path) -> Vec<(PathBuf, Entry<W>)> {
        let dir = corpus_dir.join(self.scheme_dir());
        let expected = strip_line_numbers(&self.signature);
        let mut found: Vec<(PathBuf, Entry<W>)> = entry_paths(&dir)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|p| Entry::<W>::load(&p).ok().map(|e| (p, e)))
            .filter(|(_, e)| {
                e.scheme == self.scheme && strip_line_numbers(&e.signature) == expected
            })
            .collect();
        found.sort_by_key(|(p, e)| (e.size(), p.clone()));
        found
    }

    /// Save the entry under `corpus_dir` unless the corpus already holds its
    /// finding with a schedule no larger: concurrent or repeated campaigns
    /// add one file per finding, not one per run.
    pub fn save_new(&self, corpus_dir: &Path) -> Result<Saved, CorpusError> {
        let same = self.same_finding(corpus_dir);
        match same.first() {
            Some((path, e)) if e.size() <= self.size() => Ok(Saved::Known(path.clone())),
            Some((previous, _)) => {
                let path = self.default_path(corpus_dir);
                self.save(&path)?;
                Ok(Saved::Smaller {
                    path,
                    previous: previous.clone(),
                })
            }
            None => {
                let path = self.default_path(corpus_dir);
                self.save(&path)?;
                Ok(Saved::New(path))
            }
        }
    }
}

/// Make sure `dir` exists and a file can be created in it, before a run
/// spends its budget finding something it cannot save.
pub fn check_writable(dir: &Path) -> Result<(), CorpusError> {
    let io = |source| CorpusError::Io {
        path: dir.to_path_buf(),
        source,
    };
    fs::create_dir_all(dir).map_err(io)?;
    let probe = dir.join(format!(".unplug-write-check.{}", std::process::id()));
    fs::File::create(&probe).map_err(io)?;
    fs::remove_file(&probe).map_err(io)
}

/// Every `.toml` file under `dir`, sorted, recursively.
pub fn entry_paths(dir: &Path) -> Result<Vec<PathBuf>, CorpusError> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let rd = fs::read_dir(&d).map_err(|source| CorpusError::Io {
            path: d.clone(),
            source,
        })?;
        for e in rd {
            let e = e.map_err(|source| CorpusError::Io {
                path: d.clone(),
                source,
            })?;
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "toml") {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Seeds as `"0x…"` strings in TOML.
mod hex_seed {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(seed: &Option<u64>, s: S) -> Result<S::Ok, S::Error> {
        match seed {
            Some(v) => s.serialize_str(&format!("{v:#018x}")),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
        let text = Option::<String>::deserialize(d)?;
        text.map(|t| {
            let hex = t
                .strip_prefix("0x")
                .ok_or_else(|| serde::de::Error::custom("seed must be 0x-prefixed hex"))?;
            u64::from_str_radix(hex, 16).map_err(serde::de::Error::custom)
        })
        .transpose()
    }
}
