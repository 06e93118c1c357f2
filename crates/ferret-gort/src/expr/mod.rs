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
//! struct and interface types that are not empty, `[...]T` and `x.(type)`.

mod lexer;
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
