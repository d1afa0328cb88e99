//! The `/* unplug: … */` block at the top of a kernel-C scheme: TOML lines
//! (each line's leading ` * ` stripped) naming the scheme, its driver entry
//! points, its expected verdicts and its workload.

use super::error::{KcError, Result};
use crate::schemes::DEFAULT_WORKLOAD;
use crate::Workload;
use harness::finding::FindingKind;
use serde::Deserialize;

/// The header, as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    /// The scheme's name on the command line and in reports.
    pub name: String,
    /// One line: what the scheme does.
    #[serde(default)]
    pub summary: String,
    /// The driver's probe function, `int NAME(struct device *parent)`.
    pub probe: String,
    /// The driver's remove function, `void NAME(struct device *parent)`.
    pub remove: String,
    /// The verdicts the scheme is expected to get.
    pub expect: Expect,
    /// The workload it runs by default.
    #[serde(default)]
    pub workload: WorkloadKnobs,
}

/// `[expect]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// Under sequential consistency.
    pub sc: String,
    /// Under the C11 model (defaults to `sc`).
    pub c11: Option<String>,
    /// The object the finding is about (`cxlm`).
    pub object: Option<String>,
    /// Another fatal finding the same race may reach first, accepted as the
    /// verdict too (`assertion`: a NULL followed, the kernel's oops).
    pub also: Option<String>,
}

/// `[workload]`: the knobs (every one optional, the zoo's default
/// otherwise), or scripts as a workload file writes them
/// (`[[workload.user]]` with `ops = [{ op = "open" }, { op = "write",
/// count = 16 }]`): a driver like `/dev/tpm0` has no ioctl, and its users
/// write commands instead.
#[derive(Debug, Clone, Deserialize)]
#[serde(transparent)]
pub struct WorkloadKnobs(Workload);

impl Default for WorkloadKnobs {
    fn default() -> Self {
        WorkloadKnobs(DEFAULT_WORKLOAD)
    }
}

impl WorkloadKnobs {
    /// The workload: these knobs over the zoo's default, or the scripts.
    pub fn workload(&self) -> Workload {
        let mut wl = self.0.clone();
        if !wl.user_scripts.is_empty() {
            // A script per user, as a workload file's are counted.
            wl.users = u32::try_from(wl.user_scripts.len()).unwrap_or(u32::MAX);
        }
        wl
    }
}

/// A verdict word of the header: `clean` or a finding kind.
pub fn verdict(word: &str) -> Option<Option<FindingKind>> {
    Some(match word {
        "clean" => None,
        "use-after-removal" => Some(FindingKind::UseAfterRemoval),
        "data-race" => Some(FindingKind::DataRace),
        "deadlock" => Some(FindingKind::Deadlock),
        "hang" => Some(FindingKind::Hang),
        "leak" => Some(FindingKind::Leak),
        "assertion" => Some(FindingKind::Assertion),
        _ => return None,
    })
}

/// Find and parse the header of `src` (a comment starting `/* unplug:` as
/// the file's first non-blank text).
pub fn parse(file: &str, src: &str) -> Result<Header> {
    let start = src.len() - src.trim_start().len();
    let rest = &src[start..];
    let first_line = src[..start].matches('\n').count() as u32 + 1;
    let Some(body) = rest.strip_prefix("/* unplug:") else {
        return Err(KcError::at(
            file,
            first_line,
            1,
            "a scheme starts with its header block (write `/* unplug:` then `name = \"…\"`, `probe = \"…\"`, `remove = \"…\"`, `[expect]` `sc = \"clean\"`, then `*/`)",
        ));
    };
    let Some(end) = body.find("*/") else {
        return Err(KcError::at(
            file,
            first_line,
            1,
            "the header block is not closed (write `*/` after its last line)",
        ));
    };
    let toml_text: String = body[..end]
        .lines()
        .map(|l| {
            let t = l.trim_start();
            let t = t.strip_prefix('*').unwrap_or(t);
            t.strip_prefix(' ').unwrap_or(t).to_string() + "\n"
        })
        .collect();
    let header: Header = toml::from_str(&toml_text).map_err(|e| {
        // The header's first TOML line is the text after `/* unplug:`.
        let line = e
            .span()
            .map(|s| toml_text[..s.start].matches('\n').count() as u32)
            .unwrap_or(0);
        KcError::at(
            file,
            first_line + line,
            1,
            format!("bad header: {}", e.message()),
        )
    })?;
    for (key, word) in std::iter::once(("sc", Some(&header.expect.sc)))
        .chain(std::iter::once(("c11", header.expect.c11.as_ref())))
        .chain(std::iter::once(("also", header.expect.also.as_ref())))
    {
        if let Some(w) = word {
            // `also` names a finding; `clean` is no second way to crash.
            let finding = key != "also" || !matches!(verdict(w), Some(None));
            if verdict(w).is_none() || !finding {
                return Err(KcError::at(
                    file,
                    first_line,
                    1,
                    format!("bad header: `{key} = \"{w}\"` is no verdict (write one of clean, use-after-removal, data-race, deadlock, hang, leak, assertion)"),
                ));
            }
        }
    }
    header
        .workload
        .workload()
        .validate()
        .map_err(|e| KcError::at(file, first_line, 1, format!("bad header: [workload]: {e}")))?;
    Ok(header)
}
