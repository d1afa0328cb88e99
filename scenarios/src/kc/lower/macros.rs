//! Function-like macros, expanded where they are called, over the syntax
//! tree rather than the text: every position in the file stays where the
//! user wrote it, and the steps an expansion takes are reported at the
//! macro's own line, as gcc's "in expansion of macro" does. A macro stands
//! for an expression (`#define to_gpio_dev(d) container_of(d, struct
//! gpio_dev, dev)`), used anywhere an expression is, or for statements
//! (`#define T_CLEAR(p) do { … } while (0)`, the kernel's idiom for a
//! macro that reads as one statement), used only as a statement of its
//! own, `T_CLEAR(x);`, as the idiom intends.
//!
//! Each body is parsed on its own, from a copy of the file blanked but for
//! the body (so its nodes have the body's line and column) and wrapped in
//! a function so that it reads as one parenthesised expression or, if it
//! does not, as the function's statements. At a call, the body is lowered
//! with the macro's copy as the source text, and each parameter named in
//! it lowers the caller's argument, in the caller's text: an argument
//! named twice is evaluated twice, as the preprocessor's substitution
//! would have it. A body that is neither (`#`/`##`, a fragment) is an
//! error naming the macro.

use super::*;
use crate::kc::parse;
use tree_sitter::Tree;

/// The wrapper put before a body: the body then reads as the operand of
/// an expression statement.
const OPEN: &str = "int _(){(";

/// The wrapper put before a body that is not an expression: the body then
/// reads as the function's statements.
const OPEN_STMT: &str = "int _(){";

/// A function-like macro of the file, its body parsed.
pub struct MacroSource {
    /// Its name.
    pub name: String,
    /// Its parameters, in order.
    pub params: Vec<String>,
    /// The file blanked but for the body, at the body's position: the text
    /// its nodes are read from.
    pub text: String,
    /// The body, parsed from `text` (with `container_of()`'s types made
    /// names, as the file's).
    pub tree: Tree,
}

/// What a macro's body stands for.
#[derive(Clone)]
pub enum MacroBody<'a> {
    /// One expression.
    Expr(Node<'a>),
    /// Statements (a `do { … } while (0)` is one), in order.
    Stmts(Vec<Node<'a>>),
}

/// A function-like macro ready to expand: the body's nodes and the text
/// they are read from.
pub struct MacroDef<'a> {
    /// Its parameters, in order.
    pub(crate) params: Vec<String>,
    /// The body.
    pub(crate) body: MacroBody<'a>,
    /// The text the body's nodes are read from.
    pub(crate) text: &'a str,
}

/// The function-like macros among the top-level items of `root`
/// (parsed from `src`), each body parsed; a body that does not parse as
/// one expression is an error at its position, naming the macro.
pub fn sources(file: &str, src: &str, root: Node<'_>) -> Result<Vec<MacroSource>> {
    let mut out = Vec::new();
    let mut c = root.walk();
    for n in root.named_children(&mut c) {
        if n.kind() != "preproc_function_def" {
            continue;
        }
        let at = |m: &str| {
            let p = n.start_position();
            KcError::at(file, p.row as u32 + 1, p.column as u32 + 1, m)
        };
        let name = n
            .child_by_field_name("name")
            .map(|m| src[m.byte_range()].to_string())
            .ok_or_else(|| at("a #define without a name"))?;
        let not_expr = |why: &str| {
            at(&format!("function-like macro `{name}(…)` {why}: only macros standing for an expression or for statements are expanded (write the code it stands for, or a static function `{name}()`)"))
        };
        let params_node = n
            .child_by_field_name("parameters")
            .ok_or_else(|| not_expr("has no parameter list"))?;
        let mut params = Vec::new();
        let mut pc = params_node.walk();
        for p in params_node.children(&mut pc) {
            match p.kind() {
                "identifier" => params.push(src[p.byte_range()].to_string()),
                "(" | ")" | "," | "comment" => {}
                _ => return Err(not_expr("has variadic parameters")),
            }
        }
        let value = n
            .child_by_field_name("value")
            .ok_or_else(|| not_expr("has no body"))?;
        let body = &src[value.byte_range()];
        if body.contains('#') {
            return Err(not_expr("uses `#` or `##`"));
        }
        // The file's lines, blank, up to the body's end; the wrapper on
        // the `#define` itself, which is longer than it.
        let start = n.start_byte();
        if value.start_byte() < start + OPEN.len() {
            return Err(not_expr("is too short to read"));
        }
        let wrapped = |open: &str, close: &[u8]| {
            let mut text: Vec<u8> = src.as_bytes()[..value.end_byte()]
                .iter()
                .map(|&b| if b == b'\n' { b'\n' } else { b' ' })
                .collect();
            text[start..start + open.len()].copy_from_slice(open.as_bytes());
            // The body, its line continuations blanked.
            let bytes = body.as_bytes();
            for (i, &b) in bytes.iter().enumerate() {
                let continuation = b == b'\\'
                    && bytes[i + 1..]
                        .iter()
                        .find(|c| !matches!(c, b' ' | b'\t' | b'\r'))
                        .is_none_or(|c| *c == b'\n');
                text[value.start_byte() + i] = if continuation { b' ' } else { b };
            }
            text.extend_from_slice(close);
            String::from_utf8(text).map_err(|_| not_expr("is not UTF-8"))
        };
        let text = wrapped(OPEN, b"\n);}\n")?;
        let parsed = parse::parse(file, &parse::container_of_types_as_names(&text));
        let (text, tree) = match parsed {
            Ok(tree) if body_expr(tree.root_node()).is_some() => (text, tree),
            expr_err => {
                // Not an expression: the statements of a function, the
                // `;` that ends the `do { … } while (0)` idiom after it.
                let text = wrapped(OPEN_STMT, b"\n;}\n")?;
                let stmt_parsed = parse::parse(file, &parse::container_of_types_as_names(&text));
                // The syntax error of the reading the body looks meant
                // for: statements end in `;` or are a block or a `do`.
                let t = body.trim_start();
                let meant_stmts = body.contains(';') || t.starts_with('{') || t.starts_with("do");
                match (stmt_parsed, expr_err) {
                    (Ok(tree), _) if body_stmts(tree.root_node()).is_some() => (text, tree),
                    (stmt_err, expr_err) => {
                        let err = match (stmt_err, expr_err) {
                            (Err(e), _) if meant_stmts => Err(e),
                            (_, e) => e,
                        };
                        return Err(match err {
                            Err(e) => KcError {
                                message: format!("function-like macro `{name}(…)` is not one expression or statement ({}): only macros standing for an expression or for statements are expanded (write the code it stands for, or a static function `{name}()`)", e.message),
                                ..e
                            },
                            Ok(_) => not_expr("is not one expression or statement"),
                        });
                    }
                }
            }
        };
        out.push(MacroSource {
            name,
            params,
            text,
            tree,
        });
    }
    Ok(out)
}

/// The expression a wrapped body parsed to: `int _(){( BODY );}`.
fn body_expr(root: Node<'_>) -> Option<Node<'_>> {
    let f = root.named_child(0)?;
    let block = f.child_by_field_name("body")?;
    if block.named_child_count() != 1 {
        return None;
    }
    let stmt = block.named_child(0)?;
    if stmt.kind() != "expression_statement" {
        return None;
    }
    let paren = stmt.named_child(0)?;
    if paren.kind() != "parenthesized_expression" || paren.named_child_count() != 1 {
        return None;
    }
    paren.named_child(0)
}

/// The statements a wrapped body parsed to: `int _(){ BODY ;}`, the
/// empty statements (the wrapper's `;` after a block) left out; `None`
/// when there are none.
fn body_stmts(root: Node<'_>) -> Option<Vec<Node<'_>>> {
    let f = root.named_child(0)?;
    let block = f.child_by_field_name("body")?;
    let mut c = block.walk();
    let stmts: Vec<Node<'_>> = block
        .named_children(&mut c)
        .filter(|s| {
            s.kind() != "comment"
                && !(s.kind() == "expression_statement" && s.named_child_count() == 0)
        })
        .collect();
    (!stmts.is_empty()).then_some(stmts)
}

/// The macros of `sources` ready to expand, by name.
pub fn defs(sources: &[MacroSource]) -> HashMap<String, MacroDef<'_>> {
    sources
        .iter()
        .filter_map(|m| {
            let root = m.tree.root_node();
            let body = match body_expr(root) {
                Some(e) => MacroBody::Expr(e),
                None => MacroBody::Stmts(body_stmts(root)?),
            };
            Some((
                m.name.clone(),
                MacroDef {
                    params: m.params.clone(),
                    body,
                    text: &m.text,
                },
            ))
        })
        .collect()
}

/// How deep expansions may nest: C does not expand a macro inside its own
/// expansion, so a deeper chain is a macro that names itself.
const MAX_DEPTH: usize = 16;

impl<'a> Lower<'a> {
    /// `name(args)` of a function-like macro used as an expression: its
    /// body, lowered with each parameter standing for the caller's
    /// argument. A macro standing for statements is an error here: C has
    /// no value for a `do { … } while (0)`.
    pub(super) fn expand(&mut self, n: Node<'a>, name: &str, args: Node<'a>) -> Result<Expr> {
        let (body, text) = self.enter(n, name, args)?;
        let r = match body {
            MacroBody::Expr(e) => self.expr(e),
            MacroBody::Stmts(_) => Err(self.err(n, format!("macro `{name}(…)` stands for statements, not a value: use it as a statement of its own, `{name}(…);`"))),
        };
        self.leave(text);
        r
    }

    /// `name(args);` of a function-like macro as a statement of its own:
    /// its statements, or its expression as one statement.
    pub(super) fn expand_stmt(
        &mut self,
        n: Node<'a>,
        name: &str,
        args: Node<'a>,
    ) -> Result<Vec<Stmt>> {
        let (body, text) = self.enter(n, name, args)?;
        let r = match body {
            MacroBody::Expr(e) => self.expr(e).map(|e| {
                vec![Stmt {
                    site: e.site,
                    kind: StmtKind::Expr(e),
                }]
            }),
            MacroBody::Stmts(stmts) => stmts.into_iter().try_fold(Vec::new(), |mut out, s| {
                out.extend(self.stmt(s)?);
                Ok(out)
            }),
        };
        self.leave(text);
        r
    }

    /// Whether `name` is a macro standing for statements.
    pub(super) fn is_stmt_macro(&self, name: &str) -> bool {
        matches!(
            self.macros.get(name),
            Some(MacroDef {
                body: MacroBody::Stmts(_),
                ..
            })
        )
    }

    /// Starts expanding `name(args)` at `n`: checks the arguments, pushes
    /// the parameters' frame and makes the macro's copy the source text.
    /// Returns the body and the caller's text, for [`Lower::leave`].
    fn enter(
        &mut self,
        n: Node<'a>,
        name: &str,
        args: Node<'a>,
    ) -> Result<(MacroBody<'a>, &'a str)> {
        let Some(m) = self.macros.get(name) else {
            return Err(self.err(n, format!("`{name}` is not a macro")));
        };
        let (params, body, text) = (m.params.clone(), m.body.clone(), m.text);
        let arg_nodes = Self::named(args);
        if arg_nodes.len() != params.len() {
            return Err(self.err(
                n,
                format!(
                    "macro `{name}` takes {} arguments, {} given",
                    params.len(),
                    arg_nodes.len()
                ),
            ));
        }
        if self.macro_args.len() >= MAX_DEPTH {
            return Err(self.err(n, format!("macro `{name}` expands into itself")));
        }
        let frame = params
            .into_iter()
            .zip(arg_nodes)
            .map(|(p, a)| (p, a, self.src))
            .collect();
        self.macro_args.push(frame);
        let outer = std::mem::replace(&mut self.src, text);
        Ok((body, outer))
    }

    /// Ends the expansion [`Lower::enter`] began.
    fn leave(&mut self, outer: &'a str) {
        self.src = outer;
        self.macro_args.pop();
    }

    /// A parameter of the macro being expanded, named in its body: the
    /// caller's argument, lowered in the caller's text and context.
    pub(super) fn macro_param(&mut self, name: &str) -> Option<Result<Expr>> {
        let (_, arg, text) = self
            .macro_args
            .last()?
            .iter()
            .find(|(p, _, _)| p == name)
            .cloned()?;
        let frame = self.macro_args.pop()?;
        let outer = std::mem::replace(&mut self.src, text);
        let r = self.expr(arg);
        self.src = outer;
        self.macro_args.push(frame);
        Some(r)
    }
}
