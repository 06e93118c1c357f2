//! A recursive-descent parser for one Go expression, shaped after
//! go/parser's expression functions so that it accepts the same texts and
//! stops at the error go/parser reports first.

use super::lexer::{Lexer, Token, TokenKind};
use super::{BinaryOp, ChanDir, Expr, Ident, Param, ParseError, Span, UnaryOp};

/// How deep expressions may nest before parsing gives up, counted like
/// go/parser counts it (each operand with its prefix operators, selector,
/// index, call, binary operator and type is a level; so is a parameter
/// list). It bounds
/// the parser's recursion and the depth of the tree it returns, so that
/// neither the parser nor whoever walks the tree runs out of stack. The
/// costliest nesting (`func(a [func(a [...`) takes about 5.4 KB of stack a
/// level in a debug build, 1.1 KB in release: 200 levels fit a 2 MB thread
/// with room to spare, where go/parser's 100 000 would not.
const MAX_NESTING: usize = 200;

/// Parses `src` as one expression followed by nothing but whitespace,
/// comments and a final newline, like go/parser's `ParseExpr`.
pub(super) fn parse(src: &str) -> Result<Expr, ParseError> {
    let mut parser = Parser::new(src)?;
    let expr = parser.parse_expr()?;
    if parser.token.kind == (TokenKind::Semicolon { inserted: true }) {
        parser.advance()?;
    }
    if parser.token.kind != TokenKind::Eof {
        return Err(parser.error_expected("'EOF'"));
    }
    Ok(expr)
}

/// One parameter declaration of a function type as written, before names
/// and types are paired up.
enum ParamDecl {
    /// `a`: a type name in a list of types, or a name sharing the type of
    /// the next declaration (`a, b int`).
    Bare(Ident),
    /// `T` or `...T`.
    Unnamed(ParamType),
    /// `a T` or `a ...T`.
    Named(Ident, ParamType),
}

/// The type of a parameter declaration.
struct ParamType {
    /// Where the type starts, `...` included.
    start: usize,
    /// The type, without `...`.
    ty: Expr,
    /// Offset of `...` when the parameter is variadic.
    ellipsis: Option<usize>,
}

impl ParamType {
    /// A type written without `...`.
    fn plain(ty: Expr) -> ParamType {
        ParamType {
            start: ty.span().start,
            ty,
            ellipsis: None,
        }
    }
}

/// What `[...]` after a parameter name holds.
struct Brackets {
    /// Offset of the `[`.
    opening: usize,
    /// The expressions inside: an array length or type arguments.
    args: Vec<Expr>,
    /// Offset of a comma just before the `]`.
    trailing_comma: Option<usize>,
    /// The `]`.
    closing: Span,
}

/// The parser's state: the lexer and one token of lookahead.
struct Parser<'src> {
    /// The whole text, for identifiers and literals.
    src: &'src str,
    /// Where the tokens come from.
    lexer: Lexer<'src>,
    /// The current token.
    token: Token,
    /// How deep the expression being parsed nests so far.
    depth: usize,
}

impl<'src> Parser<'src> {
    /// A parser at the first token of `src`.
    fn new(src: &'src str) -> Result<Parser<'src>, ParseError> {
        let mut lexer = Lexer::new(src);
        let token = lexer.next_token()?;
        Ok(Parser {
            src,
            lexer,
            token,
            depth: 0,
        })
    }

    /// Moves to the next token and returns the current one.
    fn advance(&mut self) -> Result<Token, ParseError> {
        let next = self.lexer.next_token()?;
        Ok(std::mem::replace(&mut self.token, next))
    }

    /// The source text of `span`.
    fn text(&self, span: Span) -> String {
        self.src
            .get(span.start..span.end)
            .unwrap_or_default()
            .to_string()
    }

    /// Whether the current token is the operator `operator`.
    fn at(&self, operator: &str) -> bool {
        matches!(self.token.kind, TokenKind::Operator(found) if found == operator)
    }

    /// Whether the current token is the keyword `keyword`.
    fn at_keyword(&self, keyword: &str) -> bool {
        matches!(self.token.kind, TokenKind::Keyword(found) if found == keyword)
    }

    /// Whether the current token is the end of the text.
    fn at_eof(&self) -> bool {
        self.token.kind == TokenKind::Eof
    }

    /// An error at `offset` of the text.
    fn error_at(&self, offset: usize, message: impl Into<String>) -> ParseError {
        ParseError::new(self.src, offset, message)
    }

    /// go/parser's `errorExpected` at the current token: "expected X, found
    /// Y", where Y is a literal's text, `newline` for an inserted semicolon,
    /// or any other token's spelling in quotes.
    fn error_expected(&self, expected: &str) -> ParseError {
        let found = match &self.token.kind {
            TokenKind::Ident
            | TokenKind::Int(_)
            | TokenKind::Float(_)
            | TokenKind::Imaginary(_)
            | TokenKind::Char(_)
            | TokenKind::String(_) => self.text(self.token.span),
            TokenKind::Keyword(spelling) | TokenKind::Operator(spelling) => format!("'{spelling}'"),
            TokenKind::Semicolon { inserted: true } => "newline".to_string(),
            TokenKind::Semicolon { inserted: false } => "';'".to_string(),
            TokenKind::Eof => "'EOF'".to_string(),
        };
        self.error_at(
            self.token.span.start,
            format!("expected {expected}, found {found}"),
        )
    }

    /// Consumes the operator `operator`, or fails like go/parser's `expect`.
    fn expect(&mut self, operator: &str) -> Result<Span, ParseError> {
        if !self.at(operator) {
            return Err(self.error_expected(&format!("'{operator}'")));
        }
        Ok(self.advance()?.span)
    }

    /// Like [`Parser::expect`], with go/parser's better message for a
    /// newline where a list needs a comma before its closing `operator`.
    fn expect_closing(&mut self, operator: &str, context: &str) -> Result<Span, ParseError> {
        if !self.at(operator) && self.token.kind == (TokenKind::Semicolon { inserted: true }) {
            return Err(self.error_at(
                self.token.span.start,
                format!("missing ',' before newline in {context}"),
            ));
        }
        self.expect(operator)
    }

    /// Whether a list goes on after an element: true at a comma, false at
    /// `closing`, an error at anything else (go/parser's `atComma`).
    fn at_comma(&self, context: &str, closing: &str) -> Result<bool, ParseError> {
        if self.at(",") {
            return Ok(true);
        }
        if self.at(closing) {
            return Ok(false);
        }
        let message = if self.token.kind == (TokenKind::Semicolon { inserted: true }) {
            format!("missing ',' before newline in {context}")
        } else {
            format!("missing ',' in {context}")
        };
        Err(self.error_at(self.token.span.start, message))
    }

    /// Goes one level deeper, or fails past [`MAX_NESTING`].
    fn enter(&mut self) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(self.error_at(self.token.span.start, "exceeded max nesting depth"));
        }
        Ok(())
    }

    /// Comes back up `levels` levels.
    fn leave(&mut self, levels: usize) {
        self.depth -= levels;
    }

    /// Parses an expression (or a type: Go's grammar does not tell them
    /// apart before the evaluator does).
    ///
    /// The functions that recurse for nested expressions (this one,
    /// `parse_binary`, `parse_unary`, `parse_primary`, `parse_operand`) only
    /// dispatch, and leave the work to functions that are not on the stack
    /// while a nested expression is parsed: this keeps every level of
    /// nesting cheap in stack, in debug builds too.
    fn parse_expr(&mut self) -> Result<Expr, ParseError> {
        self.parse_binary(1)
    }

    /// Parses a chain of binary operations binding at least as tightly as
    /// `min_precedence`, by precedence climbing.
    fn parse_binary(&mut self, min_precedence: u8) -> Result<Expr, ParseError> {
        let left = self.parse_unary()?;
        self.parse_binary_operators(left, min_precedence)
    }

    /// Parses the operators and right operands that follow `left` in a
    /// chain of binary operations.
    fn parse_binary_operators(
        &mut self,
        mut left: Expr,
        min_precedence: u8,
    ) -> Result<Expr, ParseError> {
        let mut levels = 0;
        loop {
            self.enter()?;
            levels += 1;
            let (op, precedence) = match self.binary_operator() {
                Some(op) => (Some(op), op.precedence()),
                // go/parser parses `a = b` as a misspelled `a == b`; Delve
                // recognizes an assignment by the resulting error.
                None if self.at("=") => (None, BinaryOp::Equal.precedence()),
                None => break,
            };
            if precedence < min_precedence {
                break;
            }
            let Some(op) = op else {
                return Err(self.error_expected("'=='"));
            };
            self.advance()?;
            let right = self.parse_binary(precedence + 1)?;
            left = Expr::Binary {
                span: Span {
                    start: left.span().start,
                    end: right.span().end,
                },
                op,
                left: Box::new(left),
                right: Box::new(right),
            };
        }
        self.leave(levels);
        Ok(left)
    }

    /// The binary operator at the current token, if it is one.
    fn binary_operator(&self) -> Option<BinaryOp> {
        let TokenKind::Operator(operator) = self.token.kind else {
            return None;
        };
        Some(match operator {
            "||" => BinaryOp::LogicalOr,
            "&&" => BinaryOp::LogicalAnd,
            "==" => BinaryOp::Equal,
            "!=" => BinaryOp::NotEqual,
            "<" => BinaryOp::Less,
            "<=" => BinaryOp::LessOrEqual,
            ">" => BinaryOp::Greater,
            ">=" => BinaryOp::GreaterOrEqual,
            "+" => BinaryOp::Add,
            "-" => BinaryOp::Sub,
            "|" => BinaryOp::Or,
            "^" => BinaryOp::Xor,
            "*" => BinaryOp::Mul,
            "/" => BinaryOp::Div,
            "%" => BinaryOp::Rem,
            "<<" => BinaryOp::ShiftLeft,
            ">>" => BinaryOp::ShiftRight,
            "&" => BinaryOp::And,
            "&^" => BinaryOp::AndNot,
            _ => return None,
        })
    }

    /// Parses a unary expression: prefix operators, then a primary
    /// expression.
    fn parse_unary(&mut self) -> Result<Expr, ParseError> {
        self.enter()?;
        let expr = if let Some(op) = self.unary_operator() {
            self.parse_unary_operation(op)
        } else if self.at("*") {
            self.parse_star()
        } else {
            self.parse_primary()
        };
        self.leave(1);
        expr
    }

    /// The unary operator other than `*` at the current token, if it is one.
    fn unary_operator(&self) -> Option<UnaryOp> {
        let TokenKind::Operator(operator) = self.token.kind else {
            return None;
        };
        Some(match operator {
            "+" => UnaryOp::Plus,
            "-" => UnaryOp::Minus,
            "!" => UnaryOp::Not,
            "^" => UnaryOp::Complement,
            "&" => UnaryOp::AddressOf,
            "<-" => UnaryOp::Receive,
            "~" => UnaryOp::Tilde,
            _ => return None,
        })
    }

    /// Parses the operator `op` and its operand. `<-` followed by a channel
    /// type is a receive-only channel type rather than a receive.
    fn parse_unary_operation(&mut self, op: UnaryOp) -> Result<Expr, ParseError> {
        let start = self.advance()?.span.start;
        let operand = self.parse_unary()?;
        if op == UnaryOp::Receive && matches!(operand, Expr::ChanType { .. }) {
            return self.receive_into_chan_type(start, operand);
        }
        Ok(Expr::Unary {
            span: Span {
                start,
                end: operand.span().end,
            },
            op,
            operand: Box::new(operand),
        })
    }

    /// Parses `*x`, a dereference or a pointer type.
    fn parse_star(&mut self) -> Result<Expr, ParseError> {
        let start = self.advance()?.span.start;
        let operand = self.parse_unary()?;
        Ok(Expr::Star {
            span: Span {
                start,
                end: operand.span().end,
            },
            operand: Box::new(operand),
        })
    }

    /// Makes `<-` followed by the channel type `chan_type` the channel type
    /// `<-chan ...`, as go/parser does: the arrow binds to the leftmost
    /// `chan`, so `<-chan<- chan int` is `<-chan (<-chan int)` and each
    /// nested `chan<-` passes its arrow on to the next channel type.
    fn receive_into_chan_type(
        &self,
        arrow: usize,
        mut chan_type: Expr,
    ) -> Result<Expr, ParseError> {
        let mut arrow = arrow;
        let mut current = &mut chan_type;
        loop {
            let Expr::ChanType {
                span,
                dir,
                arrow: chan_arrow,
                elem,
            } = current
            else {
                // The last `chan<-` gave its arrow away and has no channel
                // type to take it.
                return Err(self.error_at(arrow, "expected channel type"));
            };
            if *dir == ChanDir::Recv {
                // `<-` before `<-chan T`; a receive-only channel type
                // starts at its arrow.
                return Err(self.error_at(span.start, "expected 'chan'"));
            }
            let (previous_dir, previous_arrow) = (*dir, *chan_arrow);
            span.start = arrow;
            *chan_arrow = Some(arrow);
            *dir = ChanDir::Recv;
            match (previous_dir, previous_arrow) {
                (ChanDir::Send, Some(next_arrow)) => {
                    arrow = next_arrow;
                    current = elem;
                }
                _ => break,
            }
        }
        Ok(chan_type)
    }

    /// Parses an operand followed by selectors, indexes, slices, type
    /// assertions and calls.
    fn parse_primary(&mut self) -> Result<Expr, ParseError> {
        let operand = self.parse_operand()?;
        self.parse_suffixes(operand)
    }

    /// Parses the selectors, indexes, slices, type assertions and calls
    /// that follow `expr`.
    fn parse_suffixes(&mut self, mut expr: Expr) -> Result<Expr, ParseError> {
        let mut levels = 0;
        loop {
            self.enter()?;
            levels += 1;
            // A `{` that cannot start a composite literal is not part of the
            // expression.
            let continues = self.at(".")
                || self.at("[")
                || self.at("(")
                || self.at("{") && composite_literal_type(&expr).is_some();
            if !continues {
                break;
            }
            expr = self.parse_suffix(expr)?;
        }
        self.leave(levels);
        Ok(expr)
    }

    /// Parses the selector, index, slice, type assertion or call that
    /// follows `expr`.
    fn parse_suffix(&mut self, expr: Expr) -> Result<Expr, ParseError> {
        if self.at(".") {
            self.parse_selector_or_type_assertion(expr)
        } else if self.at("[") {
            self.parse_index_or_slice(expr)
        } else if self.at("(") {
            self.parse_call(expr)
        } else {
            Err(self.composite_literal_error(&expr))
        }
    }

    /// Parses `.field` or `.(T)` after `base`.
    fn parse_selector_or_type_assertion(&mut self, base: Expr) -> Result<Expr, ParseError> {
        self.advance()?;
        if self.token.kind == TokenKind::Ident {
            self.parse_selector(base)
        } else if self.at("(") {
            self.parse_type_assertion(base)
        } else {
            Err(self.error_expected("selector or type assertion"))
        }
    }

    /// The error for `{` after `expr`, which go/parser would read as a
    /// composite literal: those are not supported, and a parenthesized type
    /// cannot have one in Go.
    fn composite_literal_error(&self, expr: &Expr) -> ParseError {
        match composite_literal_type(expr) {
            Some(ty) if matches!(expr, Expr::Paren { .. }) => self.error_at(
                ty.span().start,
                "cannot parenthesize type in composite literal",
            ),
            _ => self.error_at(
                self.token.span.start,
                "composite literals are not supported",
            ),
        }
    }

    /// Parses the field name of `base.field`, the `.` consumed.
    fn parse_selector(&mut self, base: Expr) -> Result<Expr, ParseError> {
        let field = self.parse_ident()?;
        Ok(Expr::Selector {
            span: Span {
                start: base.span().start,
                end: field.span.end,
            },
            base: Box::new(base),
            field,
        })
    }

    /// Parses an identifier.
    fn parse_ident(&mut self) -> Result<Ident, ParseError> {
        if self.token.kind != TokenKind::Ident {
            return Err(self.error_expected("'IDENT'"));
        }
        let span = self.advance()?.span;
        Ok(Ident {
            name: self.text(span),
            span,
        })
    }

    /// Parses an operand: a name, a parenthesized expression, a type or a
    /// literal.
    fn parse_operand(&mut self) -> Result<Expr, ParseError> {
        if self.token.kind == TokenKind::Ident {
            self.parse_ident().map(Expr::Ident)
        } else if self.at("(") {
            self.parse_paren()
        } else if self.at_keyword("func") {
            self.parse_func_operand()
        } else if self.at_type_start() {
            self.parse_type()
        } else {
            self.parse_literal()
        }
    }

    /// Parses `(x)`, where `x` may be a type.
    fn parse_paren(&mut self) -> Result<Expr, ParseError> {
        let start = self.advance()?.span.start;
        let inner = self.parse_expr()?;
        let end = self.expect(")")?.end;
        Ok(Expr::Paren {
            span: Span { start, end },
            inner: Box::new(inner),
        })
    }

    /// Parses a function type as an operand, where Go could also have a
    /// function literal.
    fn parse_func_operand(&mut self) -> Result<Expr, ParseError> {
        let func_type = self.parse_func_type()?;
        if self.at("{") {
            return Err(self.error_at(self.token.span.start, "function literals are not supported"));
        }
        Ok(func_type)
    }

    /// Parses a literal, the last kind of operand: anything else is
    /// go/parser's "expected operand".
    fn parse_literal(&mut self) -> Result<Expr, ParseError> {
        let span = self.token.span;
        let literal = match &self.token.kind {
            TokenKind::Int(value) => Expr::Int {
                span,
                raw: self.text(span),
                value: *value,
            },
            TokenKind::Float(value) => Expr::Float {
                span,
                raw: self.text(span),
                value: *value,
            },
            TokenKind::Imaginary(value) => Expr::Imaginary {
                span,
                raw: self.text(span),
                value: *value,
            },
            TokenKind::Char(value) => Expr::Char {
                span,
                raw: self.text(span),
                value: *value,
            },
            TokenKind::String(value) => Expr::String {
                span,
                raw: self.text(span),
                value: value.clone(),
            },
            _ => return Err(self.error_expected("operand")),
        };
        self.advance()?;
        Ok(literal)
    }

    /// Parses `.(T)` after `base`, the `.` consumed.
    fn parse_type_assertion(&mut self, base: Expr) -> Result<Expr, ParseError> {
        self.expect("(")?;
        if self.at_keyword("type") {
            return Err(self.error_at(self.token.span.start, "use of .(type) outside type switch"));
        }
        let ty = self.parse_type()?;
        let end = self.expect(")")?.end;
        Ok(Expr::TypeAssert {
            span: Span {
                start: base.span().start,
                end,
            },
            base: Box::new(base),
            ty: Box::new(ty),
        })
    }

    /// Parses `[...]` after `base`: an index, a slice, or a generic
    /// instantiation with several type arguments.
    fn parse_index_or_slice(&mut self, base: Expr) -> Result<Expr, ParseError> {
        self.expect("[")?;
        if self.at("]") {
            return Err(self.error_expected("operand"));
        }
        let low = if self.at(":") {
            None
        } else {
            Some(self.parse_expr()?)
        };
        match low {
            Some(index) if !self.at(":") => self.finish_index(base, index),
            low => self.finish_slice(base, low),
        }
    }

    /// Parses the rest of `base[index]` or `base[index, T2, ...]`.
    fn finish_index(&mut self, base: Expr, index: Expr) -> Result<Expr, ParseError> {
        // After the first argument of an instantiation come types.
        let mut arguments = vec![index];
        while self.at(",") {
            self.advance()?;
            if !self.at("]") && !self.at_eof() {
                arguments.push(self.parse_type()?);
            }
        }
        let closing = self.expect("]")?;
        self.instantiation(base, arguments, closing)
    }

    /// Parses the rest of `base[low:high]` or `base[low:high:max]`, at the
    /// first colon.
    fn finish_slice(&mut self, base: Expr, low: Option<Expr>) -> Result<Expr, ParseError> {
        let mut colons = Vec::new();
        let mut bounds = Vec::new();
        while self.at(":") && colons.len() < 2 {
            colons.push(self.advance()?.span.start);
            let bound = if self.at(":") || self.at("]") || self.at_eof() {
                None
            } else {
                Some(Box::new(self.parse_expr()?))
            };
            bounds.push(bound);
        }
        let end = self.expect("]")?.end;
        // go/parser checks the bounds of a 3-index slice after the `]`.
        let mut bounds = bounds.into_iter();
        let high = bounds.next().flatten();
        let max = bounds.next().flatten();
        if let [first_colon, second_colon] = colons[..] {
            if high.is_none() {
                return Err(self.error_at(first_colon, "middle index required in 3-index slice"));
            }
            if max.is_none() {
                return Err(self.error_at(second_colon, "final index required in 3-index slice"));
            }
        }
        Ok(Expr::Slice {
            span: Span {
                start: base.span().start,
                end,
            },
            base: Box::new(base),
            low: low.map(Box::new),
            high,
            max,
        })
    }

    /// `generic[arguments]`, the `]` at `closing`: an index expression for
    /// one argument, an index list for more, like go/parser's
    /// `packIndexExpr`.
    fn instantiation(
        &self,
        generic: Expr,
        mut arguments: Vec<Expr>,
        closing: Span,
    ) -> Result<Expr, ParseError> {
        let span = Span {
            start: generic.span().start,
            end: closing.end,
        };
        if arguments.len() > 1 {
            return Ok(Expr::IndexList {
                span,
                base: Box::new(generic),
                indices: arguments,
            });
        }
        match arguments.pop() {
            Some(index) => Ok(Expr::Index {
                span,
                base: Box::new(generic),
                index: Box::new(index),
            }),
            None => Err(self.error_at(closing.start, "expected type argument list")),
        }
    }

    /// Parses the arguments of a call of `func`, from `(`.
    fn parse_call(&mut self, func: Expr) -> Result<Expr, ParseError> {
        self.expect("(")?;
        let mut args = Vec::new();
        let mut has_ellipsis = false;
        while !self.at(")") && !self.at_eof() && !has_ellipsis {
            args.push(self.parse_expr()?);
            if self.at("...") {
                has_ellipsis = true;
                self.advance()?;
            }
            if !self.at_comma("argument list", ")")? {
                break;
            }
            self.advance()?;
        }
        let end = self.expect_closing(")", "argument list")?.end;
        Ok(Expr::Call {
            span: Span {
                start: func.span().start,
                end,
            },
            func: Box::new(func),
            args,
            has_ellipsis,
        })
    }

    /// Whether a type starts at the current token.
    fn at_type_start(&self) -> bool {
        self.token.kind == TokenKind::Ident
            || ["[", "*", "(", "<-"]
                .iter()
                .any(|operator| self.at(operator))
            || ["chan", "map", "func", "struct", "interface"]
                .iter()
                .any(|keyword| self.at_keyword(keyword))
    }

    /// Parses a type, or fails with "expected type".
    fn parse_type(&mut self) -> Result<Expr, ParseError> {
        self.enter()?;
        let ty = if self.token.kind == TokenKind::Ident {
            self.parse_named_type()
        } else if self.at("[") {
            self.parse_array_type()
        } else if self.at("*") {
            self.parse_pointer_type()
        } else if self.at("(") {
            self.parse_paren_type()
        } else if self.at("<-") || self.at_keyword("chan") {
            self.parse_chan_type()
        } else if self.at_keyword("map") {
            self.parse_map_type()
        } else if self.at_keyword("func") {
            self.parse_func_type()
        } else if self.at_keyword("struct") {
            self.parse_struct_type()
        } else if self.at_keyword("interface") {
            self.parse_interface_type()
        } else {
            Err(self.error_expected("type"))
        };
        self.leave(1);
        ty
    }

    /// Parses a type name, maybe qualified, maybe instantiated: `T`,
    /// `pkg.T`, `G[int]`.
    fn parse_named_type(&mut self) -> Result<Expr, ParseError> {
        let name = self.parse_type_name()?;
        if self.at("[") {
            self.parse_type_instance(name)
        } else {
            Ok(name)
        }
    }

    /// Parses `*T`.
    fn parse_pointer_type(&mut self) -> Result<Expr, ParseError> {
        let start = self.advance()?.span.start;
        let pointee = self.parse_type()?;
        Ok(Expr::Star {
            span: Span {
                start,
                end: pointee.span().end,
            },
            operand: Box::new(pointee),
        })
    }

    /// Parses `(T)`.
    fn parse_paren_type(&mut self) -> Result<Expr, ParseError> {
        let start = self.advance()?.span.start;
        let inner = self.parse_type()?;
        let end = self.expect(")")?.end;
        Ok(Expr::Paren {
            span: Span { start, end },
            inner: Box::new(inner),
        })
    }

    /// Parses a type name, `T` or `pkg.T`.
    fn parse_type_name(&mut self) -> Result<Expr, ParseError> {
        let name = self.parse_ident()?;
        if !self.at(".") {
            return Ok(Expr::Ident(name));
        }
        self.advance()?;
        let field = self.parse_ident()?;
        Ok(Expr::Selector {
            span: Span {
                start: name.span.start,
                end: field.span.end,
            },
            base: Box::new(Expr::Ident(name)),
            field,
        })
    }

    /// Parses the type arguments of the generic type `generic`, from `[`.
    fn parse_type_instance(&mut self, generic: Expr) -> Result<Expr, ParseError> {
        self.expect("[")?;
        let mut arguments = Vec::new();
        while !self.at("]") && !self.at_eof() {
            arguments.push(self.parse_type()?);
            if !self.at_comma("type argument list", "]")? {
                break;
            }
            self.advance()?;
        }
        let closing = self.expect_closing("]", "type argument list")?;
        self.instantiation(generic, arguments, closing)
    }

    /// Parses an array or slice type.
    fn parse_array_type(&mut self) -> Result<Expr, ParseError> {
        let start = self.advance()?.span.start;
        if self.at("...") {
            return Err(self.error_at(
                self.token.span.start,
                "invalid use of [...] array (outside a composite literal)",
            ));
        }
        let len = if self.at("]") {
            None
        } else {
            Some(self.parse_expr()?)
        };
        if self.at(",") {
            return Err(self.error_at(self.token.span.start, "unexpected comma; expecting ]"));
        }
        self.expect("]")?;
        let elem = self.parse_type()?;
        Ok(array_type(start, len, elem))
    }

    /// Parses `chan T`, `chan<- T` or `<-chan T`.
    fn parse_chan_type(&mut self) -> Result<Expr, ParseError> {
        let start = self.token.span.start;
        let (dir, arrow) = if self.at_keyword("chan") {
            self.advance()?;
            if self.at("<-") {
                (ChanDir::Send, Some(self.advance()?.span.start))
            } else {
                (ChanDir::Both, None)
            }
        } else {
            let arrow = self.expect("<-")?.start;
            if !self.at_keyword("chan") {
                return Err(self.error_expected("'chan'"));
            }
            self.advance()?;
            (ChanDir::Recv, Some(arrow))
        };
        let elem = self.parse_type()?;
        Ok(Expr::ChanType {
            span: Span {
                start,
                end: elem.span().end,
            },
            dir,
            arrow,
            elem: Box::new(elem),
        })
    }

    /// Parses `map[K]V`.
    fn parse_map_type(&mut self) -> Result<Expr, ParseError> {
        let start = self.advance()?.span.start;
        self.expect("[")?;
        let key = self.parse_type()?;
        self.expect("]")?;
        let value = self.parse_type()?;
        Ok(Expr::MapType {
            span: Span {
                start,
                end: value.span().end,
            },
            key: Box::new(key),
            value: Box::new(value),
        })
    }

    /// Parses `struct{}`; struct types with fields are not supported.
    fn parse_struct_type(&mut self) -> Result<Expr, ParseError> {
        let start = self.advance()?.span.start;
        self.expect("{")?;
        // What go/parser would read as a field.
        if self.token.kind == TokenKind::Ident || self.at("*") || self.at("(") {
            return Err(self.error_at(
                self.token.span.start,
                "struct types with fields are not supported",
            ));
        }
        let end = self.expect("}")?.end;
        Ok(Expr::StructType {
            span: Span { start, end },
        })
    }

    /// Parses `interface{}`; interface types with methods or embedded types
    /// are not supported.
    fn parse_interface_type(&mut self) -> Result<Expr, ParseError> {
        let start = self.advance()?.span.start;
        self.expect("{")?;
        // What go/parser would read as a method or an embedded type.
        if self.at("~") || self.at_type_start() {
            return Err(self.error_at(
                self.token.span.start,
                "interface types with methods or embedded types are not supported",
            ));
        }
        let end = self.expect("}")?.end;
        Ok(Expr::InterfaceType {
            span: Span { start, end },
        })
    }

    /// Parses `func(params) results`.
    fn parse_func_type(&mut self) -> Result<Expr, ParseError> {
        let start = self.advance()?.span.start;
        if self.at("[") {
            return Err(self.error_at(
                self.token.span.start,
                "function type must have no type parameters",
            ));
        }
        let (params, params_end) = self.parse_parameters(true)?;
        let (results, results_end) = self.parse_results()?;
        Ok(Expr::FuncType {
            span: Span {
                start,
                end: results_end.unwrap_or(params_end),
            },
            params,
            results,
        })
    }

    /// Parses a parenthesized parameter list; returns it and the offset just
    /// past its `)`. `variadic_ok` allows `...T` for the last parameter.
    /// A parameter list counts as a level of nesting: parameters nest in
    /// their function type, types in their parameters.
    fn parse_parameters(&mut self, variadic_ok: bool) -> Result<(Vec<Param>, usize), ParseError> {
        self.enter()?;
        self.expect("(")?;
        let decls = self.parse_param_decls()?;
        // go/parser checks the names and types before the `)`.
        let params = self.pair_names_and_types(decls, variadic_ok)?;
        let end = self.expect(")")?.end;
        self.leave(1);
        Ok((params, end))
    }

    /// Parses a function type's results: a parenthesized list, one type or
    /// none. Returns them and the offset just past them, if there are any.
    fn parse_results(&mut self) -> Result<(Vec<Param>, Option<usize>), ParseError> {
        if self.at("(") {
            let (results, end) = self.parse_parameters(false)?;
            return Ok((results, Some(end)));
        }
        if !self.at_type_start() {
            return Ok((Vec::new(), None));
        }
        let ty = self.parse_type()?;
        let span = ty.span();
        let result = Param {
            span,
            names: Vec::new(),
            ty,
            variadic: false,
        };
        Ok((vec![result], Some(span.end)))
    }

    /// Parses the declarations of a parameter list, up to its `)`.
    fn parse_param_decls(&mut self) -> Result<Vec<ParamDecl>, ParseError> {
        let mut decls = Vec::new();
        while !self.at(")") && !self.at_eof() {
            decls.push(self.parse_param_decl()?);
            if !self.at_comma("parameter list", ")")? {
                break;
            }
            self.advance()?;
        }
        Ok(decls)
    }

    /// Turns the declarations of a parameter list into parameters, like
    /// go/parser's `parseParameterList`: either every declaration is a type,
    /// or every one is named, names sharing the type that follows them
    /// (`a, b int`).
    fn pair_names_and_types(
        &self,
        decls: Vec<ParamDecl>,
        variadic_ok: bool,
    ) -> Result<Vec<Param>, ParseError> {
        let has_names = decls
            .iter()
            .any(|decl| matches!(decl, ParamDecl::Named(..)));
        if has_names {
            self.check_all_named(&decls)?;
        }
        let mut params = Vec::new();
        let mut pending_names: Vec<Ident> = Vec::new();
        for decl in decls {
            match decl {
                ParamDecl::Bare(name) if !has_names => {
                    let ty = ParamType::plain(Expr::Ident(name));
                    params.push((ty.start, Vec::new(), ty));
                }
                ParamDecl::Bare(name) => pending_names.push(name),
                ParamDecl::Unnamed(ty) => params.push((ty.start, Vec::new(), ty)),
                ParamDecl::Named(name, ty) => {
                    let start = pending_names.first().unwrap_or(&name).span.start;
                    pending_names.push(name);
                    params.push((start, std::mem::take(&mut pending_names), ty));
                }
            }
        }

        // `...` goes only with the last name of the last parameter; names in
        // front of it would share it.
        let count = params.len();
        let mut result = Vec::new();
        for (index, (start, names, ty)) in params.into_iter().enumerate() {
            if let Some(ellipsis) = ty.ellipsis {
                if !variadic_ok {
                    return Err(self.error_at(ellipsis, "invalid use of ..."));
                }
                if index + 1 < count || names.len() > 1 {
                    return Err(self.error_at(ellipsis, "can only use ... with final parameter"));
                }
            }
            result.push(Param {
                span: Span {
                    start,
                    end: ty.ty.span().end,
                },
                names,
                variadic: ty.ellipsis.is_some(),
                ty: ty.ty,
            });
        }
        Ok(result)
    }

    /// In a parameter list with names, checks that every type has a name and
    /// that no name is left without a type at the end, with go/parser's
    /// messages and positions.
    fn check_all_named(&self, decls: &[ParamDecl]) -> Result<(), ParseError> {
        let unnamed = decls.iter().find_map(|decl| match decl {
            ParamDecl::Unnamed(ty) => Some(ty.start),
            _ => None,
        });
        if let Some(offset) = unnamed {
            return Err(self.error_at(offset, "missing parameter name"));
        }
        if let Some(ParamDecl::Bare(_)) = decls.last() {
            return Err(self.error_at(self.token.span.start, "missing parameter type"));
        }
        Ok(())
    }

    /// Parses one parameter declaration like go/parser's `parseParamDecl`.
    fn parse_param_decl(&mut self) -> Result<ParamDecl, ParseError> {
        if self.at("...") {
            self.parse_dots_type().map(ParamDecl::Unnamed)
        } else if self.token.kind == TokenKind::Ident {
            let name = self.parse_ident()?;
            self.parse_param_decl_after_name(name)
        } else if self.at_type_start() {
            self.parse_type()
                .map(|ty| ParamDecl::Unnamed(ParamType::plain(ty)))
        } else {
            Err(self.error_expected("')'"))
        }
    }

    /// Parses what follows a parameter declaration's first identifier `name`.
    fn parse_param_decl_after_name(&mut self, name: Ident) -> Result<ParamDecl, ParseError> {
        if self.at("[") {
            // `a [N]T`, `a []T`, or the instantiated type `G[T]`.
            self.parse_array_field_or_type_instance(name)
        } else if self.at("...") {
            self.parse_dots_type().map(|ty| ParamDecl::Named(name, ty))
        } else if self.at(".") {
            self.parse_qualified_param_type(name)
        } else if self.at_type_start() {
            self.parse_type()
                .map(|ty| ParamDecl::Named(name, ParamType::plain(ty)))
        } else {
            Ok(ParamDecl::Bare(name))
        }
    }

    /// Parses the unnamed parameter type `package.T`, maybe instantiated,
    /// after `package`.
    fn parse_qualified_param_type(&mut self, package: Ident) -> Result<ParamDecl, ParseError> {
        self.advance()?;
        let field = self.parse_ident()?;
        let qualified = Expr::Selector {
            span: Span {
                start: package.span.start,
                end: field.span.end,
            },
            base: Box::new(Expr::Ident(package)),
            field,
        };
        let ty = if self.at("[") {
            self.parse_type_instance(qualified)?
        } else {
            qualified
        };
        Ok(ParamDecl::Unnamed(ParamType::plain(ty)))
    }

    /// Parses `...T`.
    fn parse_dots_type(&mut self) -> Result<ParamType, ParseError> {
        let ellipsis = self.expect("...")?.start;
        Ok(ParamType {
            start: ellipsis,
            ty: self.parse_type()?,
            ellipsis: Some(ellipsis),
        })
    }

    /// After a parameter name followed by `[`, tells `name [N]T` and
    /// `name []T` from the instantiated type `name[T1, T2]`, like
    /// go/parser's `parseArrayFieldOrTypeInstance`.
    fn parse_array_field_or_type_instance(&mut self, name: Ident) -> Result<ParamDecl, ParseError> {
        let brackets = self.parse_brackets_after_name()?;
        // `name []E`, `name [N]E`, or else an instantiation.
        let is_array = match brackets.args.len() {
            0 => true,
            1 => self.at_type_start(),
            _ => false,
        };
        if is_array {
            self.parse_array_param(name, brackets)
        } else {
            let instance =
                self.instantiation(Expr::Ident(name), brackets.args, brackets.closing)?;
            Ok(ParamDecl::Unnamed(ParamType::plain(instance)))
        }
    }

    /// Parses the `[...]` after a parameter name: an array length or type
    /// arguments.
    fn parse_brackets_after_name(&mut self) -> Result<Brackets, ParseError> {
        let opening = self.expect("[")?.start;
        let mut args = Vec::new();
        let mut trailing_comma = None;
        if !self.at("]") {
            args.push(self.parse_expr()?);
            while self.at(",") {
                let comma = self.advance()?.span.start;
                if self.at("]") {
                    trailing_comma = Some(comma);
                    break;
                }
                args.push(self.parse_expr()?);
            }
        }
        let closing = self.expect("]")?;
        Ok(Brackets {
            opening,
            args,
            trailing_comma,
            closing,
        })
    }

    /// Parses the element type of the parameter `name [N]E` or `name []E`,
    /// after its `brackets`.
    fn parse_array_param(
        &mut self,
        name: Ident,
        mut brackets: Brackets,
    ) -> Result<ParamDecl, ParseError> {
        if let Some(comma) = brackets.trailing_comma {
            return Err(self.error_at(comma, "unexpected comma; expecting ]"));
        }
        let elem = self.parse_type()?;
        let ty = array_type(brackets.opening, brackets.args.pop(), elem);
        Ok(ParamDecl::Named(name, ParamType::plain(ty)))
    }
}

/// The type `[len]elem` starting at `lbrack`, or `[]elem` without a length.
fn array_type(lbrack: usize, len: Option<Expr>, elem: Expr) -> Expr {
    let span = Span {
        start: lbrack,
        end: elem.span().end,
    };
    let elem = Box::new(elem);
    match len {
        Some(len) => Expr::ArrayType {
            span,
            len: Box::new(len),
            elem,
        },
        None => Expr::SliceType { span, elem },
    }
}

/// The type of a composite literal if `{` follows `expr`, as go/parser
/// decides: a name, an instantiation, or an array, slice, struct or map
/// type, possibly parenthesized (which Go rejects).
fn composite_literal_type(expr: &Expr) -> Option<&Expr> {
    let mut ty = expr;
    while let Expr::Paren { inner, .. } = ty {
        ty = inner;
    }
    matches!(
        ty,
        Expr::Ident(_)
            | Expr::Selector { .. }
            | Expr::Index { .. }
            | Expr::IndexList { .. }
            | Expr::ArrayType { .. }
            | Expr::SliceType { .. }
            | Expr::StructType { .. }
            | Expr::MapType { .. }
    )
    .then_some(ty)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(start: usize, end: usize) -> Span {
        Span { start, end }
    }

    /// The error `src` gives, as Delve would show it.
    fn error(src: &str) -> String {
        match parse(src) {
            Ok(expr) => panic!("{src:?} parsed as {expr:?}"),
            Err(error) => error.to_string(),
        }
    }

    #[test]
    fn quoted_package_path_is_a_selector_on_a_string() {
        let expected = Expr::Selector {
            span: span(0, 20),
            base: Box::new(Expr::String {
                span: span(0, 16),
                raw: r#""github.com/x/y""#.to_string(),
                value: b"github.com/x/y".to_vec(),
            }),
            field: Ident {
                name: "Var".to_string(),
                span: span(17, 20),
            },
        };
        assert_eq!(parse(r#""github.com/x/y".Var"#), Ok(expected));
    }

    #[test]
    fn quoted_type_name_in_a_cast_is_a_pointer_to_a_string() {
        let pointer_type = Expr::Star {
            span: span(2, 11),
            operand: Box::new(Expr::String {
                span: span(3, 11),
                raw: r#""main.T""#.to_string(),
                value: b"main.T".to_vec(),
            }),
        };
        let cast = Expr::Call {
            span: span(1, 20),
            func: Box::new(Expr::Paren {
                span: span(1, 12),
                inner: Box::new(pointer_type),
            }),
            args: vec![Expr::Int {
                span: span(13, 19),
                raw: "0x1234".to_string(),
                value: Some(0x1234),
            }],
            has_ellipsis: false,
        };
        let expected = Expr::Star {
            span: span(0, 20),
            operand: Box::new(cast),
        };
        assert_eq!(parse(r#"*(*"main.T")(0x1234)"#), Ok(expected));
    }

    #[test]
    fn assignment_fails_where_delve_looks_for_it() {
        // Delve's `set` and `call` split `a = b` at the offset of this error.
        let error = parse("a.b[1] = 2").expect_err("an assignment is no expression");
        assert_eq!(error.offset, 7);
        assert_eq!(error.message, "expected '==', found '='");
    }

    #[test]
    fn unsupported_forms_are_errors() {
        let cases = [
            ("x.(type)", "1:4: use of .(type) outside type switch"),
            (
                "[...]int{1}",
                "1:2: invalid use of [...] array (outside a composite literal)",
            ),
            ("T{1, 2}", "1:2: composite literals are not supported"),
            (
                "map[string]int{}",
                "1:15: composite literals are not supported",
            ),
            ("func() {}", "1:8: function literals are not supported"),
            (
                "struct{a int}",
                "1:8: struct types with fields are not supported",
            ),
            (
                "interface{ M() }",
                "1:12: interface types with methods or embedded types are not supported",
            ),
        ];
        for (src, expected) in cases {
            assert_eq!(error(src), expected, "{src}");
        }
    }

    #[test]
    fn nesting_parses_up_to_the_limit_and_fails_beyond_it() {
        // Each shape is `prefix * n + middle + suffix * n`. The deepest
        // nesting that parses runs on a test thread's stack (2 MB), in a
        // debug build.
        let shapes = [
            ("(", "x", ")"),
            ("!", "x", ""),
            ("*", "p", ""),
            ("<-", "ch", ""),
            ("", "a", ".b"),
            ("", "a", "+a"),
            ("f(", "x", ")"),
            ("a[1:", "x", "]"),
            ("(*", "x", ")"),
            ("[]", "int", ""),
            ("[]*", "int", ""),
            ("chan ", "int", ""),
            ("map[", "int", "]int"),
            ("G[", "int", "]"),
            ("func(", "int", ")"),
            ("func() (", "int", ")"),
            ("func(a []", "int", ")"),
            ("func(a [", "1", "]int)"),
        ];
        for (prefix, middle, suffix) in shapes {
            let nested = |n: usize| format!("{}{middle}{}", prefix.repeat(n), suffix.repeat(n));
            let deepest = (1..=MAX_NESTING)
                .take_while(|&n| parse(&nested(n)).is_ok())
                .last()
                .unwrap_or(0);
            assert!(
                deepest >= 30,
                "{prefix}{middle}{suffix}: only {deepest} levels"
            );
            for n in [deepest + 1, 100_000] {
                let message = error(&nested(n));
                assert!(
                    message.ends_with("exceeded max nesting depth"),
                    "{prefix}{middle}{suffix} * {n}: {message}"
                );
            }
        }
    }
}
