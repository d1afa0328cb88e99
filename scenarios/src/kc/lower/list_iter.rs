//! include/linux/list.h's iterator macros read as the `for` loops they
//! expand to.
//!
//! Without a preprocessor, tree-sitter's C grammar reads
//! `list_for_each_entry(pos, head, member) { … }` as a call statement whose
//! `;` is missing, followed by the body as the next statement. The parser
//! ([`super::super::parse`]) lets exactly that shape through for the names
//! of [`ITERATORS`]; the lowering here takes the call as the loop's header
//! and the next statement as its body. Any other `name(args) { … }` stays a
//! syntax error naming the construct.
//!
//! Each loop makes the memory accesses its macro makes, in the same order
//! (the forms as include/linux/list.h has them at torvalds/linux
//! 008208c6b26f; later kernels spell the end test
//! `!list_entry_is_head(pos, head, member)`, the same comparison):
//!
//! * `list_for_each(pos, head)`: `for (pos = (head)->next; pos != (head);
//!   pos = pos->next)`; `list_for_each_prev()` follows `->prev`.
//! * `list_for_each_safe(pos, n, head)`: `for (pos = (head)->next, n =
//!   pos->next; pos != (head); pos = n, n = pos->next)`.
//! * `list_for_each_entry(pos, head, member)`: `for (pos =
//!   list_entry((head)->next, typeof(*pos), member); &pos->member !=
//!   (head); pos = list_entry(pos->member.next, typeof(*pos), member))`;
//!   `list_for_each_entry_reverse()` follows `->prev`.
//! * `list_for_each_entry_safe(pos, n, head, member)`: the same with `n`
//!   loaded from `pos->member.next` before the body runs, so the body may
//!   unlink and free `pos`. The next pass starts from the link saved for
//!   `n`: a body that reassigns `n` itself is not followed.
//! * include/linux/rculist.h's `list_for_each_entry_rcu(pos, head, member,
//!   cond...)` and `list_for_each_rcu(pos, head)`: the links are loaded
//!   with `list_entry_rcu()`/`rcu_dereference()`, i.e. `READ_ONCE()`.
//!   The optional lockdep condition is not evaluated: the model has no
//!   lockdep annotations.
//!
//! An entry loop keeps a cursor, the `struct list_head *` it last loaded,
//! and sets `pos` from it at the top of each pass: the kernel's `pos` past
//! the last entry is `container_of()` of the list head, which is no entry
//! (only `&pos->member` of it may be computed). The model does not make
//! that pointer: when the loop runs to its end, `pos` (and `n`) are NULL,
//! so a use of the iterator after the loop is a NULL dereference, not a
//! read of the head's container as some other struct.

use super::*;

/// The iterator macros read as loops: name, number of arguments.
pub(crate) const ITERATORS: &[(&str, std::ops::RangeInclusive<usize>)] = &[
    ("list_for_each", 2..=2),
    ("list_for_each_prev", 2..=2),
    ("list_for_each_safe", 3..=3),
    ("list_for_each_rcu", 2..=2),
    ("list_for_each_entry", 3..=3),
    ("list_for_each_entry_reverse", 3..=3),
    ("list_for_each_entry_safe", 4..=4),
    ("list_for_each_entry_rcu", 3..=4),
];

/// include/linux/cleanup.h's `scoped_guard(name, lock) { … }`: a `for`
/// loop whose one pass holds the guard, read with the same shape as the
/// iterators (see [`Lower::scoped_guard`]).
pub(crate) const SCOPED_GUARD: &str = "scoped_guard";

/// The macros read as loop headers: [`ITERATORS`] and [`SCOPED_GUARD`].
pub(crate) fn loop_macro(name: &str) -> Option<&'static str> {
    ITERATORS
        .iter()
        .map(|(n, _)| *n)
        .chain([SCOPED_GUARD])
        .find(|n| *n == name)
}

/// The names of [`ITERATORS`] and [`SCOPED_GUARD`], for messages.
pub(crate) fn iterator_names() -> String {
    ITERATORS
        .iter()
        .map(|(n, _)| *n)
        .chain([SCOPED_GUARD])
        .collect::<Vec<_>>()
        .join(", ")
}

/// The iterator macro `n` calls, if `n` is a call statement naming one:
/// the call and the name.
pub(crate) fn header_call<'t>(n: Node<'t>, src: &str) -> Option<(Node<'t>, &'static str)> {
    if n.kind() != "expression_statement" {
        return None;
    }
    let call = n.named_child(0)?;
    if call.kind() != "call_expression" {
        return None;
    }
    let f = call.child_by_field_name("function")?;
    loop_macro(&src[f.byte_range()]).map(|i| (call, i))
}

/// The statement after `n` in its block, comments skipped.
pub(crate) fn next_stmt(n: Node<'_>) -> Option<Node<'_>> {
    let mut s = n.next_named_sibling();
    while let Some(x) = s {
        if x.kind() != "comment" {
            return Some(x);
        }
        s = x.next_named_sibling();
    }
    None
}

/// The statement before `n` in its block, comments skipped.
fn prev_stmt(n: Node<'_>) -> Option<Node<'_>> {
    let mut s = n.prev_named_sibling();
    while let Some(x) = s {
        if x.kind() != "comment" {
            return Some(x);
        }
        s = x.prev_named_sibling();
    }
    None
}

/// Whether `n` is an iterator macro's header as the grammar reads it: the
/// call, well formed, its statement's `;` missing, a statement after it.
pub(crate) fn is_header(n: Node<'_>, src: &str) -> bool {
    let Some((call, _)) = header_call(n, src) else {
        return false;
    };
    let missing_semi = n
        .child(n.child_count().saturating_sub(1))
        .is_some_and(|c| c.is_missing() && c.kind() == ";");
    !call.has_error() && missing_semi && next_stmt(n).is_some()
}

/// The direction a loop follows: `list_head`'s field 0 (`next`) or 1
/// (`prev`).
fn link_of(name: &str) -> usize {
    usize::from(name.ends_with("_prev") || name.ends_with("_reverse"))
}

impl<'a> Lower<'a> {
    /// `n` as (part of) an iterator loop: the loop, when `n` is a header;
    /// nothing, when `n` is the body a header before it took (lowered
    /// there); `None` for any other statement.
    pub(super) fn list_iter_stmt(&mut self, n: Node<'a>) -> Option<Result<Vec<Stmt>>> {
        // A body is lowered by its header, first: it may be a header
        // itself (two loops nested without braces).
        let body_of_header = prev_stmt(n).is_some_and(|p| is_header(p, self.src));
        if body_of_header && self.list_iter_body != Some(n.id()) {
            return Some(Ok(Vec::new()));
        }
        let (call, name) = header_call(n, self.src)?;
        if !is_header(n, self.src) {
            return Some(Err(self.err(
                call,
                format!("`{name}(…)` is a loop header: write its body after it, `{name}(…) {{ … }}`, with no `;` after `)`"),
            )));
        }
        if name == SCOPED_GUARD {
            return Some(self.scoped_guard(call, n));
        }
        Some(self.list_loop(call, name, n))
    }

    /// `scoped_guard(name, lock) BODY`: the guard taken for one pass of a
    /// loop around BODY. include/linux/cleanup.h builds it as a `for` whose
    /// scope variable is the guard (`for (CLASS(_name, scope)(args), *done
    /// = NULL; … && !done; done = (void *)1)`): the lock is released when
    /// BODY is left, and a `break` or `continue` in BODY leaves the
    /// scoped_guard, not a loop around it. Lowered as `do { guard(name)(lock);
    /// BODY } while (0)`, which has both properties. The guard names and
    /// locks are `guard()`'s; the conditional forms (`mutex_try`,
    /// `mutex_intr`, …) are not among them.
    fn scoped_guard(&mut self, call: Node<'a>, stmt: Node<'a>) -> Result<Vec<Stmt>> {
        let args = Self::named(self.field(call, "arguments")?);
        let Some((&name, locks)) = args.split_first() else {
            return Err(self.err(
                call,
                "scoped_guard() takes the guard's name and its lock: `scoped_guard(mutex, &x->lock) { … }`",
            ));
        };
        if name.kind() != "identifier" {
            return Err(self.err(
                name,
                "scoped_guard()'s first argument is the guard's name (`mutex`, `srcu`, …)",
            ));
        }
        let guard = self.guard_of(call, self.text(name), locks)?;
        let body = self.list_body(stmt)?;
        let site = self.site(call);
        let zero = self.mk(call, ExprKind::Int(0), Ty::Int);
        Ok(vec![Stmt {
            kind: StmtKind::DoWhile(
                vec![
                    Stmt { kind: guard, site },
                    Stmt {
                        kind: StmtKind::Block(body),
                        site,
                    },
                ],
                zero,
            ),
            site,
        }])
    }

    /// An expression of `site`'s position, labelled `label` in reports.
    fn mk_at(&self, at: Node<'_>, label: String, kind: ExprKind, ty: Ty) -> Expr {
        let p = at.start_position();
        let site = SourceSite {
            file: self.file.to_string(),
            line: p.row as u32 + 1,
            column: p.column as u32 + 1,
            label,
        };
        Expr {
            kind,
            ty,
            site: Box::leak(Box::new(site)),
        }
    }

    /// The loop `call` heads, its body the statement after `stmt`.
    fn list_loop(
        &mut self,
        call: Node<'a>,
        name: &'static str,
        stmt: Node<'a>,
    ) -> Result<Vec<Stmt>> {
        let args = self.field(call, "arguments")?;
        let arg_nodes = Self::named(args);
        let arity = ITERATORS
            .iter()
            .find(|(i, _)| *i == name)
            .map(|(_, a)| a.clone())
            .unwrap_or(0..=0);
        if !arity.contains(&arg_nodes.len()) {
            return Err(self.err(
                call,
                format!(
                    "`{name}` takes {} arguments, {} given",
                    arity.start(),
                    arg_nodes.len()
                ),
            ));
        }
        let lh = self.struct_ix["list_head"];
        let lh_ptr = Ty::Ptr(PtrTy::Struct(lh));
        let link = link_of(name);
        let rcu = name.ends_with("_rcu");
        let entry = name.starts_with("list_for_each_entry");
        let safe = name.ends_with("_safe");
        let head_node = arg_nodes[if safe { 2 } else { 1 }];
        let head = self.expr(head_node)?;
        if head.ty != lh_ptr {
            return Err(self.err(head_node, format!("`{name}`'s head is a `struct list_head *` (the address of an embedded list_head: `&p->list`)")));
        }
        let head_text = self.text(head_node).to_string();
        // The cursors are the iterator's variables: locals of the function.
        let local = |l: &mut Self, at: Node<'a>| -> Result<(usize, Ty)> {
            let e = l.expr(at)?;
            match e.kind {
                ExprKind::Local(slot) => Ok((slot, e.ty)),
                _ => Err(l.err(
                    at,
                    format!("`{name}`'s cursor is a local variable of the function"),
                )),
            }
        };
        let pos_node = arg_nodes[0];
        let (pos, pos_ty) = local(self, pos_node)?;
        let pos_text = self.text(pos_node).to_string();
        let n_node = safe.then(|| arg_nodes[1]);
        let n = match n_node {
            Some(at) => {
                let (slot, ty) = local(self, at)?;
                if ty != pos_ty {
                    return Err(self.err(at, format!("`{name}`'s two cursors have the same type")));
                }
                Some(slot)
            }
            None => None,
        };
        let field_name = ["next", "prev"][link];
        // `base->next`, loaded as the macro loads it.
        let load = |l: &Self, base: Expr, text: &str| -> Expr {
            let label = format!("{text}->{field_name}");
            let f = l.mk_at(
                call,
                label.clone(),
                ExprKind::Field(Box::new(base), lh, link),
                lh_ptr,
            );
            if rcu {
                let addr = l.mk_at(call, label.clone(), ExprKind::AddrOf(Box::new(f)), lh_ptr);
                l.mk_at(
                    call,
                    format!("READ_ONCE({label})"),
                    ExprKind::Builtin(Builtin::READ_ONCE, vec![addr]),
                    lh_ptr,
                )
            } else {
                f
            }
        };
        let var = |l: &Self, slot: usize, ty: Ty, text: &str| {
            l.mk_at(call, text.to_string(), ExprKind::Local(slot), ty)
        };
        let assign = |l: &Self, slot: usize, ty: Ty, text: &str, v: Expr| -> Expr {
            let lhs = var(l, slot, ty, text);
            let label = format!("{text} = {}", v.site.label);
            l.mk_at(
                call,
                label,
                ExprKind::Assign(Box::new(lhs), None, Box::new(v)),
                ty,
            )
        };
        let stmt_of = |l: &Self, e: Expr| Stmt {
            kind: StmtKind::Expr(e),
            site: l.site(call),
        };
        self.scopes.push(HashMap::new());
        let out = if entry {
            let PtrTy::Struct(s) = (match pos_ty {
                Ty::Ptr(p) => p,
                _ => PtrTy::Void,
            }) else {
                return Err(self.err(pos_node, format!("`{name}`'s cursor `{pos_text}` points to the struct the list links (`struct NAME *{pos_text}`)")));
            };
            let member_node = arg_nodes[if safe { 3 } else { 2 }];
            let member = self.text(member_node).to_string();
            let sname = self.structs[s].name.clone();
            let first = match self.embeds.get(&(s, member.clone())) {
                Some(&(t, first)) if t == lh => first,
                _ => {
                    return Err(self.err(
                        member_node,
                        format!("struct {sname} has no `struct list_head {member}` member"),
                    ))
                }
            };
            // The loop's `struct list_head *` cursors: names no C
            // identifier can take.
            let cur = self.declare(format!("{name} cursor"), lh_ptr);
            let nxt = self.declare(format!("{name} next"), lh_ptr);
            let entry_of = |l: &Self, slot: usize, text: &str| -> Expr {
                let c = var(l, slot, lh_ptr, text);
                l.mk_at(
                    call,
                    format!("list_entry({text}, struct {sname}, {member})"),
                    ExprKind::ContainerOfStruct(Box::new(c), s, first),
                    pos_ty,
                )
            };
            let at_head = |l: &mut Self, slot: usize, text: &str| -> Result<Expr> {
                let c = var(l, slot, lh_ptr, text);
                let h = l.expr(head_node)?;
                Ok(l.mk_at(
                    call,
                    format!("{text} != {head_text}"),
                    ExprKind::Binary("!=", Box::new(c), Box::new(h)),
                    Ty::Int,
                ))
            };
            let null = |l: &Self| l.mk_at(call, "NULL".into(), ExprKind::Null, pos_ty);
            let cur_text = format!("&{pos_text}->{member}");
            // init: the first entry's link, from the head.
            let mut init = vec![stmt_of(
                self,
                assign(
                    self,
                    cur,
                    lh_ptr,
                    &cur_text,
                    load(self, head, &format!("({head_text})")),
                ),
            )];
            if n.is_some() {
                let next = load(self, var(self, cur, lh_ptr, &cur_text), &cur_text);
                init.push(stmt_of(self, assign(self, nxt, lh_ptr, "next", next)));
            }
            // cond: not back at the head; at the head, the cursors are NULL.
            let more = at_head(self, cur, &cur_text)?;
            let mut end = null(self);
            if let (Some(n), Some(at)) = (n, n_node) {
                end = assign(self, n, pos_ty, self.text(at), end);
            }
            let end = assign(self, pos, pos_ty, &pos_text, end);
            let one = self.mk_at(call, "1".into(), ExprKind::Int(1), Ty::Int);
            let cond = self.mk_at(
                call,
                more.site.label.clone(),
                ExprKind::Cond(Box::new(more), Box::new(one), Box::new(end)),
                Ty::Int,
            );
            // step: the next link, through pos (or the saved one).
            let step = match n {
                None => {
                    let m = self.mk_at(
                        call,
                        cur_text.clone(),
                        ExprKind::EmbStruct(Box::new(var(self, pos, pos_ty, &pos_text)), lh, first),
                        lh_ptr,
                    );
                    assign(
                        self,
                        cur,
                        lh_ptr,
                        &cur_text,
                        load(self, m, &format!("{pos_text}->{member}")),
                    )
                }
                Some(_) => {
                    let n_text = n_node.map(|at| self.text(at)).unwrap_or("n");
                    let moved = assign(
                        self,
                        cur,
                        lh_ptr,
                        &cur_text,
                        var(self, nxt, lh_ptr, &format!("&{n_text}->{member}")),
                    );
                    assign(
                        self,
                        nxt,
                        lh_ptr,
                        "next",
                        load(self, moved, &format!("{n_text}->{member}")),
                    )
                }
            };
            // body: pos (and n) from the cursors, then the loop's body.
            let mut body = vec![stmt_of(
                self,
                assign(self, pos, pos_ty, &pos_text, entry_of(self, cur, &cur_text)),
            )];
            if let (Some(n), Some(at)) = (n, n_node) {
                let n_text = self.text(at);
                let more = at_head(self, nxt, "next")?;
                let e = entry_of(self, nxt, "next");
                let v = self.mk_at(
                    call,
                    e.site.label.clone(),
                    ExprKind::Cond(Box::new(more), Box::new(e), Box::new(null(self))),
                    pos_ty,
                );
                body.push(stmt_of(self, assign(self, n, pos_ty, n_text, v)));
            }
            body.extend(self.list_body(stmt)?);
            StmtKind::For(init, Some(cond), Some(step), body)
        } else {
            if pos_ty != lh_ptr {
                return Err(self.err(pos_node, format!("`{name}`'s cursor `{pos_text}` is a `struct list_head *` (`list_for_each_entry()` walks the structs)")));
            }
            let mut init = vec![stmt_of(
                self,
                assign(
                    self,
                    pos,
                    lh_ptr,
                    &pos_text,
                    load(self, head, &format!("({head_text})")),
                ),
            )];
            if let (Some(n), Some(at)) = (n, n_node) {
                let n_text = self.text(at);
                let next = load(self, var(self, pos, lh_ptr, &pos_text), &pos_text);
                init.push(stmt_of(self, assign(self, n, lh_ptr, n_text, next)));
            }
            let h = self.expr(head_node)?;
            let p = var(self, pos, lh_ptr, &pos_text);
            let cond = self.mk_at(
                call,
                format!("{pos_text} != {head_text}"),
                ExprKind::Binary("!=", Box::new(p), Box::new(h)),
                Ty::Int,
            );
            let step = match (n, n_node) {
                (Some(n), Some(at)) => {
                    let n_text = self.text(at);
                    let moved = assign(self, pos, lh_ptr, &pos_text, var(self, n, lh_ptr, n_text));
                    assign(self, n, lh_ptr, n_text, load(self, moved, &pos_text))
                }
                _ => assign(
                    self,
                    pos,
                    lh_ptr,
                    &pos_text,
                    load(self, var(self, pos, lh_ptr, &pos_text), &pos_text),
                ),
            };
            StmtKind::For(init, Some(cond), Some(step), self.list_body(stmt)?)
        };
        self.scopes.pop();
        Ok(vec![Stmt {
            kind: out,
            site: self.site(call),
        }])
    }

    /// The loop's body: the statement after the header `stmt`.
    fn list_body(&mut self, stmt: Node<'a>) -> Result<Vec<Stmt>> {
        let Some(body) = next_stmt(stmt) else {
            return Err(self.err(stmt, "a loop header with no body"));
        };
        let outer = self.list_iter_body.replace(body.id());
        let r = self.block(body);
        self.list_iter_body = outer;
        r
    }
}
