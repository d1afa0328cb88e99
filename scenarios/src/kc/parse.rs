//! Parsing with tree-sitter's C grammar, which reads the kernel's macro
//! forms (`static DECLARE_RWSEM(x);`) without a preprocessor; the first
//! syntax error is reported at its position.

use super::error::{KcError, Result};
use tree_sitter::{Node, Parser, Tree};

/// The kernel's sparse and section annotations: they change nothing the
/// model checks, and the C grammar does not know them.
const ANNOTATIONS: &[&str] = &[
    "__rcu",
    "__user",
    "__iomem",
    "__force",
    "__must_check",
    "__maybe_unused",
    "__init",
    "__exit",
    "__always_inline",
    "noinline",
];

/// `src` with the kernel's annotations (`__rcu`, `__user`, …) blanked out by
/// spaces of the same length, so every position stays where it was.
pub fn blank_annotations(src: &str) -> String {
    let mut out = src.to_string();
    for a in ANNOTATIONS {
        let mut from = 0;
        while let Some(i) = out[from..].find(a).map(|i| i + from) {
            let end = i + a.len();
            let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
            if !word(out[..i].chars().next_back()) && !word(out[end..].chars().next()) {
                out.replace_range(i..end, &" ".repeat(a.len()));
            }
            from = end;
        }
    }
    out
}

/// Parse `src`; a syntax error is an error at its line and column.
pub fn parse(file: &str, src: &str) -> Result<Tree> {
    let mut parser = Parser::new();
    parser
        .set_language(&tree_sitter_c::LANGUAGE.into())
        .map_err(|e| KcError::at(file, 0, 0, format!("the C grammar failed to load: {e}")))?;
    let tree = parser
        .parse(src, None)
        .ok_or_else(|| KcError::at(file, 0, 0, "the parser gave up"))?;
    if let Some(bad) = first_error(tree.root_node(), src) {
        let p = bad.start_position();
        let msg = if bad.is_missing() {
            format!("syntax error: expected `{}` here", bad.kind())
        } else {
            let text = &src[bad.byte_range()];
            let text: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
            let text: String = text.chars().take(40).collect();
            format!("syntax error near `{text}`")
        };
        // cleanup.h's scoped_guard() is a `for` statement in disguise: the
        // grammar reads `scoped_guard(…) {` as a call missing its `;`.
        let line = src.lines().nth(p.row).unwrap_or("");
        let msg = if line.contains("scoped_guard(") {
            "scoped_guard() is not supported (write a block with guard() at its top: `{ guard(NAME)(lock); … }`)".to_string()
        } else {
            msg
        };
        return Err(KcError::at(
            file,
            p.row as u32 + 1,
            p.column as u32 + 1,
            msg,
        ));
    }
    Ok(tree)
}

/// The first error or missing node, in source order. `container_of(p,
/// struct S, member)` parses with an error node for `struct S` (a type
/// where the grammar expects an expression): the lowering reads those
/// arguments itself, so they are not syntax errors.
fn first_error<'t>(n: Node<'t>, src: &str) -> Option<Node<'t>> {
    if n.is_missing() || n.is_error() {
        return Some(n);
    }
    if !n.has_error() {
        return None;
    }
    if n.kind() == "call_expression" {
        let callee = n.child_by_field_name("function");
        if callee.is_some_and(|f| &src[f.byte_range()] == "container_of") {
            return None;
        }
    }
    let mut c = n.walk();
    let children: Vec<Node<'t>> = n.children(&mut c).collect();
    children.into_iter().find_map(|ch| first_error(ch, src))
}
