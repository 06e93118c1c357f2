//! Go expressions as debugger clients type them: lexer, parser, AST.
//!
//! This is the front end of expression evaluation. It accepts what Delve
//! accepts, which is what `go/parser.ParseExpr` accepts: Delve's extensions
//! (quoted package paths such as `"github.com/x/y".Var`, quoted type names in
//! casts such as `(*"main.T")(0x1234)`) are already valid Go syntax, a string
//! literal used as an operand. Errors carry go/parser's texts and
//! `line:column` positions, because Delve shows those texts to its users.
//!
//! Not supported, with an error instead: composite and function literals,
//! struct and interface types that are not empty, `[...]T`, `x.(type)`, and
//! nesting deeper than 200 levels (go/parser allows 100 000, more than a
//! thread's stack holds here).

mod lexer;

pub use lexer::is_printable;
mod parser;

/// A byte range `start..end` of the parsed text, to point at a part of it in
/// error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// Offset of the first byte.
    pub start: usize,
    /// Offset just past the last byte.
    pub end: usize,
}

/// An identifier, with where it was written. `nil`, `true` and `false` are
/// identifiers too: the evaluator resolves them like any other name.
#[derive(Debug, Clone, PartialEq)]
pub struct Ident {
    /// The name as written.
    pub name: String,
    /// Where the name is.
    pub span: Span,
}

/// A unary operator other than `*`, which is [`Expr::Star`] because it can
/// also make a pointer type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    /// `+x`.
    Plus,
    /// `-x`.
    Minus,
    /// `!x`, logical not.
    Not,
    /// `^x`, bitwise complement.
    Complement,
    /// `&x`, address of.
    AddressOf,
    /// `<-x`, receive from a channel.
    Receive,
    /// `~T`, a type-set term: only meaningful in constraints, accepted
    /// because go/parser accepts it.
    Tilde,
}

impl UnaryOp {
    /// The operator as Go spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            UnaryOp::Plus => "+",
            UnaryOp::Minus => "-",
            UnaryOp::Not => "!",
            UnaryOp::Complement => "^",
            UnaryOp::AddressOf => "&",
            UnaryOp::Receive => "<-",
            UnaryOp::Tilde => "~",
        }
    }
}

/// A binary operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    /// `||`.
    LogicalOr,
    /// `&&`.
    LogicalAnd,
    /// `==`.
    Equal,
    /// `!=`.
    NotEqual,
    /// `<`.
    Less,
    /// `<=`.
    LessOrEqual,
    /// `>`.
    Greater,
    /// `>=`.
    GreaterOrEqual,
    /// `+`.
    Add,
    /// `-`.
    Sub,
    /// `|`, bitwise or.
    Or,
    /// `^`, bitwise exclusive or.
    Xor,
    /// `*`.
    Mul,
    /// `/`.
    Div,
    /// `%`.
    Rem,
    /// `<<`.
    ShiftLeft,
    /// `>>`.
    ShiftRight,
    /// `&`, bitwise and.
    And,
    /// `&^`, bit clear.
    AndNot,
}

impl BinaryOp {
    /// The operator as Go spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            BinaryOp::LogicalOr => "||",
            BinaryOp::LogicalAnd => "&&",
            BinaryOp::Equal => "==",
            BinaryOp::NotEqual => "!=",
            BinaryOp::Less => "<",
            BinaryOp::LessOrEqual => "<=",
            BinaryOp::Greater => ">",
            BinaryOp::GreaterOrEqual => ">=",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Or => "|",
            BinaryOp::Xor => "^",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Rem => "%",
            BinaryOp::ShiftLeft => "<<",
            BinaryOp::ShiftRight => ">>",
            BinaryOp::And => "&",
            BinaryOp::AndNot => "&^",
        }
    }

    /// Go's binding strength, from 1 (`||`) to 5 (`*` and its level).
    pub fn precedence(self) -> u8 {
        match self {
            BinaryOp::LogicalOr => 1,
            BinaryOp::LogicalAnd => 2,
            BinaryOp::Equal
            | BinaryOp::NotEqual
            | BinaryOp::Less
            | BinaryOp::LessOrEqual
            | BinaryOp::Greater
            | BinaryOp::GreaterOrEqual => 3,
            BinaryOp::Add | BinaryOp::Sub | BinaryOp::Or | BinaryOp::Xor => 4,
            BinaryOp::Mul
            | BinaryOp::Div
            | BinaryOp::Rem
            | BinaryOp::ShiftLeft
            | BinaryOp::ShiftRight
            | BinaryOp::And
            | BinaryOp::AndNot => 5,
        }
    }
}

/// Which way a channel type lets values flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChanDir {
    /// `chan T`.
    Both,
    /// `chan<- T`.
    Send,
    /// `<-chan T`.
    Recv,
}

/// One group of a function type's parameters or results, as written:
/// `int`, `a, b int` or `args ...string`.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    /// From the first name (or the type, when there is none) to the type's end.
    pub span: Span,
    /// The parameter names; empty when the list has types only.
    pub names: Vec<Ident>,
    /// The type of every name in the group.
    pub ty: Expr,
    /// Written `...T`: the last parameter of a variadic function.
    pub variadic: bool,
}

/// A Go expression. Types are expressions too, since `(*T)(x)` is a call
/// whose function is a parenthesized type; the evaluator decides which
/// operands are types.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A name: a variable, constant, function, type or package.
    Ident(Ident),
    /// An integer literal such as `42`, `0x2A`, `0o52`, `052` or `0b101010`.
    Int {
        /// Where the literal is.
        span: Span,
        /// The literal as written.
        raw: String,
        /// Its value, or `None` when it does not fit in 128 bits.
        value: Option<u128>,
    },
    /// A floating-point literal such as `1.5`, `1e-3` or `0x1p-2`.
    Float {
        /// Where the literal is.
        span: Span,
        /// The literal as written, for exact arithmetic.
        raw: String,
        /// The nearest `f64`.
        value: f64,
    },
    /// An imaginary literal such as `2i` or `1.5i`.
    Imaginary {
        /// Where the literal is.
        span: Span,
        /// The literal as written, `i` included.
        raw: String,
        /// The imaginary part, as the nearest `f64`.
        value: f64,
    },
    /// A rune literal such as `'a'` or `'\n'`.
    Char {
        /// Where the literal is.
        span: Span,
        /// The literal as written, quotes included.
        raw: String,
        /// The code point.
        value: char,
    },
    /// A string literal, interpreted (`"a\n"`) or raw (`` `a` ``). Delve
    /// also reads one as a package path (`"github.com/x/y".Var`) or a type
    /// name (`(*"main.T")(p)`).
    String {
        /// Where the literal is.
        span: Span,
        /// The literal as written, quotes included.
        raw: String,
        /// The bytes it denotes: Go strings need not be UTF-8 (`"\xff"`).
        value: Vec<u8>,
    },
    /// `(x)`, kept so the evaluator sees `(*T)(p)` as written.
    Paren {
        /// From `(` to `)`.
        span: Span,
        /// What is inside.
        inner: Box<Expr>,
    },
    /// `x.field`, also a package-qualified name `pkg.Name`.
    Selector {
        /// From `x` to the field name.
        span: Span,
        /// What is selected from.
        base: Box<Expr>,
        /// The name after the dot.
        field: Ident,
    },
    /// `x[i]`: an array, slice, string or map index, or a generic
    /// instantiation `F[int]`.
    Index {
        /// From `x` to `]`.
        span: Span,
        /// What is indexed.
        base: Box<Expr>,
        /// The index.
        index: Box<Expr>,
    },
    /// `x[A, B]`: a generic instantiation with several type arguments.
    IndexList {
        /// From `x` to `]`.
        span: Span,
        /// The generic function or type.
        base: Box<Expr>,
        /// The type arguments, at least two.
        indices: Vec<Expr>,
    },
    /// `x[lo:hi]` or `x[lo:hi:max]`, each bound but `max` optional.
    Slice {
        /// From `x` to `]`.
        span: Span,
        /// What is sliced.
        base: Box<Expr>,
        /// The low bound, if written.
        low: Option<Box<Expr>>,
        /// The high bound, if written (always, when `max` is).
        high: Option<Box<Expr>>,
        /// The capacity bound of a three-index slice.
        max: Option<Box<Expr>>,
    },
    /// `x.(T)`.
    TypeAssert {
        /// From `x` to `)`.
        span: Span,
        /// The interface value.
        base: Box<Expr>,
        /// The asserted type.
        ty: Box<Expr>,
    },
    /// `f(args)`: a function call, a builtin such as `len(s)`, or a
    /// conversion `T(x)`.
    Call {
        /// From `f` to `)`.
        span: Span,
        /// What is called or converted to.
        func: Box<Expr>,
        /// The arguments.
        args: Vec<Expr>,
        /// The last argument is spread: `f(xs...)`.
        has_ellipsis: bool,
    },
    /// `*x`: a dereference, or a pointer type when `x` is a type.
    Star {
        /// From `*` to the operand's end.
        span: Span,
        /// The pointer, or the pointed-to type.
        operand: Box<Expr>,
    },
    /// A unary operation other than `*`.
    Unary {
        /// From the operator to the operand's end.
        span: Span,
        /// The operator.
        op: UnaryOp,
        /// The operand.
        operand: Box<Expr>,
    },
    /// A binary operation.
    Binary {
        /// From the left operand to the right one's end.
        span: Span,
        /// The operator.
        op: BinaryOp,
        /// The left operand.
        left: Box<Expr>,
        /// The right operand.
        right: Box<Expr>,
    },
    /// `[N]T`.
    ArrayType {
        /// From `[` to the element type's end.
        span: Span,
        /// The length expression.
        len: Box<Expr>,
        /// The element type.
        elem: Box<Expr>,
    },
    /// `[]T`.
    SliceType {
        /// From `[` to the element type's end.
        span: Span,
        /// The element type.
        elem: Box<Expr>,
    },
    /// `map[K]V`.
    MapType {
        /// From `map` to the value type's end.
        span: Span,
        /// The key type.
        key: Box<Expr>,
        /// The value type.
        value: Box<Expr>,
    },
    /// `chan T`, `chan<- T` or `<-chan T`.
    ChanType {
        /// From `chan` or `<-` to the element type's end.
        span: Span,
        /// Which way values flow.
        dir: ChanDir,
        /// Offset of the `<-`, if there is one.
        arrow: Option<usize>,
        /// The element type.
        elem: Box<Expr>,
    },
    /// `func(params) results`.
    FuncType {
        /// From `func` to the end of the results, or of the parameters.
        span: Span,
        /// The parameters.
        params: Vec<Param>,
        /// The results.
        results: Vec<Param>,
    },
    /// `struct{}`, the only struct type accepted.
    StructType {
        /// From `struct` to `}`.
        span: Span,
    },
    /// `interface{}`, the only interface type accepted.
    InterfaceType {
        /// From `interface` to `}`.
        span: Span,
    },
}

impl Expr {
    /// Where the expression is in the parsed text.
    pub fn span(&self) -> Span {
        match self {
            Expr::Ident(ident) => ident.span,
            Expr::Int { span, .. }
            | Expr::Float { span, .. }
            | Expr::Imaginary { span, .. }
            | Expr::Char { span, .. }
            | Expr::String { span, .. }
            | Expr::Paren { span, .. }
            | Expr::Selector { span, .. }
            | Expr::Index { span, .. }
            | Expr::IndexList { span, .. }
            | Expr::Slice { span, .. }
            | Expr::TypeAssert { span, .. }
            | Expr::Call { span, .. }
            | Expr::Star { span, .. }
            | Expr::Unary { span, .. }
            | Expr::Binary { span, .. }
            | Expr::ArrayType { span, .. }
            | Expr::SliceType { span, .. }
            | Expr::MapType { span, .. }
            | Expr::ChanType { span, .. }
            | Expr::FuncType { span, .. }
            | Expr::StructType { span }
            | Expr::InterfaceType { span } => *span,
        }
    }
}

/// Why a text is not a Go expression. It displays as go/parser's errors do
/// (`1:5: expected operand, found ')'`), which is what Delve shows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{line}:{column}: {message}")]
pub struct ParseError {
    /// Byte offset of the problem in the parsed text.
    pub offset: usize,
    /// 1-based line of `offset`.
    pub line: usize,
    /// 1-based column of `offset`, in bytes as Go counts it.
    pub column: usize,
    /// What is wrong, in go/parser's words where it has some.
    pub message: String,
}

impl ParseError {
    /// An error at `offset` of `src`, with its line and column worked out.
    fn new(src: &str, offset: usize, message: impl Into<String>) -> ParseError {
        let before = &src.as_bytes()[..offset.min(src.len())];
        let line_start = before
            .iter()
            .rposition(|&byte| byte == b'\n')
            .map_or(0, |newline| newline + 1);
        ParseError {
            offset,
            line: 1 + before.iter().filter(|&&byte| byte == b'\n').count(),
            column: before.len() - line_start + 1,
            message: message.into(),
        }
    }
}

/// Parses `src` as one Go expression, like go/parser's `ParseExpr`: the
/// whole text must be the expression, up to whitespace and comments.
pub fn parse(src: &str) -> Result<Expr, ParseError> {
    parser::parse(src)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fmt::Write as _;
    use std::io::Write as _;
    use std::process::{Command, Stdio};

    /// Separates the expressions sent to the oracle and its answers: no
    /// test expression contains it.
    const SEPARATOR: char = '\u{1e}';

    /// A Go program that reads expressions from stdin, parses each with
    /// go/parser's `ParseExprFrom` and prints the tree in [`dump`]'s format,
    /// or `ERR: ` and the first error.
    const GO_ORACLE: &str = r#"package main

import (
	"fmt"
	"go/ast"
	"go/constant"
	"go/parser"
	"go/scanner"
	"go/token"
	"io"
	"math"
	"os"
	"strings"
)

const separator = "\x1e"

func main() {
	input, err := io.ReadAll(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var out strings.Builder
	for _, src := range strings.Split(string(input), separator) {
		out.WriteString(describe(src))
		out.WriteString(separator)
	}
	os.Stdout.WriteString(out.String())
}

func describe(src string) string {
	fset := token.NewFileSet()
	x, err := parser.ParseExprFrom(fset, "", []byte(src), 0)
	if err != nil {
		if list, ok := err.(scanner.ErrorList); ok && len(list) > 0 {
			return "ERR: " + list[0].Error()
		}
		return "ERR: " + err.Error()
	}
	d := &dumper{fset: fset}
	d.expr(x)
	return d.out.String()
}

type dumper struct {
	fset *token.FileSet
	out  strings.Builder
}

func (d *dumper) printf(format string, args ...any) { fmt.Fprintf(&d.out, format, args...) }

func (d *dumper) span(n ast.Node) {
	d.printf("@%d-%d", d.fset.Position(n.Pos()).Offset, d.fset.Position(n.End()).Offset)
}

func (d *dumper) optional(x ast.Expr) {
	if x == nil {
		d.printf(" _")
		return
	}
	d.printf(" ")
	d.expr(x)
}

func (d *dumper) fields(list *ast.FieldList) {
	if list == nil {
		return
	}
	for _, f := range list.List {
		d.printf(" (field")
		for _, name := range f.Names {
			d.printf(" ")
			d.expr(name)
		}
		d.printf(" ")
		d.expr(f.Type)
		d.printf(")")
		d.span(f)
	}
}

func (d *dumper) expr(x ast.Expr) {
	switch x := x.(type) {
	case *ast.Ident:
		d.printf("%s", x.Name)
	case *ast.BasicLit:
		v := constant.MakeFromLiteral(x.Value, x.Kind, 0)
		switch x.Kind {
		case token.INT:
			value := "big"
			if constant.BitLen(v) <= 128 {
				value = v.ExactString()
			}
			d.printf("(int %s %s)", x.Value, value)
		case token.FLOAT:
			f, _ := constant.Float64Val(v)
			d.printf("(float %s %016x)", x.Value, math.Float64bits(f))
		case token.IMAG:
			f, _ := constant.Float64Val(constant.Imag(v))
			d.printf("(imag %s %016x)", x.Value, math.Float64bits(f))
		case token.CHAR:
			n, _ := constant.Int64Val(v)
			d.printf("(char %s %d)", x.Value, n)
		case token.STRING:
			d.printf("(string %s %x)", x.Value, constant.StringVal(v))
		}
	case *ast.ParenExpr:
		d.printf("(paren ")
		d.expr(x.X)
		d.printf(")")
	case *ast.SelectorExpr:
		d.printf("(sel ")
		d.expr(x.X)
		d.printf(" ")
		d.expr(x.Sel)
		d.printf(")")
	case *ast.IndexExpr:
		d.printf("(index ")
		d.expr(x.X)
		d.printf(" ")
		d.expr(x.Index)
		d.printf(")")
	case *ast.IndexListExpr:
		d.printf("(indexlist ")
		d.expr(x.X)
		for _, index := range x.Indices {
			d.printf(" ")
			d.expr(index)
		}
		d.printf(")")
	case *ast.SliceExpr:
		d.printf("(slice ")
		d.expr(x.X)
		d.optional(x.Low)
		d.optional(x.High)
		d.optional(x.Max)
		d.printf(")")
	case *ast.TypeAssertExpr:
		d.printf("(assert ")
		d.expr(x.X)
		d.optional(x.Type)
		d.printf(")")
	case *ast.CallExpr:
		tag := "call"
		if x.Ellipsis.IsValid() {
			tag = "call..."
		}
		d.printf("(%s ", tag)
		d.expr(x.Fun)
		for _, arg := range x.Args {
			d.printf(" ")
			d.expr(arg)
		}
		d.printf(")")
	case *ast.StarExpr:
		d.printf("(star ")
		d.expr(x.X)
		d.printf(")")
	case *ast.UnaryExpr:
		d.printf("(unary %s ", x.Op)
		d.expr(x.X)
		d.printf(")")
	case *ast.BinaryExpr:
		d.printf("(binary %s ", x.Op)
		d.expr(x.X)
		d.printf(" ")
		d.expr(x.Y)
		d.printf(")")
	case *ast.ArrayType:
		if _, ok := x.Len.(*ast.Ellipsis); ok {
			d.printf("(unsupported [...]T)")
			return
		}
		if x.Len == nil {
			d.printf("(slicetype ")
		} else {
			d.printf("(array ")
			d.expr(x.Len)
			d.printf(" ")
		}
		d.expr(x.Elt)
		d.printf(")")
	case *ast.MapType:
		d.printf("(map ")
		d.expr(x.Key)
		d.printf(" ")
		d.expr(x.Value)
		d.printf(")")
	case *ast.ChanType:
		dir := map[ast.ChanDir]string{ast.SEND | ast.RECV: "both", ast.SEND: "send", ast.RECV: "recv"}[x.Dir]
		arrow := "_"
		if x.Arrow.IsValid() {
			arrow = fmt.Sprint(d.fset.Position(x.Arrow).Offset)
		}
		d.printf("(chan %s arrow=%s ", dir, arrow)
		d.expr(x.Value)
		d.printf(")")
	case *ast.FuncType:
		d.printf("(func (params")
		d.fields(x.Params)
		d.printf(") (results")
		d.fields(x.Results)
		d.printf("))")
	case *ast.StructType:
		if len(x.Fields.List) > 0 {
			d.printf("(unsupported struct with fields)")
			return
		}
		d.printf("(struct)")
	case *ast.InterfaceType:
		if len(x.Methods.List) > 0 {
			d.printf("(unsupported interface with methods)")
			return
		}
		d.printf("(interface)")
	case *ast.Ellipsis:
		d.printf("(ellipsis ")
		d.expr(x.Elt)
		d.printf(")")
		return
	default:
		d.printf("(unsupported %T)", x)
		return
	}
	d.span(x)
}
"#;

    /// Expressions whose tree or first error must be go/parser's: valid and
    /// invalid, every literal form, precedence and associativity, types in
    /// conversions, Delve's quoted package paths and type names, newlines
    /// and comments.
    const ORACLE_CASES: &[&str] = &[
        // Identifiers, Unicode ones included.
        "x",
        "_",
        "nil",
        "true",
        "false",
        "café",
        "日本語",
        "Ωmega.δ",
        "x1_y2",
        "ünïcödé + ß",
        // Integers.
        "0",
        "42",
        "-5",
        "1_000_000",
        "0x1F",
        "0XdeadBEEF",
        "0o17",
        "0O17",
        "017",
        "0_1",
        "0b1010",
        "0B1_0",
        "0x_1",
        "18446744073709551615",
        "340282366920938463463374607431768211455",
        "340282366920938463463374607431768211456",
        // Floating-point numbers.
        "1.5",
        "1.",
        ".5",
        "1e10",
        "1E-3",
        "1.5e+3",
        "1_0.2_5",
        "0123.5",
        "089.5",
        "0e0",
        "6.02214076e23",
        "1e400",
        "0x1p-2",
        "0x1.8p1",
        "0X.8P0",
        "0x_1p4",
        "0x1p-1074",
        // Imaginary numbers.
        "1i",
        "1.5i",
        "0i",
        "0123i",
        "1_0i",
        "0x10i",
        "0b11i",
        "0o7i",
        "1e3i",
        "0x1p2i",
        ".5i",
        // Runes.
        "'a'",
        r"'\n'",
        r"'\x41'",
        r"'\u00e9'",
        r"'\U0001F600'",
        r"'\''",
        r"'\\'",
        r"'\000'",
        r"'\377'",
        r"'\a'",
        r"'\v'",
        "'é'",
        "'😀'",
        // Strings.
        r#""""#,
        r#""hello""#,
        r#""a\tb\n""#,
        r#""\x41\101\u00e9\U0001F600""#,
        r#""\xff\x00""#,
        r#""\"""#,
        r#""日本""#,
        "`raw\\n`",
        "`multi\nline`",
        "``",
        r#""a" + "b""#,
        // Selectors, Delve's quoted package paths.
        "a.b",
        "a.b.c",
        "pkg.Var",
        r#""github.com/x/y".Var"#,
        r#""main".x.y"#,
        "a.b().c",
        "x.y.(T).z[1](2)",
        // Indexes, slices, instantiations.
        "a[i]",
        "a[1:2]",
        "a[:]",
        "a[1:]",
        "a[:2]",
        "a[1:2:3]",
        "a[:2:3]",
        r#"m["k"]"#,
        "a[i][j]",
        "a.b.c[1:2:3]",
        "a[i+1]",
        "F[int]",
        "f[int](x)",
        "pkg.Type[int, string]",
        "G[int, map[string]int]",
        "m[k1, k2]",
        "m[1,]",
        // Calls.
        "f()",
        "f(x, y)",
        "f(x,)",
        "f(x...)",
        "f(x ...)",
        "f(x, y...)",
        "f(x...,)",
        "len(s)",
        "complex(1, 2)",
        "T(x)",
        "f(a)(b)",
        "f(\n\tx,\n\ty,\n)",
        "new(int)",
        "new(struct{})",
        "make([]int, 3)",
        "make(map[string]int, 10)",
        "make(chan int)",
        // Type assertions.
        "x.(T)",
        "x.(*T)",
        "x.(pkg.T)",
        "x.(interface{})",
        "x.(func() int)",
        "x.(T).y",
        "x.(T)(y)",
        // Unary operators.
        "+x",
        "-x",
        "!b",
        "^x",
        "*p",
        "&x",
        "<-ch",
        "- -x",
        "!!b",
        "**pp",
        "&*p",
        "&a[i]",
        "*p.x",
        "-a * b",
        "*T(x)",
        "<-<-ch",
        "~int",
        // Binary operators: precedence and associativity.
        "a + b",
        "a - b - c",
        "a * b + c",
        "a + b * c",
        "a % b / c",
        "a >> b << c",
        "a || b && c",
        "a && b || c",
        "a == b && c != d",
        "a < b == c",
        "a << 1 + 2",
        "a &^ b | c",
        "a ^ b & c",
        "1 + 2 * 3 - 4 / 5 % 6",
        "a >= b",
        "x <= y || z > w",
        "(a + b) * c",
        "-a * -b",
        "a+b*c<d&&e||f",
        "a - -b",
        "a + +b",
        "1 +* 2",
        "x == nil",
        // Types, conversions and casts, Delve's quoted type names.
        "*(*T)(0xc000010000)",
        "(*main.Foo)(p)",
        r#"(*"main.T")(0x1234)"#,
        r#"*(*"main.T")(0x1234)"#,
        r#"(*"github.com/a/b.T")(p)"#,
        "[]int(x)",
        r#"[]byte("abc")"#,
        "map[string]int",
        "map[string][]int(m)",
        "map[pkg.K]chan<- *T",
        "time.Duration(5)",
        "interface{}(x)",
        "struct{}(x)",
        "chan int",
        "<-chan int",
        "chan<- int",
        "chan<- chan int",
        "chan (<-chan int)",
        "<-chan <-chan int",
        "<-chan<- chan int",
        "chan<- <-chan int",
        "[]<-chan int",
        "(chan int)(c)",
        "(<-chan int)(x)",
        "struct{}",
        "interface{}",
        "[3]int",
        "[2]struct{}",
        "[3][]*int",
        "[N+1]T",
        "*[]map[string]*T",
        "[]func() error",
        "func()",
        "func() ()",
        "func(int) string",
        "func(a, b int) (string, error)",
        "func() (a int, err error)",
        "func(x ...int)",
        "func(...int) int",
        "func(int, ...string)",
        "func(a, b)",
        "func(p *T, q pkg.U)",
        "func(a [3]int)",
        "func(a [n]T)",
        "func(a []int)",
        "func(m map[K]V) bool",
        "func(G[int])",
        "func(pkg.T[int])",
        "func(x G[int, string])",
        "(func())(f)",
        // Whitespace, newlines and comments.
        "a +\n b",
        " \t a \r\n",
        "a\n",
        "a /* c */ + b",
        "a // comment",
        "/* only */ x",
        "f(a,\n b)",
        "\u{feff}x",
        // Errors.
        "",
        ")",
        "a +",
        "(a",
        "(a + b",
        "f(a",
        "f(a b)",
        "f(a,",
        "f(\n\tx,\n\ty\n)",
        "f(x..., y)",
        "f(x){}",
        "f(a)(",
        "a b",
        "a = b",
        "a := b",
        "a += 1",
        "a++",
        "a;",
        "a; b",
        "a...b",
        "1..2",
        "a[]",
        "a[i",
        "a[:",
        "a[1:2:]",
        "a[::3]",
        "a[1:2:3:4]",
        "a[1::",
        "a[1:2,3]",
        "a[1, 2]",
        "a.",
        "a.b.",
        "a.1",
        "a.(1)",
        "a.(",
        "x.(T",
        "x.(T)[",
        "(T){1}",
        "(a){}",
        "--x",
        "a <- b",
        "if",
        "*",
        "(*T",
        "[]",
        "[3]",
        "[1, 2]int",
        "[]T[]",
        "map[string]",
        "map[]int",
        "chan",
        "<-chan<- int",
        "<-<-chan int",
        "func[T any]()",
        "func(a int, b)",
        "func(int, b c)",
        "func(a b c)",
        "func(...int, int)",
        "func(a, b ...int)",
        "func(a ...int, b int)",
        "func() (...int)",
        "a\n+ b",
        "(a\n)",
        "a /* multi\nline */ + b",
        "x /* unterminated",
        "a +\n\n)",
        "日本 +",
        "$",
        "a # b",
        "a ? b : c",
        "@x",
        "“x”",
        "a\u{a0}b",
        "\u{200b}",
        "😀",
        "\0",
        "a\0",
        "a \0",
        "x\u{feff}",
        r#""abc"#,
        "\"a\nb\"",
        r#""a\qb""#,
        r#""\x4""#,
        r#""\u12""#,
        r#""\U00110000""#,
        r#""\uD800""#,
        r#""\400""#,
        r#""\8""#,
        r#""\"#,
        "'ab'",
        "''",
        "'a",
        "'\n'",
        r#"'\"'"#,
        r"'\x4'",
        r"'\400'",
        "`abc",
        "0x",
        "0b",
        "0o",
        "0x1p",
        "0b102",
        "09",
        "0_8",
        "0o8",
        "1__0",
        "1_",
        "0b.1",
        "0x1.8",
        "0x1.8e",
        "1e",
        "1p5",
        "0b1e5",
    ];

    /// Runs go/parser on `sources` through [`GO_ORACLE`]. Fails, not skips,
    /// without Go: these tests are what shows the parser agrees with Go.
    fn go_parser_answers(sources: &[&str]) -> Vec<String> {
        let dir = std::env::temp_dir().join(format!("ferret-expr-oracle-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create the oracle's temporary directory");
        std::fs::write(dir.join("main.go"), GO_ORACLE).expect("write the oracle's main.go");
        let mut child = Command::new("go")
            .args(["run", "main.go"])
            .current_dir(&dir)
            .env("GOTOOLCHAIN", "local")
            .env("GOFLAGS", "-mod=mod")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|error| {
                panic!("cannot run `go` ({error}): the go/parser oracle needs Go on PATH")
            });
        let input = sources.join(&SEPARATOR.to_string());
        child
            .stdin
            .take()
            .expect("the oracle's stdin")
            .write_all(input.as_bytes())
            .expect("send the expressions to the oracle");
        let output = child.wait_with_output().expect("wait for the oracle");
        let _ = std::fs::remove_dir_all(&dir);
        assert!(
            output.status.success(),
            "the go/parser oracle failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let stdout = String::from_utf8(output.stdout).expect("the oracle prints UTF-8");
        let mut answers: Vec<String> = stdout.split(SEPARATOR).map(str::to_string).collect();
        answers.pop(); // after the last separator
        assert_eq!(answers.len(), sources.len(), "one answer per expression");
        answers
    }

    /// What [`GO_ORACLE`] prints for `src`, from this parser.
    fn our_answer(src: &str) -> String {
        match parse(src) {
            Ok(expr) => dump(&expr),
            Err(error) => format!("ERR: {error}"),
        }
    }

    /// The tree as an S-expression, every node followed by `@start-end`.
    fn dump(expr: &Expr) -> String {
        let mut out = String::new();
        write_expr(&mut out, expr);
        out
    }

    fn write_ident(out: &mut String, ident: &Ident) {
        let _ = write!(
            out,
            "{}@{}-{}",
            ident.name, ident.span.start, ident.span.end
        );
    }

    fn write_optional(out: &mut String, expr: Option<&Expr>) {
        match expr {
            Some(expr) => {
                out.push(' ');
                write_expr(out, expr);
            }
            None => out.push_str(" _"),
        }
    }

    fn write_params(out: &mut String, params: &[Param]) {
        for param in params {
            out.push_str(" (field");
            for name in &param.names {
                out.push(' ');
                write_ident(out, name);
            }
            out.push(' ');
            if param.variadic {
                out.push_str("(ellipsis ");
                write_expr(out, &param.ty);
                out.push(')');
            } else {
                write_expr(out, &param.ty);
            }
            let _ = write!(out, ")@{}-{}", param.span.start, param.span.end);
        }
    }

    fn write_expr(out: &mut String, expr: &Expr) {
        match expr {
            Expr::Ident(ident) => out.push_str(&ident.name),
            Expr::Int { raw, value, .. } => {
                let value = value.map_or("big".to_string(), |value| value.to_string());
                let _ = write!(out, "(int {raw} {value})");
            }
            Expr::Float { raw, value, .. } => {
                let _ = write!(out, "(float {raw} {:016x})", value.to_bits());
            }
            Expr::Imaginary { raw, value, .. } => {
                let _ = write!(out, "(imag {raw} {:016x})", value.to_bits());
            }
            Expr::Char { raw, value, .. } => {
                let _ = write!(out, "(char {raw} {})", u32::from(*value));
            }
            Expr::String { raw, value, .. } => {
                let _ = write!(out, "(string {raw} ");
                for byte in value {
                    let _ = write!(out, "{byte:02x}");
                }
                out.push(')');
            }
            Expr::Paren { inner, .. } => {
                out.push_str("(paren ");
                write_expr(out, inner);
                out.push(')');
            }
            Expr::Selector { base, field, .. } => {
                out.push_str("(sel ");
                write_expr(out, base);
                out.push(' ');
                write_ident(out, field);
                out.push(')');
            }
            Expr::Index { base, index, .. } => {
                out.push_str("(index ");
                write_expr(out, base);
                out.push(' ');
                write_expr(out, index);
                out.push(')');
            }
            Expr::IndexList { base, indices, .. } => {
                out.push_str("(indexlist ");
                write_expr(out, base);
                for index in indices {
                    out.push(' ');
                    write_expr(out, index);
                }
                out.push(')');
            }
            Expr::Slice {
                base,
                low,
                high,
                max,
                ..
            } => {
                out.push_str("(slice ");
                write_expr(out, base);
                write_optional(out, low.as_deref());
                write_optional(out, high.as_deref());
                write_optional(out, max.as_deref());
                out.push(')');
            }
            Expr::TypeAssert { base, ty, .. } => {
                out.push_str("(assert ");
                write_expr(out, base);
                out.push(' ');
                write_expr(out, ty);
                out.push(')');
            }
            Expr::Call {
                func,
                args,
                has_ellipsis,
                ..
            } => {
                out.push_str(if *has_ellipsis { "(call... " } else { "(call " });
                write_expr(out, func);
                for arg in args {
                    out.push(' ');
                    write_expr(out, arg);
                }
                out.push(')');
            }
            Expr::Star { operand, .. } => {
                out.push_str("(star ");
                write_expr(out, operand);
                out.push(')');
            }
            Expr::Unary { op, operand, .. } => {
                let _ = write!(out, "(unary {} ", op.as_str());
                write_expr(out, operand);
                out.push(')');
            }
            Expr::Binary {
                op, left, right, ..
            } => {
                let _ = write!(out, "(binary {} ", op.as_str());
                write_expr(out, left);
                out.push(' ');
                write_expr(out, right);
                out.push(')');
            }
            Expr::ArrayType { len, elem, .. } => {
                out.push_str("(array ");
                write_expr(out, len);
                out.push(' ');
                write_expr(out, elem);
                out.push(')');
            }
            Expr::SliceType { elem, .. } => {
                out.push_str("(slicetype ");
                write_expr(out, elem);
                out.push(')');
            }
            Expr::MapType { key, value, .. } => {
                out.push_str("(map ");
                write_expr(out, key);
                out.push(' ');
                write_expr(out, value);
                out.push(')');
            }
            Expr::ChanType {
                dir, arrow, elem, ..
            } => {
                let dir = match dir {
                    ChanDir::Both => "both",
                    ChanDir::Send => "send",
                    ChanDir::Recv => "recv",
                };
                let arrow = arrow.map_or("_".to_string(), |arrow| arrow.to_string());
                let _ = write!(out, "(chan {dir} arrow={arrow} ");
                write_expr(out, elem);
                out.push(')');
            }
            Expr::FuncType {
                params, results, ..
            } => {
                out.push_str("(func (params");
                write_params(out, params);
                out.push_str(") (results");
                write_params(out, results);
                out.push_str("))");
            }
            Expr::StructType { .. } => out.push_str("(struct)"),
            Expr::InterfaceType { .. } => out.push_str("(interface)"),
        }
        let span = expr.span();
        let _ = write!(out, "@{}-{}", span.start, span.end);
    }

    #[test]
    fn errors_know_their_line_and_column() {
        let error = parse("a +\n\n)").expect_err("no operand");
        assert_eq!(
            (error.offset, error.line, error.column),
            (5, 3, 1),
            "{error}"
        );
        assert_eq!(error.to_string(), "3:1: expected operand, found ')'");
    }

    #[test]
    fn cut_or_trimmed_expressions_never_panic() {
        for src in ORACLE_CASES {
            for (index, _) in src.char_indices() {
                let _ = parse(&src[..index]);
                let _ = parse(&src[index..]);
            }
        }
    }

    #[test]
    fn agrees_with_go_parser() {
        let answers = go_parser_answers(ORACLE_CASES);
        let mismatches: Vec<String> = ORACLE_CASES
            .iter()
            .zip(&answers)
            .filter_map(|(src, go)| {
                let ours = our_answer(src);
                (ours != *go).then(|| format!("{src:?}\n    go:   {go}\n    ours: {ours}"))
            })
            .collect();
        assert!(
            mismatches.is_empty(),
            "{} of {} expressions differ from go/parser:\n{}",
            mismatches.len(),
            ORACLE_CASES.len(),
            mismatches.join("\n")
        );
    }
}
