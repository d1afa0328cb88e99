//! From tree-sitter's C syntax tree to the checked [`ir`](super::ir): every
//! name resolved, every field checked against its struct, every call bound
//! to a driver function or a kernel-model builtin. Anything the dialect does
//! not model is an error at its position, never a silent misreading.

use super::builtins::{self, Builtin};
use super::error::{KcError, Result};
use super::header::Header;
use super::ir::*;
use crate::workload::UserOp;
use harness::trace::SourceSite;
use std::collections::HashMap;
use tree_sitter::Node;

pub(crate) mod list_iter;
pub mod macros;

/// Lower a parsed file.
pub fn lower<'a>(
    file: &'a str,
    src: &'a str,
    root: Node<'a>,
    macros: HashMap<String, macros::MacroDef<'a>>,
    header: Header,
) -> Result<Program> {
    let mut l = Lower {
        macros,
        macro_args: Vec::new(),
        file,
        src,
        structs: Vec::new(),
        struct_ix: HashMap::new(),
        globals: Vec::new(),
        global_ix: HashMap::new(),
        funcs: Vec::new(),
        func_ix: HashMap::new(),
        fops: Vec::new(),
        fops_ix: HashMap::new(),
        scopes: Vec::new(),
        nlocals: 0,
        labels: HashMap::new(),
        ret: Ty::Void,
        arrays: HashMap::new(),
        defines: HashMap::new(),
        fn_sigs: Vec::new(),
        statics: Vec::new(),
        static_ix: HashMap::new(),
        field_arrays: HashMap::new(),
        embeds: HashMap::new(),
        stack: Vec::new(),
        nest: 0,
        top_pos: 0,
        top_guards: Vec::new(),
        gotos: Vec::new(),
        list_iter_body: None,
    };
    l.unit(root, header)
}

struct Lower<'a> {
    file: &'a str,
    /// The text nodes are read from: the file's, or a function-like
    /// macro's while its body is lowered.
    src: &'a str,
    /// The file's function-like macros.
    macros: HashMap<String, macros::MacroDef<'a>>,
    /// Per expansion in progress, innermost last: each parameter, the
    /// caller's argument and the text it is read from.
    macro_args: Vec<Vec<(String, Node<'a>, &'a str)>>,
    structs: Vec<StructDef>,
    struct_ix: HashMap<String, usize>,
    globals: Vec<Global>,
    global_ix: HashMap<String, usize>,
    funcs: Vec<Option<Func>>,
    func_ix: HashMap<String, (usize, Ty, Vec<Ty>)>,
    fops: Vec<Fops>,
    fops_ix: HashMap<String, usize>,
    scopes: Vec<HashMap<String, (usize, Ty)>>,
    nlocals: usize,
    labels: HashMap<String, (Option<usize>, Node<'a>)>,
    ret: Ty,
    /// Array globals: name to (first element's global, length).
    arrays: HashMap<String, (usize, usize)>,
    /// Object-like `#define NAME VALUE` constants.
    defines: HashMap<String, i64>,
    /// Function-pointer signatures, indexed by [`Ty::FnPtr`].
    fn_sigs: Vec<(Ty, Vec<Ty>)>,
    /// Static driver structs: name, struct, first field's global.
    statics: Vec<(String, usize, usize)>,
    static_ix: HashMap<String, usize>,
    /// Array fields: (struct, name) to (first element's field, length,
    /// element size in bytes). An array longer than [`MAX_ARRAY_CELLS`] is
    /// one field standing for the whole buffer (length 0 here: its
    /// elements cannot be indexed), with its byte size kept for `sizeof`.
    field_arrays: HashMap<(usize, String), (usize, usize, usize, i64)>,
    /// Driver structs embedded by value (`struct gpio_chip gc;`):
    /// (container, member) to (embedded struct, index of its first field
    /// among the container's, where its fields are laid out inline).
    embeds: HashMap<(usize, String), (usize, usize)>,
    /// The current function's structs on the stack, by slot.
    stack: Vec<usize>,
    /// How deep in nested blocks the statement being lowered is (0: the
    /// function body's top level).
    nest: usize,
    /// The index among the function body's top-level statements of the
    /// one being lowered.
    top_pos: usize,
    /// The top-level `guard()` statements of the current function: their
    /// index and line.
    top_guards: Vec<(usize, u32)>,
    /// The current function's `goto`s: label, the index of the top-level
    /// statement they are in, and where.
    gotos: Vec<(String, usize, Node<'a>)>,
    /// The statement being lowered as an iterator macro's body
    /// ([`list_iter`]), by node id.
    list_iter_body: Option<usize>,
}

/// Array fields up to this length get a model cell per element; longer ones
/// (a 4 KiB TPM command buffer) are buffers whose contents the race does not
/// involve: passed and sized, never indexed.
const MAX_ARRAY_CELLS: usize = 64;

/// The size in bytes of an integer type, for `sizeof` of an array field.
fn int_size(ty: &str) -> i64 {
    match ty.trim_start_matches("unsigned ").trim() {
        "u8" | "s8" | "char" => 1,
        "u16" | "s16" | "short" => 2,
        "u32" | "s32" | "int" | "__u32" | "uint" | "unsigned" => 4,
        _ => 8,
    }
}

/// Whether a type name is a kernel object the model has.
fn prim_of(name: &str) -> Option<PrimKind> {
    Some(match name {
        "device" => PrimKind::Device,
        "cdev" => PrimKind::Cdev,
        "kref" => PrimKind::Kref,
        "rw_semaphore" => PrimKind::Rwsem,
        "mutex" => PrimKind::Mutex,
        "spinlock_t" | "spinlock" => PrimKind::Spinlock,
        "srcu_struct" => PrimKind::Srcu,
        "atomic_t" => PrimKind::Atomic,
        "completion" => PrimKind::Completion,
        "wait_queue_head_t" | "wait_queue_head" => PrimKind::WaitQueue,
        "percpu_ref" => PrimKind::PercpuRef,
        _ => return None,
    })
}

/// The type a global primitive's definition macro declares.
fn define_macro(name: &str) -> Option<PrimKind> {
    Some(match name {
        "DECLARE_RWSEM" => PrimKind::Rwsem,
        "DEFINE_STATIC_SRCU" | "DEFINE_SRCU" => PrimKind::Srcu,
        "DEFINE_MUTEX" => PrimKind::Mutex,
        "DEFINE_SPINLOCK" => PrimKind::Spinlock,
        "DECLARE_COMPLETION" => PrimKind::Completion,
        "DECLARE_WAIT_QUEUE_HEAD" => PrimKind::WaitQueue,
        _ => return None,
    })
}

const INT_TYPES: &[&str] = &[
    "int", "long", "short", "char", "unsigned", "signed", "u8", "u16", "u32", "u64", "s8", "s16",
    "s32", "s64", "size_t", "ssize_t", "loff_t", "__u32", "__u64", "uint", "ulong", "__poll_t",
    "gfp_t",
];

impl<'a> Lower<'a> {
    fn text(&self, n: Node<'_>) -> &'a str {
        &self.src[n.byte_range()]
    }

    fn err(&self, n: Node<'_>, msg: impl Into<String>) -> KcError {
        let p = n.start_position();
        KcError::at(self.file, p.row as u32 + 1, p.column as u32 + 1, msg)
    }

    fn site(&self, n: Node<'_>) -> &'static SourceSite {
        let p = n.start_position();
        let text = self.text(n);
        let label = text.split_whitespace().collect::<Vec<_>>().join(" ");
        let label = label.trim_end_matches(';').trim().to_string();
        Box::leak(Box::new(SourceSite {
            file: self.file.to_string(),
            line: p.row as u32 + 1,
            column: p.column as u32 + 1,
            label,
        }))
    }

    fn field<'t>(&self, n: Node<'t>, name: &str) -> Result<Node<'t>> {
        n.child_by_field_name(name)
            .ok_or_else(|| self.err(n, format!("expected a {name} here")))
    }

    fn named(n: Node<'_>) -> Vec<Node<'_>> {
        let mut c = n.walk();
        n.named_children(&mut c)
            .filter(|c| c.kind() != "comment")
            .collect()
    }

    fn unit(&mut self, root: Node<'a>, header: Header) -> Result<Program> {
        let items = Self::named(root);
        // Object-like macros first: a struct's array field may be sized by
        // one (`u8 data_buffer[TPM_BUFSIZE]`).
        for &n in &items {
            if n.kind() == "preproc_def" {
                self.define(n)?;
            }
        }
        // Every struct's name first: a field may point to a struct defined
        // further down.
        for &n in &items {
            let spec = match n.kind() {
                "struct_specifier" => Some(n),
                "declaration" => n
                    .child_by_field_name("type")
                    .filter(|t| t.kind() == "struct_specifier"),
                _ => None,
            };
            if let Some(spec) = spec.filter(|t| t.child_by_field_name("body").is_some()) {
                if let Some(name) = spec.child_by_field_name("name") {
                    let name = self.text(name).to_string();
                    if self.struct_ix.contains_key(&name) {
                        return Err(self.err(spec, format!("struct {name} is defined twice")));
                    }
                    self.struct_ix.insert(name.clone(), self.structs.len());
                    self.structs.push(StructDef {
                        name,
                        fields: Vec::new(),
                        embeds: Vec::new(),
                    });
                }
            }
        }
        // `struct list_head` is include/linux/types.h's, as the file would
        // have it from its includes: two pointers to list_heads, embedded in
        // the structs a list links; list.h's operations are builtins.
        if !self.struct_ix.contains_key("list_head") {
            let ix = self.structs.len();
            let link = FieldTy::Cell(Ty::Ptr(PtrTy::Struct(ix)));
            self.struct_ix.insert("list_head".to_string(), ix);
            self.structs.push(StructDef {
                name: "list_head".to_string(),
                fields: vec![("next".to_string(), link), ("prev".to_string(), link)],
                embeds: Vec::new(),
            });
        }
        // Arrays of integers (`bitmap_zalloc()`, `kcalloc(n, sizeof(int),
        // …)`) are arrays of this one-cell struct.
        self.struct_ix
            .insert(WORD_STRUCT.to_string(), self.structs.len());
        self.structs.push(StructDef {
            name: WORD_STRUCT.to_string(),
            fields: vec![(String::new(), FieldTy::Cell(Ty::Int))],
            embeds: Vec::new(),
        });
        // Structs, globals and function signatures first: functions and
        // fops tables may use what is defined after them.
        for &n in &items {
            match n.kind() {
                "struct_specifier" => self.struct_def(n)?,
                "declaration" => {
                    if let Some(t) = n.child_by_field_name("type") {
                        if t.kind() == "struct_specifier" && t.child_by_field_name("body").is_some()
                        {
                            self.struct_def(t)?;
                        }
                    }
                }
                "function_definition" => self.signature(n)?,
                _ => {}
            }
        }
        for &n in &items {
            match n.kind() {
                "struct_specifier" | "function_definition" => {}
                "declaration" => self.global_decl(n)?,
                "expression_statement" => self.global_macro(n)?,
                "preproc_include" | "preproc_def" => {}
                // Read before lowering (`macros::sources`), expanded at
                // their calls.
                "preproc_function_def" => {}
                "type_definition" => {
                    return Err(self.err(n, "typedefs are not supported (write `struct NAME` instead)"))
                }
                "union_specifier" => {
                    return Err(self.err(n, "unions are not supported (write a struct with the member the driver uses)"))
                }
                ";" | "empty_declaration" => {}
                k => return Err(self.err(n, format!("unsupported top-level construct `{k}` (write struct definitions, globals, functions and a file_operations table)"))),
            }
        }
        for &n in &items {
            if n.kind() == "function_definition" {
                self.function(n)?;
            }
        }
        let funcs: Vec<Func> = self.funcs.drain(..).flatten().collect();
        let entry = |name: &str, key: &str| -> Result<usize> {
            funcs.iter().position(|f| f.name == name).ok_or_else(|| {
                KcError::at(
                    self.file,
                    1,
                    1,
                    format!("the header names `{key} = \"{name}\"` but the file defines no function `{name}` (define `static {} {name}(struct device *parent)`)", if key == "probe" { "int" } else { "void" }),
                )
            })
        };
        let probe = entry(&header.probe, "probe")?;
        let remove = entry(&header.remove, "remove")?;
        for (ix, key) in [(probe, "probe"), (remove, "remove")] {
            let f = &funcs[ix];
            if f.params.len() != 1 || f.params[0] != Ty::Ptr(PtrTy::Prim(PrimKind::Device)) {
                return Err(KcError::at(
                    self.file,
                    f.site.line,
                    f.site.column,
                    format!("the {key} function `{}` takes the parent device (write `{}(struct device *parent)`)", f.name, f.name),
                ));
            }
        }
        if self.fops.is_empty() {
            return Err(KcError::at(
                self.file,
                1,
                1,
                "the file defines no `struct file_operations` (write `static const struct file_operations NAME_fops = { .open = …, .release = …, .unlocked_ioctl = … };`)",
            ));
        }
        // Every operation the workload's users issue needs its handler: a
        // missing one would answer -EINVAL and explore nothing.
        let ops: Vec<UserOp> = header
            .workload
            .workload()
            .users()
            .iter()
            .flat_map(|u| u.ops.iter().cloned())
            .collect();
        let wants = |f: fn(&UserOp) -> bool| ops.iter().any(f);
        for (used, missing, what) in [
            (
                wants(|o| matches!(o, UserOp::Ioctl { .. })),
                self.fops.iter().all(|f| f.ioctl.is_none()),
                "ioctls but no file_operations table has `.unlocked_ioctl` (add `.unlocked_ioctl = NAME_ioctl`)",
            ),
            (
                wants(|o| matches!(o, UserOp::Write { .. })),
                self.fops.iter().all(|f| f.write.is_none()),
                "writes but no file_operations table has `.write` (add `.write = NAME_write`)",
            ),
            (
                wants(|o| matches!(o, UserOp::Read { .. })),
                self.fops.iter().all(|f| f.read.is_none()),
                "reads but no file_operations table has `.read` (add `.read = NAME_read`)",
            ),
        ] {
            if used && missing {
                return Err(KcError::at(self.file, 1, 1, format!("the workload issues {what}")));
            }
        }
        let r = funcs[remove].site;
        let unbind_site = Box::leak(Box::new(SourceSite {
            file: r.file.clone(),
            line: r.line,
            column: r.column,
            label: "device_release_driver(parent)".to_string(),
        }));
        Ok(Program {
            unbind_site,
            file: self.file.to_string(),
            header,
            structs: std::mem::take(&mut self.structs),
            globals: std::mem::take(&mut self.globals),
            funcs,
            fops: std::mem::take(&mut self.fops),
            fn_sigs: std::mem::take(&mut self.fn_sigs),
            statics: std::mem::take(&mut self.statics),
            probe,
            remove,
        })
    }

    /// `#define NAME VALUE` where VALUE is an integer constant, a name
    /// defined before it, or `A << B` of those: the drivers' buffer sizes and limits. Anything
    /// else would need the preprocessor, and is refused rather than guessed.
    fn define(&mut self, n: Node<'a>) -> Result<()> {
        let name = self.text(self.field(n, "name")?).to_string();
        let value = n.child_by_field_name("value").ok_or_else(|| {
            self.err(n, format!("`#define {name}` without a value is not supported (a macro here must stand for an integer)"))
        })?;
        let text = self.text(value).trim();
        let inner = text
            .strip_prefix('(')
            .and_then(|t| t.strip_suffix(')'))
            .unwrap_or(text)
            .trim();
        let atom = |t: &str| {
            let t = t.trim();
            parse_int(t)
                .or_else(|| self.defines.get(t).copied())
                .or_else(|| builtins::constant(t))
        };
        // `BIT`-style flags: `(1UL << 0)`.
        let v = match inner.split_once("<<") {
            Some((a, b)) => atom(a)
                .zip(atom(b))
                .and_then(|(a, b)| u32::try_from(b).ok().and_then(|b| a.checked_shl(b))),
            None => atom(inner),
        }
            .ok_or_else(|| {
                self.err(
                    value,
                    format!("`#define {name} {text}`: only macros standing for an integer constant are expanded (write the code the macro stands for, or a static function)"),
                )
            })?;
        if self.defines.insert(name.clone(), v).is_some() {
            return Err(self.err(n, format!("`{name}` is defined twice")));
        }
        Ok(())
    }

    fn struct_def(&mut self, n: Node<'a>) -> Result<()> {
        let name = self.text(self.field(n, "name")?).to_string();
        let Some(body) = n.child_by_field_name("body") else {
            return Ok(());
        };
        let ix = self.struct_ix[&name];
        let mut fields = Vec::new();
        for f in Self::named(body) {
            if f.kind() != "field_declaration" {
                return Err(self.err(
                    f,
                    format!("unsupported member `{}` in struct {name}", f.kind()),
                ));
            }
            let ty_node = self.field(f, "type")?;
            let mut c = f.walk();
            let decls: Vec<Node> = f.children_by_field_name("declarator", &mut c).collect();
            for d in decls {
                if d.kind() == "array_declarator" {
                    self.array_field(ix, &mut fields, ty_node, d)?;
                    continue;
                }
                if let Some((fname, ty)) = self.fn_ptr_declarator(ty_node, d)? {
                    fields.push((fname, FieldTy::Cell(ty)));
                    continue;
                }
                let (fname, ptr) = self.declarator(d)?;
                if let Some(t) = self.embedded_struct(ty_node, ptr) {
                    self.embed(ix, &name, &mut fields, fname, t, ty_node)?;
                    continue;
                }
                let ty = self.type_of(ty_node, ptr, true)?;
                fields.push((fname, ty));
            }
        }
        self.structs[ix].fields = fields;
        Ok(())
    }

    /// The driver struct of this file `ty_node` names by value, if it does.
    fn embedded_struct(&self, ty_node: Node<'a>, ptr: usize) -> Option<usize> {
        if ptr != 0 || ty_node.kind() != "struct_specifier" {
            return None;
        }
        let name = self.text(ty_node.child_by_field_name("name")?);
        self.struct_ix.get(name).copied()
    }

    /// `struct T member;` in struct `ix`: `T`'s fields laid out inline as
    /// `member.field`, so they are cells of the container's object and a
    /// use after the container's free is a use-after-free, as in the kernel
    /// where the embedded struct is part of the container's allocation.
    fn embed(
        &mut self,
        ix: usize,
        name: &str,
        fields: &mut Vec<(String, FieldTy)>,
        member: String,
        t: usize,
        ty_node: Node<'a>,
    ) -> Result<()> {
        let tname = self.structs[t].name.clone();
        if t == ix || self.structs[t].fields.is_empty() {
            return Err(self.err(
                ty_node,
                format!("struct {name} embeds struct {tname}: define struct {tname}, with its fields, before struct {name}"),
            ));
        }
        let base = fields.len();
        for (f, ty) in self.structs[t].fields.clone() {
            fields.push((format!("{member}.{f}"), ty));
        }
        let inner: Vec<_> = self
            .field_arrays
            .iter()
            .filter(|((s, _), _)| *s == t)
            .map(|((_, f), v)| (f.clone(), *v))
            .collect();
        for (f, (first, len, z, bytes)) in inner {
            self.field_arrays
                .insert((ix, format!("{member}.{f}")), (base + first, len, z, bytes));
        }
        let inner: Vec<_> = self
            .embeds
            .iter()
            .filter(|((s, _), _)| *s == t)
            .map(|((_, f), v)| (f.clone(), *v))
            .collect();
        for (f, (u, first)) in inner {
            self.embeds
                .insert((ix, format!("{member}.{f}")), (u, base + first));
        }
        self.embeds.insert((ix, member), (t, base));
        self.structs[ix].embeds.push((t, base));
        Ok(())
    }

    /// `u8 data_buffer[TPM_BUFSIZE];` in struct `ix`: an integer array.
    fn array_field(
        &mut self,
        ix: usize,
        fields: &mut Vec<(String, FieldTy)>,
        ty_node: Node<'a>,
        d: Node<'a>,
    ) -> Result<()> {
        let (name, ptr) = self.declarator(self.field(d, "declarator")?)?;
        let ty = self.type_of(ty_node, ptr, true)?;
        if ty != FieldTy::Cell(Ty::Int) {
            return Err(self.err(
                d,
                "array fields hold integers (write one field per element of other types)",
            ));
        }
        let size = self.field(d, "size")?;
        let len = self.const_expr(size)?;
        let len = usize::try_from(len)
            .ok()
            .filter(|l| *l > 0)
            .ok_or_else(|| self.err(size, "an array field has a positive length"))?;
        let bytes = i64::try_from(len)
            .unwrap_or(i64::MAX)
            .saturating_mul(int_size(self.text(ty_node)));
        let first = fields.len();
        if len <= MAX_ARRAY_CELLS {
            for i in 0..len {
                fields.push((format!("{name}[{i}]"), ty));
            }
            self.field_arrays.insert((ix, name), (first, len, 0, bytes));
        } else {
            fields.push((format!("{name}[]"), ty));
            self.field_arrays.insert((ix, name), (first, 0, 0, bytes));
        }
        Ok(())
    }

    /// `RET (*NAME)(PARAMS)`: a function pointer, as the kernel's ops
    /// tables (`struct tpm_class_ops`, `struct ib_device_ops`) hold them.
    /// `None` if `d` declares something else.
    fn fn_ptr_declarator(&mut self, ret: Node<'a>, d: Node<'a>) -> Result<Option<(String, Ty)>> {
        let (f, ret_ptr) = match d.kind() {
            "function_declarator" => (d, 0),
            "pointer_declarator" => {
                let inner = self.field(d, "declarator")?;
                if inner.kind() != "function_declarator" {
                    return Ok(None);
                }
                (inner, 1)
            }
            _ => return Ok(None),
        };
        let paren = self.field(f, "declarator")?;
        if paren.kind() != "parenthesized_declarator" {
            return Ok(None);
        }
        let inner = Self::named(paren);
        let [ptr] = inner.as_slice() else {
            return Err(self.err(paren, "unsupported function-pointer declarator"));
        };
        if ptr.kind() != "pointer_declarator" {
            return Err(self.err(*ptr, "a function pointer is written `RET (*NAME)(PARAMS)`"));
        }
        let (name, depth) = self.declarator(self.field(*ptr, "declarator")?)?;
        if depth != 0 {
            return Err(self.err(*ptr, "pointers to function pointers are not supported"));
        }
        let ret = match self.type_of(ret, ret_ptr, false)? {
            FieldTy::Cell(t) => t,
            FieldTy::Prim(_) => return Err(self.err(ret, "functions return scalars or pointers")),
        };
        let params = self.param_types(self.field(f, "parameters")?)?;
        self.fn_sigs.push((ret, params));
        Ok(Some((name, Ty::FnPtr(self.fn_sigs.len() - 1))))
    }

    /// A declarator's name and pointer depth; arrays and function pointers
    /// are errors.
    fn declarator(&self, d: Node<'a>) -> Result<(String, usize)> {
        match d.kind() {
            "identifier" | "field_identifier" => Ok((self.text(d).to_string(), 0)),
            "pointer_declarator" => {
                let (n, p) = self.declarator(self.field(d, "declarator")?)?;
                Ok((n, p + 1))
            }
            "array_declarator" => Err(self.err(d, "arrays are not supported (write one variable or field per element)")),
            "function_declarator" => Err(self.err(
                d,
                "function pointers are supported only in `struct file_operations` and `dev->release` (call the function directly)",
            )),
            "parenthesized_declarator" => Err(self.err(d, "function pointers are supported only in `struct file_operations` and `dev->release` (call the function directly)")),
            k => Err(self.err(d, format!("unsupported declarator `{k}`"))),
        }
    }

    /// The type `ty_node` with `ptr` levels of indirection.
    fn type_of(&self, ty_node: Node<'a>, ptr: usize, in_struct: bool) -> Result<FieldTy> {
        let text = self.text(ty_node);
        let (prim, strukt) = match ty_node.kind() {
            "struct_specifier" => {
                let name = self.text(self.field(ty_node, "name")?);
                (prim_of(name), Some(name))
            }
            "union_specifier" => {
                return Err(self.err(
                    ty_node,
                    "unions are not supported (write a struct with the member the driver uses)",
                ))
            }
            "enum_specifier" => {
                return Ok(FieldTy::Cell(if ptr == 0 {
                    Ty::Int
                } else {
                    Ty::Ptr(PtrTy::Void)
                }))
            }
            _ => (prim_of(text), None),
        };
        if ptr > 1 {
            return Err(self.err(
                ty_node,
                "pointers to pointers are not supported (keep one level of indirection)",
            ));
        }
        if ptr == 1 {
            let to = match (prim, strukt) {
                (Some(k), _) => PtrTy::Prim(k),
                (None, Some("file")) => PtrTy::File,
                (None, Some("inode")) => PtrTy::Inode,
                (None, Some("file_operations")) => PtrTy::Fops,
                (None, Some(s)) => match self.struct_ix.get(s) {
                    Some(&ix) => PtrTy::Struct(ix),
                    None => PtrTy::Opaque,
                },
                (None, None) if text == "void" => PtrTy::Void,
                (None, None) if text == "char" => PtrTy::Char,
                (None, None)
                    if ty_node.kind() == "sized_type_specifier"
                        || INT_TYPES.contains(&text.trim_start_matches("unsigned ").trim()) =>
                {
                    PtrTy::Int
                }
                (None, None) => {
                    return Err(self.err(ty_node, format!("unsupported pointer type `{text} *`")))
                }
            };
            return Ok(FieldTy::Cell(Ty::Ptr(to)));
        }
        if let Some(k) = prim {
            return Ok(FieldTy::Prim(k));
        }
        if let Some(s) = strukt {
            return Err(self.err(
                ty_node,
                if in_struct {
                    format!("embedded `struct {s}` is not supported (point to it: `struct {s} *NAME`)")
                } else {
                    format!("a `struct {s}` by value is not supported (use a pointer: `struct {s} *NAME`)")
                },
            ));
        }
        if text == "bool" || text == "_Bool" {
            return Ok(FieldTy::Cell(Ty::Bool));
        }
        if text == "dev_t" {
            return Ok(FieldTy::Cell(Ty::DevT));
        }
        if ty_node.kind() == "sized_type_specifier"
            || INT_TYPES.contains(&text.trim_start_matches("unsigned ").trim())
        {
            return Ok(FieldTy::Cell(Ty::Int));
        }
        if text == "void" {
            return Ok(FieldTy::Cell(Ty::Void));
        }
        Err(self.err(ty_node, format!("unknown type `{text}` (the model has int-like types, bool, pointers, struct device, cdev, kref, rw_semaphore, mutex, srcu_struct, completion, percpu_ref, spinlock_t, atomic_t, wait_queue_head_t)")))
    }

    fn global_macro(&mut self, n: Node<'a>) -> Result<()> {
        // `DEFINE_STATIC_SRCU(x);` parses as a call at file scope.
        let call = Self::named(n).into_iter().next();
        if let Some(call) = call.filter(|c| c.kind() == "call_expression") {
            let f = self.text(self.field(call, "function")?);
            let args = Self::named(self.field(call, "arguments")?);
            if let (Some(k), [arg]) = (define_macro(f), args.as_slice()) {
                if arg.kind() == "identifier" {
                    return self.add_global(*arg, self.text(*arg).to_string(), FieldTy::Prim(k), 0);
                }
            }
            return Err(self.err(n, format!("unknown file-scope macro `{f}` (write DECLARE_RWSEM, DEFINE_STATIC_SRCU, DEFINE_MUTEX, DEFINE_SPINLOCK, DECLARE_COMPLETION or DECLARE_WAIT_QUEUE_HEAD)")));
        }
        Err(self.err(n, "unsupported statement at file scope"))
    }

    fn add_global(&mut self, n: Node<'_>, name: String, ty: FieldTy, init: i64) -> Result<()> {
        if self.global_ix.contains_key(&name) {
            return Err(self.err(n, format!("`{name}` is defined twice")));
        }
        self.global_ix.insert(name.clone(), self.globals.len());
        self.globals.push(Global { name, ty, init });
        Ok(())
    }

    fn global_decl(&mut self, n: Node<'a>) -> Result<()> {
        let ty_node = self.field(n, "type")?;
        let mut c = n.walk();
        let decls: Vec<Node> = n.children_by_field_name("declarator", &mut c).collect();
        for d in decls {
            // `static DECLARE_RWSEM(x);`: the macro reads as a type, the
            // name as a parenthesised declarator.
            if d.kind() == "parenthesized_declarator" {
                let m = self.text(ty_node);
                let inner = Self::named(d);
                return match (define_macro(m), inner.as_slice()) {
                    (Some(k), [id]) if id.kind() == "identifier" => {
                        self.add_global(*id, self.text(*id).to_string(), FieldTy::Prim(k), 0)
                    }
                    _ => Err(self.err(n, format!("unknown file-scope macro `{m}` (write DECLARE_RWSEM, DEFINE_STATIC_SRCU, DEFINE_MUTEX, DEFINE_SPINLOCK, DECLARE_COMPLETION or DECLARE_WAIT_QUEUE_HEAD)"))),
                };
            }
            if d.kind() == "function_declarator" {
                // A prototype: the definition is what counts.
                continue;
            }
            let (decl, value) = if d.kind() == "init_declarator" {
                (self.field(d, "declarator")?, d.child_by_field_name("value"))
            } else {
                (d, None)
            };
            // `static atomic_t count[2];`: one global per element, `count[0]`
            // and `count[1]`, indexed at run time.
            if decl.kind() == "array_declarator" && value.is_none() {
                let (name, ptr) = self.declarator(self.field(decl, "declarator")?)?;
                let size = self.field(decl, "size")?;
                let len = self.number(size)?;
                if !(1..=64).contains(&len) {
                    return Err(self.err(size, "an array global has 1 to 64 elements"));
                }
                let ty = self.type_of(ty_node, ptr, false)?;
                let first = self.globals.len();
                for i in 0..len {
                    self.add_global(d, format!("{name}[{i}]"), ty, 0)?;
                }
                self.arrays.insert(name, (first, len as usize));
                continue;
            }
            let (name, ptr) = self.declarator(decl)?;
            if ty_node.kind() == "struct_specifier"
                && self.text(self.field(ty_node, "name")?) == "file_operations"
                && ptr == 0
            {
                let v = value
                    .ok_or_else(|| self.err(d, "a file_operations table needs its initializer"))?;
                self.fops_table(name, v)?;
                continue;
            }
            if ty_node.kind() == "struct_specifier" && ptr == 0 {
                let sname = self.text(self.field(ty_node, "name")?);
                if let Some(&def) = self.struct_ix.get(sname) {
                    self.static_struct(d, name, def, value)?;
                    continue;
                }
            }
            let ty = self.type_of(ty_node, ptr, false)?;
            let init = match value {
                None => 0,
                Some(v) if v.kind() == "number_literal" => self.number(v)?,
                Some(v) if matches!(v.kind(), "true" | "false" | "null") => {
                    i64::from(v.kind() == "true")
                }
                Some(v) => return Err(self.err(
                    v,
                    "a global's initializer must be a constant (initialise it in probe instead)",
                )),
            };
            self.add_global(d, name, ty, init)?;
        }
        Ok(())
    }

    /// `static const struct tpm_class_ops ftpm_tee_tpm_ops = { .recv = …,
    /// .send = … };`: an ops table of the driver. Its fields become
    /// globals (`ftpm_tee_tpm_ops.send`), initialised from the designated
    /// initializer: functions of this file, integers or NULL.
    fn static_struct(
        &mut self,
        d: Node<'a>,
        name: String,
        def: usize,
        value: Option<Node<'a>>,
    ) -> Result<()> {
        let fields = self.structs[def].fields.clone();
        let mut inits = vec![0i64; fields.len()];
        if let Some(v) = value {
            if v.kind() != "initializer_list" {
                return Err(self.err(
                    v,
                    "a static struct is initialised with `{ .field = value, … }`",
                ));
            }
            for pair in Self::named(v) {
                if pair.kind() != "initializer_pair" {
                    return Err(self.err(pair, "write designated initializers: `.field = value`"));
                }
                let mut c = pair.walk();
                let designators: Vec<Node> =
                    pair.children_by_field_name("designator", &mut c).collect();
                let [des] = designators.as_slice() else {
                    return Err(self.err(pair, "one designator per field: `.field = value`"));
                };
                let fname = self.text(*des).trim_start_matches('.').trim();
                let Some(fi) = fields.iter().position(|(f, _)| f == fname) else {
                    return Err(self.err(
                        *des,
                        format!("struct {} has no field `{fname}`", self.structs[def].name),
                    ));
                };
                let val = self.field(pair, "value")?;
                let e = self.expr(val)?;
                inits[fi] = match (fields[fi].1, &e.kind) {
                    (FieldTy::Cell(Ty::FnPtr(sig)), _) => {
                        self.check_fn_ptr_value(val, sig, &e)?;
                        match e.kind {
                            // The function's index plus one, as the cell holds it.
                            ExprKind::Func(f) => i64::try_from(f).map_or(0, |f| f + 1),
                            _ => 0,
                        }
                    }
                    (FieldTy::Cell(Ty::Int | Ty::Bool), ExprKind::Int(v)) => *v,
                    (FieldTy::Cell(Ty::Ptr(_)), ExprKind::Null) => 0,
                    _ => return Err(self.err(val, "a static struct's field is initialised with a function of this file, an integer constant or NULL")),
                };
            }
        }
        let first = self.globals.len();
        for (i, (f, ty)) in fields.iter().enumerate() {
            match ty {
                FieldTy::Cell(_) => self.add_global(d, format!("{name}.{f}"), *ty, inits[i])?,
                FieldTy::Prim(_) => return Err(self.err(d, format!("a static struct {} holds kernel objects (`{f}`); only ops tables of function pointers and integers are static", self.structs[def].name))),
            }
        }
        // The globals' names keep the dot, so they cannot clash with C
        // names; the struct's own name is what the code uses.
        self.static_ix.insert(name.clone(), self.statics.len());
        self.statics.push((name, def, first));
        Ok(())
    }

    fn fops_table(&mut self, name: String, v: Node<'a>) -> Result<()> {
        if v.kind() != "initializer_list" {
            return Err(self.err(
                v,
                "write the table with designated initializers (`{ .open = NAME_open, … }`)",
            ));
        }
        let mut fops = Fops {
            name: name.clone(),
            ..Fops::default()
        };
        for pair in Self::named(v) {
            if pair.kind() != "initializer_pair" {
                return Err(self.err(
                    pair,
                    "write the table with designated initializers (`.open = NAME_open`)",
                ));
            }
            let des = self
                .text(self.field(pair, "designator")?)
                .trim_start_matches('.')
                .trim();
            let val = self.field(pair, "value")?;
            let fname = self.text(val);
            let slot = match des {
                "owner" | "llseek" | "compat_ioctl" => continue,
                "open" => &mut fops.open,
                "release" => &mut fops.release,
                "unlocked_ioctl" => &mut fops.ioctl,
                "read" => &mut fops.read,
                "write" => &mut fops.write,
                other => return Err(self.err(pair, format!("file operation `.{other}` is not modelled (the workload calls .open, .release, .unlocked_ioctl, .read, .write)"))),
            };
            let Some((ix, _, _)) = self.func_ix.get(fname) else {
                return Err(self.err(
                    val,
                    format!("`.{des} = {fname}`: no function `{fname}` is defined in this file"),
                ));
            };
            *slot = Some(*ix);
        }
        self.fops_ix.insert(name, self.fops.len());
        self.fops.push(fops);
        Ok(())
    }

    fn number(&self, n: Node<'_>) -> Result<i64> {
        parse_int(self.text(n)).ok_or_else(|| self.err(n, format!("bad number `{}`", self.text(n))))
    }

    /// A function's declarator: name and parameter list.
    fn fn_parts(&self, n: Node<'a>) -> Result<(Node<'a>, Node<'a>, usize)> {
        let mut d = self.field(n, "declarator")?;
        let mut ptr = 0;
        while d.kind() == "pointer_declarator" {
            ptr += 1;
            d = self.field(d, "declarator")?;
        }
        if d.kind() != "function_declarator" {
            return Err(self.err(d, "expected a function declarator"));
        }
        Ok((
            self.field(d, "declarator")?,
            self.field(d, "parameters")?,
            ptr,
        ))
    }

    fn signature(&mut self, n: Node<'a>) -> Result<()> {
        let (name_node, params, ptr) = self.fn_parts(n)?;
        let name = self.text(name_node).to_string();
        if builtins::find(&name).is_some() {
            return Err(self.err(name_node, format!("`{name}` is a kernel function the model provides (rename the driver's function)")));
        }
        let ret = match self.type_of(self.field(n, "type")?, ptr, false)? {
            FieldTy::Cell(t) => t,
            FieldTy::Prim(_) => return Err(self.err(n, "functions return scalars or pointers")),
        };
        let tys = self.param_types(params)?;
        if self.func_ix.contains_key(&name) {
            return Err(self.err(name_node, format!("function `{name}` is defined twice")));
        }
        self.func_ix.insert(name, (self.funcs.len(), ret, tys));
        self.funcs.push(None);
        Ok(())
    }

    /// The types of a parameter list.
    fn param_types(&self, params: Node<'a>) -> Result<Vec<Ty>> {
        let mut tys = Vec::new();
        for p in Self::named(params) {
            match p.kind() {
                "variadic_parameter" => {
                    return Err(self.err(
                        p,
                        "variadic functions are not supported (give the function fixed parameters)",
                    ))
                }
                "parameter_declaration" => {
                    let t = self.field(p, "type")?;
                    let Some(d) = p.child_by_field_name("declarator") else {
                        if self.text(t) == "void" {
                            continue;
                        }
                        return Err(self.err(p, "name every parameter"));
                    };
                    let (_, ptr) = self.declarator(d)?;
                    match self.type_of(t, ptr, false)? {
                        FieldTy::Cell(ty) => tys.push(ty),
                        FieldTy::Prim(_) => {
                            return Err(self.err(p, "pass kernel objects by pointer"))
                        }
                    }
                }
                k => return Err(self.err(p, format!("unsupported parameter `{k}`"))),
            }
        }
        Ok(tys)
    }

    fn function(&mut self, n: Node<'a>) -> Result<()> {
        let (name_node, params, _) = self.fn_parts(n)?;
        let name = self.text(name_node).to_string();
        let (ix, ret, tys) = self.func_ix[&name].clone();
        self.scopes = vec![HashMap::new()];
        self.nlocals = 0;
        self.stack.clear();
        self.ret = ret;
        let mut pi = 0;
        for p in Self::named(params) {
            if let Some(d) = p.child_by_field_name("declarator") {
                let (pname, _) = self.declarator(d)?;
                self.declare(pname, tys[pi]);
                pi += 1;
            }
        }
        let body = self.field(n, "body")?;
        // Labels are collected first: `goto err;` comes before `err:`.
        self.labels.clear();
        for s in Self::named(body) {
            if s.kind() == "labeled_statement" {
                let l = self.text(self.field(s, "label")?).to_string();
                self.labels.insert(l, (None, s));
            }
        }
        let mut stmts = Vec::new();
        let mut label_at: Vec<(String, usize)> = Vec::new();
        self.nest = 0;
        self.top_guards.clear();
        self.gotos.clear();
        for s in Self::named(body) {
            if s.kind() == "labeled_statement" {
                let l = self.text(self.field(s, "label")?).to_string();
                label_at.push((l, stmts.len()));
                stmts.push(Stmt {
                    kind: StmtKind::Label,
                    site: self.site(s),
                });
                for inner in Self::named(s).into_iter().skip(1) {
                    self.top_pos = stmts.len();
                    stmts.extend(self.stmt(inner)?);
                }
            } else {
                self.top_pos = stmts.len();
                stmts.extend(self.stmt(s)?);
            }
        }
        self.check_gotos_and_guards(&label_at)?;
        let mut names: Vec<&String> = self.labels.keys().collect();
        names.sort();
        let labels = names
            .iter()
            .map(|l| {
                label_at
                    .iter()
                    .find(|(n, _)| n == *l)
                    .map(|(_, i)| *i)
                    .unwrap_or(0)
            })
            .collect();
        self.funcs[ix] = Some(Func {
            name,
            params: tys,
            ret,
            nlocals: self.nlocals,
            stack: std::mem::take(&mut self.stack),
            body: stmts,
            labels,
            site: self.site(name_node),
        });
        Ok(())
    }

    /// A `goto` may not jump into a top-level `guard()`'s scope (from
    /// before it to a label after it) nor out of it backwards: the guard
    /// would be held without having been taken, or taken twice. cleanup.h
    /// itself expects `goto` and guards not to be mixed; the kernel does
    /// mix them (`gpio_chrdev_open()` in drivers/gpio/gpiolib-cdev.c) with
    /// forward jumps inside the guard's scope, which are fine.
    fn check_gotos_and_guards(&self, label_at: &[(String, usize)]) -> Result<()> {
        for (label, from, node) in &self.gotos {
            let Some(&(_, to)) = label_at.iter().find(|(l, _)| l == label) else {
                continue;
            };
            if let Some((_, line)) = self
                .top_guards
                .iter()
                .find(|(g, _)| (*from < *g) != (to < *g))
            {
                return Err(self.err(*node, format!("`goto {label}` crosses the guard() at line {line}: a guard's scope is entered at its statement and left at the end of its block (include/linux/cleanup.h), so jump only within it or only before it")));
            }
        }
        Ok(())
    }

    /// `guard(NAME)(args);`: the guard kind and its lock, checked.
    fn guard(&mut self, n: Node<'a>, call: Node<'a>) -> Result<Option<Stmt>> {
        let f = self.field(call, "function")?;
        if f.kind() != "call_expression" {
            return Ok(None);
        }
        let g = self.field(f, "function")?;
        if g.kind() != "identifier" || self.text(g) != "guard" {
            return Ok(None);
        }
        let names = Self::named(self.field(f, "arguments")?);
        let [name] = names.as_slice() else {
            return Err(self.err(f, "guard() takes the guard's name: `guard(srcu)(&ssp);`"));
        };
        let name = self.text(*name);
        let args = Self::named(self.field(call, "arguments")?);
        let kind = self.guard_of(f, name, &args)?;
        let site = self.site(n);
        if self.nest == 0 {
            self.top_guards.push((self.top_pos, site.line));
        }
        Ok(Some(Stmt { kind, site }))
    }

    /// The guard `name` over `args` (`guard(name)(args)`,
    /// `scoped_guard(name, args)`), checked: the lock headers'
    /// `DEFINE_GUARD()`/`DEFINE_LOCK_GUARD_*()` the model has. `at` is
    /// where an unknown name is reported.
    fn guard_of(&mut self, at: Node<'a>, name: &str, args: &[Node<'a>]) -> Result<StmtKind> {
        let (kind, want) = match name {
            "srcu" => (GuardKind::Srcu, Some(PrimKind::Srcu)),
            "mutex" => (GuardKind::Mutex, Some(PrimKind::Mutex)),
            "spinlock" | "spinlock_irq" | "spinlock_irqsave" => {
                (GuardKind::Spinlock, Some(PrimKind::Spinlock))
            }
            "rwsem_read" => (GuardKind::RwsemRead, Some(PrimKind::Rwsem)),
            "rwsem_write" => (GuardKind::RwsemWrite, Some(PrimKind::Rwsem)),
            "rcu" => (GuardKind::Rcu, None),
            "device" => (GuardKind::Device, Some(PrimKind::Device)),
            other => return Err(self.err(at, format!("unknown guard `{other}` (the model has guard(srcu), guard(mutex), guard(spinlock), guard(spinlock_irq), guard(spinlock_irqsave), guard(rwsem_read), guard(rwsem_write), guard(rcu), guard(device))"))),
        };
        let arg = match (want, args) {
            (None, []) => None,
            (Some(k), [a]) => {
                let e = self.expr(*a)?;
                if e.ty != Ty::Ptr(PtrTy::Prim(k)) {
                    return Err(self.err(*a, format!("guard({name}) takes a pointer to a {k:?} (write `guard({name})(&x->lock)`)")));
                }
                Some(e)
            }
            (None, _) => {
                return Err(self.err(
                    at,
                    format!("guard({name}) takes no lock: `guard({name})();`"),
                ))
            }
            (Some(_), _) => {
                return Err(self.err(
                    at,
                    format!("guard({name}) takes one lock: `guard({name})(&x->lock);`"),
                ))
            }
        };
        Ok(StmtKind::Guard(kind, arg))
    }

    fn declare(&mut self, name: String, ty: Ty) -> usize {
        let slot = self.nlocals;
        self.nlocals += 1;
        if let Some(s) = self.scopes.last_mut() {
            s.insert(name, (slot, ty));
        }
        slot
    }

    fn block(&mut self, n: Node<'a>) -> Result<Vec<Stmt>> {
        self.nest += 1;
        let out = self.block_inner(n);
        self.nest -= 1;
        out
    }

    fn block_inner(&mut self, n: Node<'a>) -> Result<Vec<Stmt>> {
        if n.kind() == "compound_statement" {
            self.scopes.push(HashMap::new());
            let mut out = Vec::new();
            for s in Self::named(n) {
                out.extend(self.stmt(s)?);
            }
            self.scopes.pop();
            Ok(out)
        } else {
            self.stmt(n)
        }
    }

    fn stmt(&mut self, n: Node<'a>) -> Result<Vec<Stmt>> {
        if let Some(r) = self.list_iter_stmt(n) {
            return r;
        }
        let site = self.site(n);
        let one = |kind| Ok(vec![Stmt { kind, site }]);
        match n.kind() {
            "compound_statement" => one(StmtKind::Block(self.block(n)?)),
            "declaration" => self.local_decl(n),
            "expression_statement" => match Self::named(n).first() {
                None => Ok(Vec::new()),
                Some(&e) => {
                    if e.kind() == "call_expression" {
                        // A macro standing for statements (`do { … } while
                        // (0)`) is used here, as a statement of its own.
                        if let (Some(f), Some(args)) = (
                            e.child_by_field_name("function"),
                            e.child_by_field_name("arguments"),
                        ) {
                            let name = self.text(f);
                            if f.kind() == "identifier" && self.is_stmt_macro(name) {
                                return self.expand_stmt(e, name, args);
                            }
                        }
                        if let Some(g) = self.guard(n, e)? {
                            return Ok(vec![g]);
                        }
                    }
                    one(StmtKind::Expr(self.expr(e)?))
                }
            },
            "if_statement" => {
                let c = self.cond(self.field(n, "condition")?)?;
                let then = self.block(self.field(n, "consequence")?)?;
                let els = match n.child_by_field_name("alternative") {
                    None => Vec::new(),
                    Some(a) => {
                        let inner = Self::named(a).into_iter().next();
                        match inner {
                            Some(s) => self.block(s)?,
                            None => Vec::new(),
                        }
                    }
                };
                one(StmtKind::If(c, then, els))
            }
            "while_statement" => {
                let c = self.cond(self.field(n, "condition")?)?;
                one(StmtKind::While(c, self.block(self.field(n, "body")?)?))
            }
            "do_statement" => {
                let body = self.block(self.field(n, "body")?)?;
                one(StmtKind::DoWhile(body, self.cond(self.field(n, "condition")?)?))
            }
            "for_statement" => {
                self.scopes.push(HashMap::new());
                let init = match n.child_by_field_name("initializer") {
                    None => Vec::new(),
                    Some(i) if i.kind() == "declaration" => self.local_decl(i)?,
                    Some(i) => vec![Stmt {
                        kind: StmtKind::Expr(self.expr(i)?),
                        site: self.site(i),
                    }],
                };
                let cond = n.child_by_field_name("condition").map(|c| self.expr(c)).transpose()?;
                let step = n.child_by_field_name("update").map(|c| self.expr(c)).transpose()?;
                let body = self.block(self.field(n, "body")?)?;
                self.scopes.pop();
                one(StmtKind::For(init, cond, step, body))
            }
            "switch_statement" => {
                let c = self.cond(self.field(n, "condition")?)?;
                let body = self.field(n, "body")?;
                let mut cases = Vec::new();
                let mut stmts = Vec::new();
                // The switch body is a block: a guard in it is released
                // when the switch is left.
                self.nest += 1;
                self.scopes.push(HashMap::new());
                for case in Self::named(body) {
                    if case.kind() != "case_statement" {
                        return Err(self.err(case, "a switch body holds case labels"));
                    }
                    let value = case.child_by_field_name("value");
                    let v = match value {
                        None => None,
                        Some(v) => Some(self.const_expr(v)?),
                    };
                    cases.push((v, stmts.len()));
                    for s in Self::named(case) {
                        if Some(s) == value {
                            continue;
                        }
                        stmts.extend(self.stmt(s)?);
                    }
                }
                self.scopes.pop();
                self.nest -= 1;
                one(StmtKind::Switch(c, cases, stmts))
            }
            "return_statement" => {
                let e = Self::named(n).first().map(|&e| self.expr(e)).transpose()?;
                if e.is_none() && self.ret != Ty::Void {
                    return Err(self.err(n, "this function returns a value (write `return VALUE;`)"));
                }
                one(StmtKind::Return(e))
            }
            "goto_statement" => {
                let l = self.text(self.field(n, "label")?);
                let mut names: Vec<&String> = self.labels.keys().collect();
                names.sort();
                match names.iter().position(|x| *x == l) {
                    Some(i) => {
                        self.gotos.push((l.to_string(), self.top_pos, n));
                        one(StmtKind::Goto(i))
                    }
                    None => Err(self.err(n, format!("no label `{l}:` at the top level of this function (kernel error unwinding puts its labels there)"))),
                }
            }
            // `f(container_of(p, struct S, m));` reads as a declaration of a
            // macro type unless `struct S` is handed to the grammar as one
            // name (`parse::container_of_types_as_names`).
            "macro_type_specifier" => Err(self.err(n, "a call statement the grammar reads as a declaration: write `struct S *p = container_of(…);` and pass p")),
            "labeled_statement" => Err(self.err(n, "labels are supported at the top level of a function body only")),
            "break_statement" => one(StmtKind::Break),
            "continue_statement" => one(StmtKind::Continue),
            "comment" => Ok(Vec::new()),
            "gnu_asm_expression" | "asm_statement" => Err(self.err(n, "inline assembly is not supported (use the kernel primitive it implements: smp_mb(), READ_ONCE(), atomic_*())")),
            k => Err(self.err(n, format!("unsupported statement `{k}`"))),
        }
    }

    fn cond(&mut self, n: Node<'a>) -> Result<Expr> {
        let inner = if n.kind() == "parenthesized_expression" {
            Self::named(n).into_iter().next().unwrap_or(n)
        } else {
            n
        };
        self.expr(inner)
    }

    fn const_expr(&mut self, n: Node<'a>) -> Result<i64> {
        let e = self.expr(n)?;
        fn eval(e: &Expr) -> Option<i64> {
            match &e.kind {
                ExprKind::Int(v) => Some(*v),
                ExprKind::Unary("-", a) => eval(a).map(|v| -v),
                ExprKind::Binary("|", a, b) => Some(eval(a)? | eval(b)?),
                ExprKind::Binary("+", a, b) => Some(eval(a)? + eval(b)?),
                _ => None,
            }
        }
        eval(&e).ok_or_else(|| self.err(n, "a case label must be a constant"))
    }

    fn local_decl(&mut self, n: Node<'a>) -> Result<Vec<Stmt>> {
        let ty_node = self.field(n, "type")?;
        let mut c = n.walk();
        let decls: Vec<Node> = n.children_by_field_name("declarator", &mut c).collect();
        let mut out = Vec::new();
        for d in decls {
            if d.kind() == "parenthesized_declarator" {
                return Err(self.err(n, format!("`{}(…)` defines a primitive at file scope only (move it out of the function)", self.text(ty_node))));
            }
            let (decl, value) = if d.kind() == "init_declarator" {
                (self.field(d, "declarator")?, d.child_by_field_name("value"))
            } else {
                (d, None)
            };
            let (name, ptr) = self.declarator(decl)?;
            if let Some(t) = self.embedded_struct(ty_node, ptr) {
                if let Some(v) =
                    value.filter(|v| v.kind() != "initializer_list" || v.named_child_count() != 0)
                {
                    return Err(self.err(v, "a struct on the stack starts zeroed (`= {}`) or uninitialised; assign its fields"));
                }
                let slot = self.declare(name, Ty::EmbStruct(t));
                self.stack.push(slot);
                out.push(Stmt {
                    kind: StmtKind::Init(
                        slot,
                        self.mk(d, ExprKind::StackStruct(t), Ty::EmbStruct(t)),
                    ),
                    site: self.site(n),
                });
                continue;
            }
            let ty = match self.type_of(ty_node, ptr, false)? {
                FieldTy::Cell(t) => t,
                FieldTy::Prim(k) => {
                    return Err(self.err(d, format!("a {k:?} on the stack is not supported (embed it in a kzalloc'd struct or make it global)")))
                }
            };
            // In scope from its declarator on, as C has it: the initializer
            // of `p = kzalloc(sizeof(*p), …)` names p.
            let slot = self.declare(name, ty);
            let init = value.map(|v| self.expr(v)).transpose()?;
            let init = init.unwrap_or(Expr {
                kind: ExprKind::Int(0),
                ty: Ty::Int,
                site: self.site(d),
            });
            out.push(Stmt {
                kind: StmtKind::Init(slot, init),
                site: self.site(n),
            });
        }
        Ok(out)
    }

    fn lookup(&self, name: &str) -> Option<(usize, Ty)> {
        self.scopes.iter().rev().find_map(|s| s.get(name).copied())
    }

    fn mk(&self, n: Node<'_>, kind: ExprKind, ty: Ty) -> Expr {
        Expr {
            kind,
            ty,
            site: self.site(n),
        }
    }

    fn expr(&mut self, n: Node<'a>) -> Result<Expr> {
        match n.kind() {
            "number_literal" => Ok(self.mk(n, ExprKind::Int(self.number(n)?), Ty::Int)),
            "char_literal" => {
                let t = self.text(n);
                let c = t.chars().nth(1).unwrap_or('\0');
                Ok(self.mk(n, ExprKind::Int(c as i64), Ty::Int))
            }
            "true" | "false" => Ok(self.mk(n, ExprKind::Int(i64::from(n.kind() == "true")), Ty::Bool)),
            "null" => Ok(self.mk(n, ExprKind::Null, Ty::Ptr(PtrTy::Void))),
            "string_literal" | "concatenated_string" => {
                let t = self.text(n).trim_matches('"').to_string();
                Ok(self.mk(n, ExprKind::Str(t), Ty::Ptr(PtrTy::Char)))
            }
            "parenthesized_expression" => match Self::named(n).as_slice() {
                [e] => self.expr(*e),
                _ => Err(self.err(n, "unsupported parenthesised expression")),
            },
            "identifier" => self.ident(n),
            "field_expression" => self.field_expr(n),
            "pointer_expression" => {
                let op = self.text(self.field(n, "operator")?);
                let arg = self.field(n, "argument")?;
                if op == "&" {
                    let e = self.expr(arg)?;
                    let ty = match e.ty {
                        Ty::Emb(k) => Ty::Ptr(PtrTy::Prim(k)),
                        Ty::Func => Ty::Func,
                        Ty::Ptr(PtrTy::Fops) => Ty::Ptr(PtrTy::Fops),
                        _ => Ty::Ptr(PtrTy::Void),
                    };
                    if let ExprKind::Static(_) = e.kind {
                        return Ok(e);
                    }
                    if let Ty::EmbStruct(t) = e.ty {
                        // `&priv->gc` is the member's address: the same
                        // value, typed as the pointer it is.
                        return Ok(Expr {
                            ty: Ty::Ptr(PtrTy::Struct(t)),
                            ..e
                        });
                    }
                    if let ExprKind::Fops(_) | ExprKind::Func(_) = e.kind {
                        return Ok(e);
                    }
                    Ok(self.mk(n, ExprKind::AddrOf(Box::new(e)), ty))
                } else {
                    Err(self.err(n, "`*p` is not supported outside `sizeof(*p)` (use `p->field`)"))
                }
            }
            "unary_expression" => {
                let op = self.text(self.field(n, "operator")?);
                let a = self.expr(self.field(n, "argument")?)?;
                let op: &'static str = match op {
                    "!" => "!",
                    "-" => "-",
                    "~" => "~",
                    "+" => return Ok(a),
                    o => return Err(self.err(n, format!("unsupported operator `{o}`"))),
                };
                if op == "-" {
                    if let ExprKind::Int(v) = a.kind {
                        return Ok(self.mk(n, ExprKind::Int(-v), Ty::Int));
                    }
                }
                Ok(self.mk(n, ExprKind::Unary(op, Box::new(a)), Ty::Int))
            }
            "binary_expression" => {
                let op = self.text(self.field(n, "operator")?);
                let a = self.expr(self.field(n, "left")?)?;
                let b = self.expr(self.field(n, "right")?)?;
                let op = binop(op).ok_or_else(|| self.err(n, format!("unsupported operator `{op}`")))?;
                if matches!(op, "+" | "-")
                    && (matches!(a.ty, Ty::Ptr(_)) || matches!(b.ty, Ty::Ptr(_)))
                {
                    return self.ptr_arith(n, op, a, b);
                }
                if matches!(op, "<" | "<=" | ">" | ">=")
                    && (matches!(a.ty, Ty::Ptr(_)) || matches!(b.ty, Ty::Ptr(_)))
                {
                    // Pointers are ordered within one array only (C11
                    // 6.5.8p5): `p < q` is `p - q < 0`, whose subtraction
                    // checks that both point into the same one.
                    if !matches!((a.ty, b.ty), (Ty::Ptr(_), Ty::Ptr(_))) {
                        return Err(self.err(n, format!("`{op}` compares a pointer with a pointer into the same array only")));
                    }
                    let diff = self.ptr_arith(n, "-", a, b)?;
                    let zero = self.mk(n, ExprKind::Int(0), Ty::Int);
                    return Ok(self.mk(n, ExprKind::Binary(op, Box::new(diff), Box::new(zero)), Ty::Int));
                }
                Ok(self.mk(n, ExprKind::Binary(op, Box::new(a), Box::new(b)), Ty::Int))
            }
            "conditional_expression" => {
                let c = self.expr(self.field(n, "condition")?)?;
                let a = self.expr(self.field(n, "consequence")?)?;
                let b = self.expr(self.field(n, "alternative")?)?;
                let ty = a.ty;
                Ok(self.mk(n, ExprKind::Cond(Box::new(c), Box::new(a), Box::new(b)), ty))
            }
            "assignment_expression" => {
                let op = self.text(self.field(n, "operator")?);
                let lhs = self.expr(self.field(n, "left")?)?;
                let rhs = self.expr(self.field(n, "right")?)?;
                self.check_lvalue(n, &lhs)?;
                if let Ty::FnPtr(sig) = lhs.ty {
                    self.check_fn_ptr_value(n, sig, &rhs)?;
                }
                let op = match op {
                    "=" => None,
                    o => Some(binop(o.trim_end_matches('=')).ok_or_else(|| self.err(n, format!("unsupported operator `{o}`")))?),
                };
                if let (Some(op), Ty::Ptr(_)) = (op, lhs.ty) {
                    // `p += i` is `p = p + i` (C11 6.5.16.2p3), with the
                    // element-sized step and bounds check of `p + i`.
                    if !matches!(op, "+" | "-") {
                        return Err(self.err(n, format!("`{op}=` of a pointer is not C (pointers take `+=` and `-=`)")));
                    }
                    if !clones_whole(&lhs) {
                        return Err(self.err(n, "`+=` of this pointer is not supported (name it: a local, a global or a struct member)"));
                    }
                    let sum = self.ptr_arith(n, op, clone_expr(&lhs), rhs)?;
                    let ty = lhs.ty;
                    return Ok(self.mk(n, ExprKind::Assign(Box::new(lhs), None, Box::new(sum)), ty));
                }
                let ty = lhs.ty;
                Ok(self.mk(n, ExprKind::Assign(Box::new(lhs), op, Box::new(rhs)), ty))
            }
            "update_expression" => {
                let op = self.text(self.field(n, "operator")?);
                let arg = self.field(n, "argument")?;
                let prefix = n.start_byte() < arg.start_byte();
                let e = self.expr(arg)?;
                self.check_lvalue(n, &e)?;
                let d = if op == "++" { 1 } else { -1 };
                if matches!(e.ty, Ty::Ptr(_)) && !clones_whole(&e) {
                    return Err(self.err(n, format!("`{op}` of this pointer is not supported (name it: a local, a global or a struct member)")));
                }
                if matches!(e.ty, Ty::Ptr(_)) {
                    // `++p` is `p += 1` (C11 6.5.3.1p2). `p++` is worth the
                    // old pointer: the new one stepped back, which is in
                    // bounds whenever the step was.
                    let one = self.mk(n, ExprKind::Int(1), Ty::Int);
                    let step = if d == 1 { "+" } else { "-" };
                    let back = if d == 1 { "-" } else { "+" };
                    let new = self.ptr_arith(n, step, clone_expr(&e), one)?;
                    let ty = e.ty;
                    let assign = self.mk(n, ExprKind::Assign(Box::new(e), None, Box::new(new)), ty);
                    if prefix {
                        return Ok(assign);
                    }
                    let one = self.mk(n, ExprKind::Int(1), Ty::Int);
                    return self.ptr_arith(n, back, assign, one);
                }
                Ok(self.mk(n, ExprKind::IncDec(Box::new(e), d, prefix), Ty::Int))
            }
            "cast_expression" => {
                let v = self.expr(self.field(n, "value")?)?;
                Ok(v)
            }
            "sizeof_expression" => {
                let in_alloc = n.parent().and_then(|p| p.parent()).is_some_and(|call| {
                    call.kind() == "call_expression"
                        && call.child_by_field_name("function").is_some_and(|f| {
                            matches!(
                                self.text(f),
                                "kzalloc"
                                    | "kmalloc"
                                    | "devm_kzalloc"
                                    | "kcalloc"
                                    | "kmalloc_array"
                                    | "memset"
                            )
                                // An allocator of this file the size is
                                // passed to (`_ib_alloc_device(size)`).
                                || self.func_ix.contains_key(self.text(f))
                        })
                });
                if !in_alloc {
                    if let Some(bytes) = self.sizeof_array_field(n) {
                        return Ok(self.mk(n, ExprKind::Int(bytes), Ty::Int));
                    }
                    return Err(self.err(n, "sizeof is supported as an allocation size and of an array field only (the model has no other byte sizes)"));
                }
                self.sizeof(n)
            }
            "call_expression" => self.call(n),
            "subscript_expression" => self.subscript(n),
            "comma_expression" => Err(self.err(n, "the comma operator is not supported (write two statements)")),
            "gnu_asm_expression" => Err(self.err(n, "inline assembly is not supported (use the kernel primitive it implements: smp_mb(), READ_ONCE(), atomic_*())")),
            "compound_literal_expression" | "initializer_list" => Err(self.err(n, "compound literals are not supported (assign the fields one by one)")),
            k => Err(self.err(n, format!("unsupported expression `{k}`"))),
        }
    }

    /// `arr[i]` of an array global or array field, or `p[i]` of a pointer
    /// into an array.
    fn subscript(&mut self, n: Node<'a>) -> Result<Expr> {
        let arr = self.field(n, "argument")?;
        let is_global_array = arr.kind() == "identifier"
            && self.lookup(self.text(arr)).is_none()
            && self.arrays.contains_key(self.text(arr));
        if !is_global_array {
            let e = self.expr(arr)?;
            if !matches!(e.kind, ExprKind::AddrOf(_))
                && matches!(e.ty, Ty::Ptr(PtrTy::Struct(_) | PtrTy::Int))
            {
                return self.ptr_subscript(n, e);
            }
        }
        if arr.kind() == "field_expression" {
            let e = self.expr(arr)?;
            if let ExprKind::AddrOf(f) = e.kind {
                if let ExprKind::Field(base, s, first) = f.kind {
                    let fname = self.text(self.field(arr, "field")?).to_string();
                    if let Some(&(_, len, _, _)) = self.field_arrays.get(&(s, fname.clone())) {
                        if len == 0 {
                            return Err(self.err(n, format!("`{fname}` has more than {MAX_ARRAY_CELLS} elements: the model keeps it as one buffer, passed and sized but not indexed")));
                        }
                        let idx = self.expr(self.field(n, "index")?)?;
                        return Ok(self.mk(
                            n,
                            ExprKind::FieldIndex(base, s, first, len, Box::new(idx)),
                            Ty::Int,
                        ));
                    }
                }
            }
            return Err(self.err(n, "only array fields and array globals can be indexed"));
        }
        let name = self.text(arr);
        let found = self.arrays.get(name).filter(|_| arr.kind() == "identifier");
        let Some(&(first, len)) = found else {
            return Err(self.err(
                n,
                "arrays are supported as globals only (write one field per element)",
            ));
        };
        let idx = self.expr(self.field(n, "index")?)?;
        let ty = match self.globals[first].ty {
            FieldTy::Cell(t) => t,
            FieldTy::Prim(k) => Ty::Emb(k),
        };
        Ok(self.mk(n, ExprKind::Index(first, len, Box::new(idx)), ty))
    }

    /// `p[i]` of a pointer into an array: an element struct (used as
    /// `p[i].field` or `&p[i]`) or an integer. Whether `p` points into an
    /// array, and `i` is within it, is checked when it runs.
    fn ptr_subscript(&mut self, n: Node<'a>, p: Expr) -> Result<Expr> {
        let ty = match p.ty {
            Ty::Ptr(PtrTy::Struct(s)) => Ty::EmbStruct(s),
            _ => Ty::Int,
        };
        let idx = self.expr(self.field(n, "index")?)?;
        if matches!(idx.ty, Ty::Ptr(_)) {
            return Err(self.err(n, "an index is an integer"));
        }
        Ok(self.mk(n, ExprKind::PtrIndex(Box::new(p), Box::new(idx)), ty))
    }

    /// `p + i`, `i + p`, `p - i` and `p - q` of pointers into arrays
    /// (`kcalloc()`'d structs or integers): C's pointer arithmetic, in
    /// elements. Other pointers (`void *`, a kernel object, a string) have
    /// no arithmetic in the model.
    fn ptr_arith(&mut self, n: Node<'a>, op: &'static str, a: Expr, b: Expr) -> Result<Expr> {
        let arith = |t: Ty| matches!(t, Ty::Ptr(PtrTy::Struct(_) | PtrTy::Int));
        match (a.ty, b.ty) {
            (Ty::Ptr(_), Ty::Ptr(_)) if op == "-" => {
                if a.ty != b.ty || !arith(a.ty) {
                    return Err(self.err(n, "pointer subtraction needs two pointers of the same type into an array (`desc - &gdev->descs[0]`)"));
                }
                Ok(self.mk(n, ExprKind::PtrDiff(Box::new(a), Box::new(b)), Ty::Int))
            }
            (Ty::Ptr(_), Ty::Ptr(_)) => Err(self.err(n, "two pointers cannot be added")),
            (p @ Ty::Ptr(_), _) | (_, p @ Ty::Ptr(_)) if !arith(p) => Err(self.err(n, "pointer arithmetic works on pointers into arrays of structs of this file or of integers (`kcalloc()`, `bitmap_zalloc()`), not on this pointer")),
            (Ty::Ptr(_), _) => {
                let ty = a.ty;
                let i = if op == "-" {
                    self.mk(n, ExprKind::Unary("-", Box::new(b)), Ty::Int)
                } else {
                    b
                };
                Ok(self.mk(n, ExprKind::PtrAdd(Box::new(a), Box::new(i)), ty))
            }
            _ if op == "+" => {
                let ty = b.ty;
                Ok(self.mk(n, ExprKind::PtrAdd(Box::new(b), Box::new(a)), ty))
            }
            _ => Err(self.err(n, "an integer minus a pointer is not C")),
        }
    }

    fn check_lvalue(&self, n: Node<'_>, e: &Expr) -> Result<()> {
        match &e.kind {
            ExprKind::Local(_) | ExprKind::Field(..) | ExprKind::FieldIndex(..) => Ok(()),
            ExprKind::PtrIndex(..) if e.ty == Ty::Int => Ok(()),
            ExprKind::Index(first, _, _) if matches!(self.globals[*first].ty, FieldTy::Cell(_)) => {
                Ok(())
            }
            ExprKind::Global(g) if matches!(self.globals[*g].ty, FieldTy::Cell(_)) => Ok(()),
            ExprKind::Attr(
                _,
                Attr::DevRelease
                | Attr::DevParent
                | Attr::FilePrivate
                | Attr::CdevOps
                | Attr::CdevOwner,
            ) => Ok(()),
            _ => Err(self.err(n, "this cannot be assigned to")),
        }
    }

    fn ident(&mut self, n: Node<'a>) -> Result<Expr> {
        let name = self.text(n);
        if let Some(arg) = self.macro_param(name) {
            return arg;
        }
        if let Some((slot, ty)) = self.lookup(name) {
            return Ok(self.mk(n, ExprKind::Local(slot), ty));
        }
        if let Some(&g) = self.global_ix.get(name) {
            let ty = match self.globals[g].ty {
                FieldTy::Cell(t) => t,
                FieldTy::Prim(k) => Ty::Emb(k),
            };
            return Ok(self.mk(n, ExprKind::Global(g), ty));
        }
        if let Some((ix, _, _)) = self.func_ix.get(name) {
            return Ok(self.mk(n, ExprKind::Func(*ix), Ty::Func));
        }
        if let Some(&ix) = self.static_ix.get(name) {
            // A static struct is used by its address or its fields; a copy
            // of it by value is not modelled.
            let used_right = n.parent().is_some_and(|p| match p.kind() {
                "pointer_expression" => p
                    .child_by_field_name("operator")
                    .is_some_and(|o| self.text(o) == "&"),
                "field_expression" => p
                    .child_by_field_name("operator")
                    .is_some_and(|o| self.text(o) == "."),
                _ => false,
            });
            if !used_right {
                return Err(self.err(n, format!("a static struct is used by its address (`&{name}`) or its fields (`{name}.field`)")));
            }
            let def = self.statics[ix].1;
            return Ok(self.mk(n, ExprKind::Static(ix), Ty::Ptr(PtrTy::Struct(def))));
        }
        if let Some(&f) = self.fops_ix.get(name) {
            return Ok(self.mk(n, ExprKind::Fops(f), Ty::Ptr(PtrTy::Fops)));
        }
        if let Some(v) = self
            .defines
            .get(name)
            .copied()
            .or_else(|| builtins::constant(name))
        {
            return Ok(self.mk(n, ExprKind::Int(v), Ty::Int));
        }
        Err(self.err(
            n,
            format!("unknown name `{name}` (declare it, or define it at file scope)"),
        ))
    }

    fn field_expr(&mut self, n: Node<'a>) -> Result<Expr> {
        let base_node = self.field(n, "argument")?;
        let op = self.text(self.field(n, "operator")?);
        let fname = self.text(self.field(n, "field")?);
        let base = self.expr(base_node)?;
        let attr = |a| Ok(self.mk(n, ExprKind::Attr(Box::new(base_ref(&base)), a), attr_ty(a)));
        // `p->f` and `p->emb.f` (an embedded kernel object's member).
        let pointee = match (op, base.ty) {
            ("->", Ty::Ptr(p)) if !matches!(base.kind, ExprKind::Static(_)) => p,
            (".", Ty::Ptr(p)) if matches!(base.kind, ExprKind::Static(_)) => p,
            (".", Ty::Emb(k)) => PtrTy::Prim(k),
            (".", Ty::EmbStruct(t)) => PtrTy::Struct(t),
            ("->", Ty::Emb(_) | Ty::EmbStruct(_)) => {
                return Err(self.err(
                    n,
                    format!(
                        "`{}` is not a pointer (write `.{fname}`)",
                        self.text(base_node)
                    ),
                ))
            }
            (".", Ty::Ptr(_)) => {
                return Err(self.err(
                    n,
                    format!(
                        "`{}` is a pointer (write `->{fname}`)",
                        self.text(base_node)
                    ),
                ))
            }
            _ => return Err(self.err(n, format!("`{}` has no fields", self.text(base_node)))),
        };
        match pointee {
            PtrTy::Struct(s) if self.field_arrays.contains_key(&(s, fname.to_string())) => {
                // An array names its first element's address.
                let (first, _, _, _) = self.field_arrays[&(s, fname.to_string())];
                let f = self.mk(n, ExprKind::Field(Box::new(base), s, first), Ty::Int);
                Ok(self.mk(n, ExprKind::AddrOf(Box::new(f)), Ty::Ptr(PtrTy::Int)))
            }
            PtrTy::Struct(s) if self.embeds.contains_key(&(s, fname.to_string())) => {
                let (t, first) = self.embeds[&(s, fname.to_string())];
                Ok(self.mk(
                    n,
                    ExprKind::EmbStruct(Box::new(base), t, first),
                    Ty::EmbStruct(t),
                ))
            }
            PtrTy::Struct(s) => {
                let def = &self.structs[s];
                let Some(fi) = def.fields.iter().position(|(f, _)| f == fname) else {
                    return Err(self.err(n, format!("struct {} has no field `{fname}`", def.name)));
                };
                let ty = match def.fields[fi].1 {
                    FieldTy::Cell(t) => t,
                    FieldTy::Prim(k) => Ty::Emb(k),
                };
                Ok(self.mk(n, ExprKind::Field(Box::new(base), s, fi), ty))
            }
            PtrTy::Prim(PrimKind::Device) => match fname {
                "release" => attr(Attr::DevRelease),
                "devt" => attr(Attr::DevDevt),
                "parent" => attr(Attr::DevParent),
                _ => Err(self.err(n, format!("`struct device` member `{fname}` is not modelled (the model has dev->release, dev->devt, dev->parent; use device_is_registered() for kobj.state_in_sysfs)"))),
            },
            PtrTy::Prim(PrimKind::Cdev) => match fname {
                "ops" => attr(Attr::CdevOps),
                "owner" => attr(Attr::CdevOwner),
                _ => Err(self.err(n, format!("`struct cdev` member `{fname}` is not modelled (the model has cdev.ops and cdev.owner)"))),
            },
            PtrTy::File => match fname {
                "private_data" => attr(Attr::FilePrivate),
                _ => Err(self.err(n, format!("`struct file` member `{fname}` is not modelled (the model has file->private_data; write file_inode(file))"))),
            },
            PtrTy::Inode => match fname {
                "i_cdev" => attr(Attr::InodeCdev),
                _ => Err(self.err(n, format!("`struct inode` member `{fname}` is not modelled (the model has inode->i_cdev)"))),
            },
            PtrTy::Opaque => Err(self.err(n, format!("`{}` points to a struct this file does not define (define it with the fields the driver uses, before its first use)", self.text(base_node)))),
            PtrTy::Void => Err(self.err(n, format!("`{}` is a void pointer (declare it as `struct NAME *` to use ->{fname})", self.text(base_node)))),
            _ => Err(self.err(n, format!("`{}` has no field `{fname}` in the model", self.text(base_node)))),
        }
    }

    /// `sizeof(p->arr)` of an array field: its size in bytes.
    fn sizeof_array_field(&mut self, n: Node<'a>) -> Option<i64> {
        let mut v = n.child_by_field_name("value")?;
        while v.kind() == "parenthesized_expression" {
            v = Self::named(v).into_iter().next()?;
        }
        if v.kind() != "field_expression" {
            return None;
        }
        let fname = self.text(v.child_by_field_name("field")?).to_string();
        let base = self.expr(v.child_by_field_name("argument")?).ok()?;
        let Ty::Ptr(PtrTy::Struct(s)) = base.ty else {
            return None;
        };
        self.field_arrays.get(&(s, fname)).map(|a| a.3)
    }

    fn sizeof(&mut self, n: Node<'a>) -> Result<Expr> {
        let strukt = if let Some(t) = n.child_by_field_name("type") {
            let spec = self.field(t, "type")?;
            if spec.kind() == "struct_specifier" {
                let s = self.text(self.field(spec, "name")?);
                self.struct_ix.get(s).copied()
            } else {
                None
            }
        } else {
            let v = self.field(n, "value")?;
            let v = if v.kind() == "parenthesized_expression" {
                Self::named(v).into_iter().next().unwrap_or(v)
            } else {
                v
            };
            if v.kind() == "pointer_expression" && self.text(self.field(v, "operator")?) == "*" {
                match self.expr(self.field(v, "argument")?)?.ty {
                    Ty::Ptr(PtrTy::Struct(s)) => Some(s),
                    _ => None,
                }
            } else if v.kind() == "identifier" {
                // `sizeof(lineinfo)` of a struct on the stack.
                match self.lookup(self.text(v)) {
                    Some((_, Ty::EmbStruct(s))) => Some(s),
                    _ => None,
                }
            } else {
                None
            }
        };
        Ok(self.mk(n, ExprKind::SizeOf(strukt), Ty::Int))
    }

    /// Whether `v` may be stored in a function pointer of signature `sig`:
    /// NULL, a pointer of the same signature, or a function of this file
    /// whose return and parameter types are the signature's.
    fn check_fn_ptr_value(&self, n: Node<'_>, sig: usize, v: &Expr) -> Result<()> {
        match (&v.kind, v.ty) {
            (ExprKind::Null, _) | (ExprKind::Int(0), _) => Ok(()),
            (_, Ty::FnPtr(s)) if self.fn_sigs[s] == self.fn_sigs[sig] => Ok(()),
            (ExprKind::Func(ix), _) => {
                let (name, (_, ret, params)) = self
                    .func_ix
                    .iter()
                    .find(|(_, (i, _, _))| i == ix)
                    .ok_or_else(|| self.err(n, "unknown function"))?;
                let (want_ret, want_params) = &self.fn_sigs[sig];
                if ret != want_ret || params != want_params {
                    return Err(self.err(n, format!("`{name}` does not have the function pointer's signature (its return and parameter types must be the pointer's)")));
                }
                Ok(())
            }
            _ => Err(self.err(
                n,
                "a function pointer holds a function of this file or NULL",
            )),
        }
    }

    /// The lowered arguments `arg_nodes` of a call at `n` to `callee`
    /// (its words in the error), which takes `params` of them.
    fn call_args(
        &mut self,
        n: Node<'a>,
        callee: &str,
        params: usize,
        arg_nodes: &[Node<'a>],
    ) -> Result<Vec<Expr>> {
        if params != arg_nodes.len() {
            return Err(self.err(
                n,
                format!(
                    "{callee} takes {params} argument(s), {} given",
                    arg_nodes.len()
                ),
            ));
        }
        arg_nodes.iter().map(|a| self.expr(*a)).collect()
    }

    fn call(&mut self, n: Node<'a>) -> Result<Expr> {
        let f = self.field(n, "function")?;
        let args_node = self.field(n, "arguments")?;
        if f.kind() != "identifier" {
            let callee = self.expr(f)?;
            if let Ty::FnPtr(sig) = callee.ty {
                let (ret, params) = self.fn_sigs[sig].clone();
                let args = self.call_args(
                    n,
                    "the function pointer",
                    params.len(),
                    &Self::named(args_node),
                )?;
                return Ok(self.mk(n, ExprKind::CallPtr(Box::new(callee), args), ret));
            }
            return Err(self.err(f, "calls through function pointers are not supported (call the driver's function by name)"));
        }
        let name = self.text(f);
        if name == "container_of" {
            return self.container_of(n, args_node);
        }
        if self.macros.contains_key(name) {
            return self.expand(n, name, args_node);
        }
        let arg_nodes = Self::named(args_node);
        if let Some(bad) = arg_nodes.iter().find(|a| a.kind() == "ERROR") {
            return Err(self.err(*bad, "syntax error in the arguments"));
        }
        if name == "wait_event" {
            let [wq, c] = arg_nodes.as_slice() else {
                return Err(self.err(n, "wait_event takes a wait queue and a condition"));
            };
            let wq = self.expr(*wq)?;
            let c = self.expr(*c)?;
            return Ok(self.mk(n, ExprKind::WaitEvent(Box::new(wq), Box::new(c)), Ty::Void));
        }
        if let Some((ix, ret, params)) = self.func_ix.get(name).cloned() {
            let args = self.call_args(n, &format!("`{name}`"), params.len(), &arg_nodes)?;
            return Ok(self.mk(n, ExprKind::Call(ix, args), ret));
        }
        if let Some(at) = builtins::log_format_at(name) {
            return self.log_call(n, name, at, &arg_nodes);
        }
        if let Some(&(bname, b, min, max, ret)) = builtins::find(name) {
            if arg_nodes.len() < min || arg_nodes.len() > max {
                let want = if min == max {
                    format!("{min}")
                } else {
                    format!("{min} to {max}")
                };
                return Err(self.err(
                    n,
                    format!(
                        "`{bname}` takes {want} argument(s), {} given",
                        arg_nodes.len()
                    ),
                ));
            }
            let mut args = arg_nodes
                .iter()
                .map(|a| self.expr(*a))
                .collect::<Result<Vec<_>>>()?;
            // The allocation's size names the struct allocated: each of
            // its fields becomes a cell of the model.
            if matches!(
                b,
                Builtin::kzalloc | Builtin::kmalloc | Builtin::devm_kzalloc
            ) {
                let i = usize::from(b == Builtin::devm_kzalloc);
                if !matches!(args[i].kind, ExprKind::SizeOf(Some(_)) | ExprKind::Local(_)) {
                    return Err(self.err(arg_nodes[i], format!("`{bname}` allocates a struct of this file (write `sizeof(*p)` or `sizeof(struct NAME)`)")));
                }
            }
            if matches!(b, Builtin::kcalloc | Builtin::kmalloc_array)
                && !matches!(args[1].kind, ExprKind::SizeOf(_) | ExprKind::Local(_))
            {
                return Err(self.err(arg_nodes[1], format!("`{bname}` allocates an array of a struct of this file or of integers (write `{bname}(n, sizeof(*p), GFP_KERNEL)`)")));
            }
            if matches!(
                b,
                Builtin::kcalloc | Builtin::kmalloc_array | Builtin::bitmap_zalloc
            ) {
                // The array's name in reports, as a trailing argument.
                let name = self.array_name(n, &args);
                args.push(self.mk(n, ExprKind::Str(name), Ty::Ptr(PtrTy::Char)));
            }
            if b == Builtin::memset {
                self.check_memset(n, &arg_nodes, &args)?;
            }
            if matches!(
                b,
                Builtin::set_bit
                    | Builtin::clear_bit
                    | Builtin::test_bit
                    | Builtin::test_and_set_bit
                    | Builtin::test_and_clear_bit
            ) {
                if let ExprKind::AddrOf(inner) = &args[1].kind {
                    if let ExprKind::Local(_) = inner.kind {
                        return self.local_bit_op(n, arg_nodes[1], b, args);
                    }
                }
            }
            if builtins::is_list_op(b) {
                let lh = Ty::Ptr(PtrTy::Struct(self.struct_ix["list_head"]));
                if let Some(i) = args.iter().position(|a| a.ty != lh) {
                    let at = arg_nodes[i];
                    return Err(self.err(at, format!("`{bname}` takes `struct list_head *` (the address of an embedded list_head: `&p->list`)")));
                }
            }
            if builtins::takes_cell(b) {
                let cell = args.remove(0);
                if !matches!(
                    cell.kind,
                    ExprKind::Field(..)
                        | ExprKind::Global(_)
                        | ExprKind::Attr(..)
                        | ExprKind::Index(..)
                ) {
                    return Err(self.err(arg_nodes[0], format!("`{bname}` needs a struct field or global variable (write `{bname}(p->field…)`)")));
                }
                let site = cell.site;
                args.insert(
                    0,
                    Expr {
                        ty: cell.ty,
                        site,
                        kind: ExprKind::AddrOf(Box::new(cell)),
                    },
                );
            }
            // READ_ONCE(x) and the dereferences have x's type.
            let ret = match b {
                Builtin::READ_ONCE
                | Builtin::smp_load_acquire
                | Builtin::rcu_dereference
                | Builtin::rcu_dereference_raw
                | Builtin::rcu_dereference_protected
                | Builtin::srcu_dereference
                | Builtin::xchg
                | Builtin::cmpxchg => match &args[0].kind {
                    ExprKind::AddrOf(inner) => inner.ty,
                    _ => ret,
                },
                _ => ret,
            };
            return Ok(self.mk(n, ExprKind::Builtin(b, args), ret));
        }
        let near = builtins::TABLE
            .iter()
            .map(|b| b.0)
            .chain(self.func_ix.keys().map(String::as_str))
            .min_by_key(|c| strsim::levenshtein(name, c))
            .filter(|c| strsim::levenshtein(name, c) <= 3);
        Err(self.err(
            f,
            match near {
                Some(c) => format!("unknown function `{name}`: neither the file defines it nor the kernel model has it (write `{c}` instead, or define `{name}`)"),
                None => format!("unknown function `{name}`: neither the file defines it nor the kernel model has it (define it in the file)"),
            },
        ))
    }

    /// `printk(fmt, …)`, `pr_err(fmt, …)`, `dev_err(dev, fmt, …)` and the
    /// other levels: each argument but the format is evaluated, as
    /// `vsnprintf()` reads them to format the message (a `%d` of
    /// `p->field` reads the field; a `%p` of `&p->dev` computes an address
    /// and reads nothing), and the call returns 0 (`dev_err_probe()` its
    /// error argument). The format is a string literal, which the model
    /// has no use for.
    fn log_call(
        &mut self,
        n: Node<'a>,
        name: &str,
        at: usize,
        arg_nodes: &[Node<'a>],
    ) -> Result<Expr> {
        let Some(fmt) = arg_nodes.get(at) else {
            let want = match at {
                0 => "a format string",
                1 => "a device and a format string",
                _ => "a device, an error and a format string",
            };
            return Err(self.err(n, format!("`{name}` takes {want} first")));
        };
        if !matches!(fmt.kind(), "string_literal" | "concatenated_string") {
            return Err(self.err(
                *fmt,
                format!("the format of `{name}` is a string literal (`\"…\"`)"),
            ));
        }
        let args = arg_nodes
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != at)
            .map(|(_, a)| self.expr(*a))
            .collect::<Result<Vec<_>>>()?;
        let b = if name == "dev_err_probe" {
            Builtin::dev_err_probe
        } else {
            Builtin::printk
        };
        Ok(self.mk(n, ExprKind::Builtin(b, args), Ty::Int))
    }

    /// What a `kcalloc()` or `bitmap_zalloc()` is named after in reports:
    /// the `sizeof` operand for an array of structs (as `kzalloc()`'s
    /// object is), else the variable or field it is assigned to
    /// (`gc->valid_mask = bitmap_zalloc(…)` is `mem0.valid_mask`).
    fn array_name(&self, n: Node<'a>, args: &[Expr]) -> String {
        let last_word = |t: &str| {
            t.rsplit(|c: char| !(c.is_alphanumeric() || c == '_'))
                .find(|w| !w.is_empty())
                .map(str::to_string)
        };
        if let Some(size) = args.get(1) {
            if let ExprKind::SizeOf(Some(_)) = size.kind {
                if let Some(w) = last_word(&size.site.label) {
                    return w;
                }
            }
        }
        let target = n.parent().and_then(|p| match p.kind() {
            "assignment_expression" => p.child_by_field_name("left"),
            "init_declarator" => p.child_by_field_name("declarator"),
            _ => None,
        });
        target
            .and_then(|t| last_word(self.text(t)))
            .unwrap_or_else(|| "array".to_string())
    }

    /// `memset(p, 0, sizeof(*p))`: the struct `p` points to, zeroed cell by
    /// cell. Any other value or size would need the byte layout the model
    /// does not have.
    fn check_memset(&self, n: Node<'a>, nodes: &[Node<'a>], args: &[Expr]) -> Result<()> {
        let Ty::Ptr(PtrTy::Struct(s)) = args[0].ty else {
            return Err(self.err(
                nodes[0],
                "memset() zeroes a struct of this file: `memset(p, 0, sizeof(*p))`",
            ));
        };
        if !matches!(args[1].kind, ExprKind::Int(0)) {
            return Err(self.err(
                nodes[1],
                "memset() writes zero only (the model has no bytes, only each field's value)",
            ));
        }
        if !matches!(args[2].kind, ExprKind::SizeOf(Some(t)) if t == s) {
            return Err(self.err(nodes[2], format!("memset() zeroes the whole struct: its size is `sizeof(*p)` or `sizeof(struct {})`", self.structs[s].name)));
        }
        if let Some((f, _)) = self.structs[s]
            .fields
            .iter()
            .find(|(_, t)| matches!(t, FieldTy::Prim(_)))
        {
            return Err(self.err(n, format!("memset() of struct {} would overwrite the kernel object `{f}` in it (initialise its fields one by one)", self.structs[s].name)));
        }
        Ok(())
    }

    /// `test_bit(nr, &local)` and friends on a local `unsigned long` (a
    /// copy of flags: `dflags = READ_ONCE(desc->flags)` in
    /// `gpio_desc_to_lineinfo()`): no other task can see a local, so the
    /// bit operation is the arithmetic it does, with no model step.
    fn local_bit_op(
        &self,
        n: Node<'a>,
        at: Node<'a>,
        b: Builtin,
        mut args: Vec<Expr>,
    ) -> Result<Expr> {
        let cell = args.remove(1);
        let ExprKind::AddrOf(local) = cell.kind else {
            return Err(self.err(at, "expected `&local`"));
        };
        let nr = args.remove(0);
        let bx = Box::new;
        let mask = self.mk(
            n,
            ExprKind::Binary("<<", bx(self.mk(n, ExprKind::Int(1), Ty::Int)), bx(nr)),
            Ty::Int,
        );
        let kind = match b {
            Builtin::test_bit => ExprKind::Binary(
                "!=",
                bx(self.mk(n, ExprKind::Binary("&", local, bx(mask)), Ty::Int)),
                bx(self.mk(n, ExprKind::Int(0), Ty::Int)),
            ),
            Builtin::set_bit => ExprKind::Assign(local, Some("|"), bx(mask)),
            Builtin::clear_bit => ExprKind::Assign(
                local,
                Some("&"),
                bx(self.mk(n, ExprKind::Unary("~", bx(mask)), Ty::Int)),
            ),
            _ => return Err(self.err(at, "test_and_set_bit()/test_and_clear_bit() of a local is not supported (test it, then set it: nothing else can see a local)")),
        };
        Ok(self.mk(n, kind, Ty::Int))
    }

    fn container_of(&mut self, n: Node<'a>, args: Node<'a>) -> Result<Expr> {
        // tree-sitter reads `struct S` in an argument list as an error node:
        // split the macro's arguments at top-level commas, parse the first
        // as an expression, check the type and member names.
        let named = Self::named(args);
        let Some(&ptr) = named.first() else {
            return Err(self.err(n, "container_of takes (pointer, struct NAME, member)"));
        };
        let text = self.text(args);
        let inner = &text[1..text.len().saturating_sub(1)];
        let parts: Vec<&str> = inner.rsplitn(3, ',').map(str::trim).collect();
        let [member, ty, _] = parts.as_slice() else {
            return Err(self.err(n, "container_of takes (pointer, struct NAME, member)"));
        };
        let Some(sname) = ty.strip_prefix("struct").map(str::trim) else {
            return Err(self.err(
                n,
                format!("container_of's type must be `struct NAME`, not `{ty}`"),
            ));
        };
        let Some(&s) = self.struct_ix.get(sname) else {
            return Err(self.err(n, format!("unknown struct `{sname}` in container_of")));
        };
        if let Some(&(t, first)) = self.embeds.get(&(s, member.to_string())) {
            let e = self.expr(ptr)?;
            if e.ty != Ty::Ptr(PtrTy::Struct(t)) && e.ty != Ty::Ptr(PtrTy::Void) {
                return Err(self.err(ptr, format!("container_of: `{}` does not point to a struct {} (member `{member}` of struct {sname} is one)", self.text(ptr), self.structs[t].name)));
            }
            return Ok(self.mk(
                n,
                ExprKind::ContainerOfStruct(Box::new(e), s, first),
                Ty::Ptr(PtrTy::Struct(s)),
            ));
        }
        let Some(fi) = self.structs[s].fields.iter().position(|(f, _)| f == member) else {
            return Err(self.err(n, format!("struct {sname} has no member `{member}`")));
        };
        let e = self.expr(ptr)?;
        let FieldTy::Prim(k) = self.structs[s].fields[fi].1 else {
            return Err(self.err(n, format!("container_of from `{member}`: only embedded kernel objects (struct device, cdev, kref, …) are supported")));
        };
        if !matches!(e.ty, Ty::Ptr(PtrTy::Prim(pk)) if pk == k) && e.ty != Ty::Ptr(PtrTy::Void) {
            return Err(self.err(ptr, format!("container_of: `{}` does not point to a {k:?} (member `{member}` of struct {sname} is one)", self.text(ptr))));
        }
        Ok(self.mk(
            n,
            ExprKind::ContainerOf(Box::new(e), s, fi),
            Ty::Ptr(PtrTy::Struct(s)),
        ))
    }
}

/// `x->dev.release` takes the embedded device's address as its base.
fn base_ref(base: &Expr) -> Expr {
    match base.ty {
        Ty::Emb(k) => Expr {
            kind: ExprKind::AddrOf(Box::new(clone_expr(base))),
            ty: Ty::Ptr(PtrTy::Prim(k)),
            site: base.site,
        },
        _ => clone_expr(base),
    }
}

/// Whether [`clone_expr`] copies `e` whole, with no side effect evaluated
/// twice: the lvalue of a pointer's `++`, `--`, `+=` or `-=` is read and
/// written as two expressions, like an integer's.
fn clones_whole(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Local(_)
        | ExprKind::Global(_)
        | ExprKind::StackStruct(_)
        | ExprKind::Int(_)
        | ExprKind::Null
        | ExprKind::Static(_)
        | ExprKind::Func(_) => true,
        ExprKind::Field(b, ..)
        | ExprKind::Attr(b, _)
        | ExprKind::AddrOf(b)
        | ExprKind::ContainerOf(b, ..)
        | ExprKind::EmbStruct(b, ..)
        | ExprKind::ContainerOfStruct(b, ..) => clones_whole(b),
        ExprKind::PtrIndex(p, i) => clones_whole(p) && clones_whole(i),
        _ => false,
    }
}

fn clone_expr(e: &Expr) -> Expr {
    let kind = match &e.kind {
        ExprKind::Local(s) => ExprKind::Local(*s),
        ExprKind::Global(g) => ExprKind::Global(*g),
        ExprKind::Field(b, s, f) => ExprKind::Field(Box::new(clone_expr(b)), *s, *f),
        ExprKind::Attr(b, a) => ExprKind::Attr(Box::new(clone_expr(b)), *a),
        ExprKind::AddrOf(b) => ExprKind::AddrOf(Box::new(clone_expr(b))),
        ExprKind::ContainerOf(b, s, f) => ExprKind::ContainerOf(Box::new(clone_expr(b)), *s, *f),
        ExprKind::EmbStruct(b, t, f) => ExprKind::EmbStruct(Box::new(clone_expr(b)), *t, *f),
        ExprKind::StackStruct(t) => ExprKind::StackStruct(*t),
        ExprKind::PtrIndex(p, i) => {
            ExprKind::PtrIndex(Box::new(clone_expr(p)), Box::new(clone_expr(i)))
        }
        ExprKind::ContainerOfStruct(b, s, f) => {
            ExprKind::ContainerOfStruct(Box::new(clone_expr(b)), *s, *f)
        }
        ExprKind::Builtin(b, args) => ExprKind::Builtin(*b, args.iter().map(clone_expr).collect()),
        ExprKind::Call(f, args) => ExprKind::Call(*f, args.iter().map(clone_expr).collect()),
        ExprKind::CallPtr(p, args) => ExprKind::CallPtr(
            Box::new(clone_expr(p)),
            args.iter().map(clone_expr).collect(),
        ),
        ExprKind::Int(v) => ExprKind::Int(*v),
        ExprKind::Null => ExprKind::Null,
        ExprKind::Static(ix) => ExprKind::Static(*ix),
        ExprKind::Func(f) => ExprKind::Func(*f),
        _ => ExprKind::Int(0),
    };
    Expr {
        kind,
        ty: e.ty,
        site: e.site,
    }
}

fn attr_ty(a: Attr) -> Ty {
    match a {
        Attr::DevRelease => Ty::Func,
        Attr::DevDevt => Ty::DevT,
        Attr::DevParent => Ty::Ptr(PtrTy::Prim(PrimKind::Device)),
        Attr::CdevOps => Ty::Ptr(PtrTy::Fops),
        Attr::CdevOwner => Ty::Int,
        Attr::FilePrivate => Ty::Ptr(PtrTy::Void),
        Attr::InodeCdev => Ty::Ptr(PtrTy::Prim(PrimKind::Cdev)),
    }
}

/// A C integer literal: decimal, hex or octal, with an optional `U`/`L`
/// suffix.
fn parse_int(t: &str) -> Option<i64> {
    let t = t.trim_end_matches(['u', 'U', 'l', 'L']);
    if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        i64::from_str_radix(h, 16).ok()
    } else if t.len() > 1 && t.starts_with('0') {
        i64::from_str_radix(&t[1..], 8).ok()
    } else {
        t.parse().ok()
    }
}

fn binop(op: &str) -> Option<&'static str> {
    Some(match op {
        "+" => "+",
        "-" => "-",
        "*" => "*",
        "/" => "/",
        "%" => "%",
        "==" => "==",
        "!=" => "!=",
        "<" => "<",
        "<=" => "<=",
        ">" => ">",
        ">=" => ">=",
        "&&" => "&&",
        "||" => "||",
        "&" => "&",
        "|" => "|",
        "^" => "^",
        "<<" => "<<",
        ">>" => ">>",
        _ => return None,
    })
}
