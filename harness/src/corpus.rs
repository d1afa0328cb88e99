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

use crate::finding::FindingKind;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The corpus format this build reads and writes.
pub const FORMAT: u32 = 1;

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
        let text = fs::read_to_string(path).map_err(|source| CorpusError::Io {
            path: path.to_path_buf(),
            source,
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
        toml::from_str(text).map_err(|e| CorpusError::Parse {
            path: path.to_path_buf(),
            message: e.message().replace('\n', " "),
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
            .join(&self.scheme)
            .join(format!("{}-{:08x}.toml", self.finding, h as u32))
    }
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
