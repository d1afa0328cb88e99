//! Parsing with tree-sitter's C grammar, which reads the kernel's macro
//! forms (`static DECLARE_RWSEM(x);`) without a preprocessor; the first
//! syntax error is reported at its position.

use super::error::{KcError, Result};
use super::lower::list_iter;
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

/// `src` with the type argument of each `container_of(ptr, struct S, m)`
/// written `struct_S` (the blanks between `struct` and the name made
/// underscores, so every position stays where it was). The C grammar reads
/// `struct S` as a type where it expects an expression, and how it recovers
/// depends on where the call stands: `f(container_of(…));` at the start of
/// a statement reads as a declaration. As one identifier the argument
/// parses as an expression everywhere; the lowering reads the type from the
/// original text at the same position.
pub fn container_of_types_as_names(src: &str) -> String {
    const MACRO: &str = "container_of";
    let bytes = src.as_bytes();
    let mut out = bytes.to_vec();
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut from = 0;
    while let Some(i) = src[from..].find(MACRO).map(|i| i + from) {
        from = i + MACRO.len();
        if i > 0 && word(bytes[i - 1]) {
            continue;
        }
        let mut j = from;
        while j < bytes.len() && bytes[j].is_ascii_whitespace() {
            j += 1;
        }
        if bytes.get(j) != Some(&b'(') {
            continue;
        }
        // The argument list, to its closing parenthesis.
        let mut depth = 0usize;
        let mut k = j;
        while k < bytes.len() {
            match bytes[k] {
                b'(' => depth += 1,
                b')' => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                _ => {}
            }
            k += 1;
        }
        // `struct` as a word at the list's own depth, blanks on one line,
        // then a name.
        let mut depth = 0usize;
        for p in j..k.min(bytes.len()) {
            match bytes[p] {
                b'(' => depth += 1,
                b')' => depth -= 1,
                _ => {}
            }
            if depth != 1 || !src[p..].starts_with("struct") || word(bytes[p - 1]) {
                continue;
            }
            let mut q = p + "struct".len();
            while q < k && matches!(bytes[q], b' ' | b'\t') {
                q += 1;
            }
            if q > p + "struct".len() && q < k && word(bytes[q]) {
                out[p + "struct".len()..q].fill(b'_');
            }
        }
    }
    // Only ASCII blanks were replaced by an ASCII byte.
    String::from_utf8(out).unwrap_or_else(|_| src.to_string())
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
        if let Some((at, msg)) = macro_loop_error(bad, src) {
            let p = at.start_position();
            return Err(KcError::at(
                file,
                p.row as u32 + 1,
                p.column as u32 + 1,
                msg,
            ));
        }
        let p = bad.start_position();
        let msg = if bad.is_missing() {
            format!("syntax error: expected `{}` here", bad.kind())
        } else {
            let text = &src[bad.byte_range()];
            let text: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
            let text: String = text.chars().take(40).collect();
            format!("syntax error near `{text}`")
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
    // `list_for_each_entry(pos, head, member) { … }`: its header lowers
    // as a loop (the missing `;` is the grammar's reading of a macro).
    if list_iter::is_header(n, src) {
        return None;
    }
    let mut c = n.walk();
    let children: Vec<Node<'t>> = n.children(&mut c).collect();
    children.into_iter().find_map(|ch| first_error(ch, src))
}

/// A syntax error in a macro used as a loop header, `name(args) { … }`,
/// said as such: where it starts, and what to write. An iterator macro of
/// list.h whose body does not parse after it (`list_for_each_entry(…)
/// x++;`) asks for braces; any other name is a macro the dialect does not
/// read as a loop.
fn macro_loop_error<'t>(bad: Node<'t>, src: &str) -> Option<(Node<'t>, String)> {
    // The statement the error is in.
    let mut stmt = bad;
    while stmt.kind() != "expression_statement" {
        stmt = stmt.parent()?;
    }
    // The grammar may fold the body into the call's statement
    // (`list_for_each_entry(…) n++;` reads as `(call ERROR)++`): the
    // statement's leftmost call is the macro.
    let mut first = stmt.named_child(0)?;
    while first.kind() != "call_expression" {
        first = first.named_child(0)?;
    }
    let f = first.child_by_field_name("function")?;
    if let Some(name) = list_iter::loop_macro(&src[f.byte_range()]) {
        return Some((
            first,
            format!("`{name}(…)` is a loop header and its body does not parse after it: write the body in braces, `{name}(…) {{ … }}` (and brace the `if` or loop body the macro stands in)"),
        ));
    }
    // `name(args)` missing its `;`, a block after it.
    let call = stmt
        .named_child(0)
        .filter(|c| c.kind() == "call_expression")?;
    let f = call.child_by_field_name("function")?;
    let block = list_iter::next_stmt(stmt).filter(|b| b.kind() == "compound_statement");
    if !(bad.is_missing() && bad.kind() == ";" && block.is_some()) {
        return None;
    }
    let name = &src[f.byte_range()];
    Some((
        call,
        format!(
            "`{name}(…) {{ … }}` uses a macro as a loop header; the dialect reads only list.h's iterators and cleanup.h's scoped_guard that way ({}): write the loop as `for (…; …; …) {{ … }}` or `while (…) {{ … }}`",
            list_iter::iterator_names()
        ),
    ))
}
