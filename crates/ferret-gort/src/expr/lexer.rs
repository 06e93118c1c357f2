//! Splits an expression into Go tokens the way go/scanner does, automatic
//! semicolons and error messages included, so that the parser can report
//! what go/parser reports.

use super::{ParseError, Span};

/// What a token is. Literals carry their value; the text of every token is
/// the source at its span.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum TokenKind {
    /// A name that is not a keyword.
    Ident,
    /// A Go keyword such as `func` or `if`.
    Keyword(&'static str),
    /// An operator or delimiter such as `+`, `<-` or `(`.
    Operator(&'static str),
    /// An integer literal, with its value if it fits in 128 bits.
    Int(Option<u128>),
    /// A floating-point literal.
    Float(f64),
    /// An imaginary literal, with its imaginary part.
    Imaginary(f64),
    /// A rune literal.
    Char(char),
    /// A string literal, interpreted or raw, with the bytes it denotes.
    String(Vec<u8>),
    /// A `;` as written, or one Go inserts at a newline or at the end.
    Semicolon {
        /// Inserted at a newline or at the end rather than written.
        inserted: bool,
    },
    /// The end of the text.
    Eof,
}

/// One token and where it is.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Token {
    /// What the token is.
    pub(super) kind: TokenKind,
    /// Where it is.
    pub(super) span: Span,
}

/// Go's keywords: none of them can be a name.
const KEYWORDS: &[&str] = &[
    "break",
    "case",
    "chan",
    "const",
    "continue",
    "default",
    "defer",
    "else",
    "fallthrough",
    "for",
    "func",
    "go",
    "goto",
    "if",
    "import",
    "interface",
    "map",
    "package",
    "range",
    "return",
    "select",
    "struct",
    "switch",
    "type",
    "var",
];

/// Go's operators and delimiters but `;`, longest first so that the first
/// match is the longest one.
const OPERATORS: &[&str] = &[
    "<<=", ">>=", "&^=", "...", "&&", "||", "<-", "++", "--", "==", "!=", "<=", ">=", ":=", "+=",
    "-=", "*=", "/=", "%=", "&=", "|=", "^=", "<<", ">>", "&^", "+", "-", "*", "/", "%", "&", "|",
    "^", "<", ">", "=", "!", "~", "(", ")", "[", "]", "{", "}", ",", ".", ":",
];

/// The byte order mark, ignored at the very start and illegal elsewhere.
const BYTE_ORDER_MARK: char = '\u{feff}';

/// The prefix of an integer literal, which sets its base.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NumberPrefix {
    /// No prefix: decimal.
    None,
    /// A leading `0` alone: octal, the old way.
    LegacyOctal,
    /// `0x`.
    Hex,
    /// `0o`.
    Octal,
    /// `0b`.
    Binary,
}

impl NumberPrefix {
    /// The base of the digits after the prefix.
    fn base(self) -> u32 {
        match self {
            NumberPrefix::None => 10,
            NumberPrefix::LegacyOctal | NumberPrefix::Octal => 8,
            NumberPrefix::Hex => 16,
            NumberPrefix::Binary => 2,
        }
    }

    /// How go/scanner names a literal with this prefix in its errors.
    fn literal_name(self) -> &'static str {
        match self {
            NumberPrefix::None => "decimal literal",
            NumberPrefix::LegacyOctal | NumberPrefix::Octal => "octal literal",
            NumberPrefix::Hex => "hexadecimal literal",
            NumberPrefix::Binary => "binary literal",
        }
    }
}

/// What an escape sequence denotes: one byte (`\x41`, `\101`, `\n`) or a
/// code point to encode as UTF-8 (`\u00e9`).
enum Escaped {
    /// A byte, from a one-character, octal or `\x` escape.
    Byte(u8),
    /// A code point, from a `\u` or `\U` escape.
    Char(char),
}

/// Turns the text into tokens, one at a time, on demand of the parser.
pub(super) struct Lexer<'src> {
    /// The whole text.
    src: &'src str,
    /// Where the next character is.
    offset: usize,
    /// The last token can end a statement, so a newline or the end of the
    /// text is a semicolon.
    insert_semicolon: bool,
    /// Errors found in the token being scanned. go/scanner keeps scanning a
    /// bad literal and go/parser reports the error that comes first in the
    /// text, so every error of the token is kept until it ends.
    errors: Vec<(usize, String)>,
}

impl<'src> Lexer<'src> {
    /// A lexer at the start of `src`, past a byte order mark if there is one.
    pub(super) fn new(src: &'src str) -> Lexer<'src> {
        let offset = if src.starts_with(BYTE_ORDER_MARK) {
            BYTE_ORDER_MARK.len_utf8()
        } else {
            0
        };
        Lexer {
            src,
            offset,
            insert_semicolon: false,
            errors: Vec::new(),
        }
    }

    /// Scans the next token, skipping whitespace and comments.
    pub(super) fn next_token(&mut self) -> Result<Token, ParseError> {
        loop {
            self.skip_whitespace();
            let start = self.offset;
            let Some(ch) = self.peek() else {
                let kind = if std::mem::take(&mut self.insert_semicolon) {
                    TokenKind::Semicolon { inserted: true }
                } else {
                    TokenKind::Eof
                };
                return Ok(self.token(kind, start));
            };
            if ch == '\n' {
                // Whitespace stops at a newline only where it ends a statement.
                self.offset += 1;
                self.insert_semicolon = false;
                return Ok(self.token(TokenKind::Semicolon { inserted: true }, start));
            }
            if ch == '/' && matches!(self.peek_second(), Some('/' | '*')) {
                let newline = self.skip_comment(start);
                self.fail_on_errors()?;
                if let Some(newline) = newline.filter(|_| self.insert_semicolon) {
                    self.insert_semicolon = false;
                    return Ok(Token {
                        kind: TokenKind::Semicolon { inserted: true },
                        span: Span {
                            start: newline,
                            end: newline + 1,
                        },
                    });
                }
                continue;
            }
            let (kind, insert_semicolon) = if is_letter(ch) {
                self.scan_word(start)
            } else if ch.is_ascii_digit()
                || ch == '.' && self.peek_second().is_some_and(|next| next.is_ascii_digit())
            {
                (self.scan_number(start)?, true)
            } else {
                match ch {
                    '"' => (self.scan_string(start)?, true),
                    '\'' => (self.scan_rune(start)?, true),
                    '`' => (self.scan_raw_string(start)?, true),
                    ';' => {
                        self.offset += 1;
                        (TokenKind::Semicolon { inserted: false }, false)
                    }
                    _ => self.scan_operator(start, ch)?,
                }
            };
            self.insert_semicolon = insert_semicolon;
            return Ok(self.token(kind, start));
        }
    }

    /// A token of `kind` from `start` to the current offset.
    fn token(&self, kind: TokenKind, start: usize) -> Token {
        Token {
            kind,
            span: Span {
                start,
                end: self.offset,
            },
        }
    }

    /// The character at the current offset, if any.
    fn peek(&self) -> Option<char> {
        self.src.get(self.offset..)?.chars().next()
    }

    /// The character after the current one, if any.
    fn peek_second(&self) -> Option<char> {
        self.src.get(self.offset..)?.chars().nth(1)
    }

    /// Moves past the current character, complaining like go/scanner about
    /// a NUL or a byte order mark: they are illegal even inside literals.
    fn bump(&mut self) {
        let Some(ch) = self.peek() else {
            return;
        };
        match ch {
            '\0' => self.record(self.offset, "illegal character NUL"),
            BYTE_ORDER_MARK => self.record(self.offset, "illegal byte order mark"),
            _ => {}
        }
        self.offset += ch.len_utf8();
    }

    /// Notes an error in the token being scanned.
    fn record(&mut self, offset: usize, message: impl Into<String>) {
        self.errors.push((offset, message.into()));
    }

    /// Fails with the token's first error, if it has any. Errors are ordered
    /// by offset then text, as go/parser sorts them.
    fn fail_on_errors(&mut self) -> Result<(), ParseError> {
        match self.errors.drain(..).min() {
            Some((offset, message)) => Err(ParseError::new(self.src, offset, message)),
            None => Ok(()),
        }
    }

    /// Skips spaces, tabs, carriage returns, and newlines that do not end a
    /// statement.
    fn skip_whitespace(&mut self) {
        while let Some(ch) = self.peek() {
            if ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' && !self.insert_semicolon {
                self.offset += 1;
            } else {
                break;
            }
        }
    }

    /// Skips the comment at `start` (`//` or `/*`). Returns the offset of the
    /// first newline inside a `/*...*/` comment: such a comment ends a line.
    fn skip_comment(&mut self, start: usize) -> Option<usize> {
        self.offset += 1;
        if self.peek() == Some('/') {
            // The newline is not part of the comment.
            while self.peek().is_some_and(|ch| ch != '\n') {
                self.bump();
            }
            return None;
        }
        self.offset += 1;
        let mut first_newline = None;
        loop {
            match self.peek() {
                None => {
                    self.record(start, "comment not terminated");
                    return first_newline;
                }
                Some('*') if self.peek_second() == Some('/') => {
                    self.offset += 2;
                    return first_newline;
                }
                Some(ch) => {
                    if ch == '\n' && first_newline.is_none() {
                        first_newline = Some(self.offset);
                    }
                    self.bump();
                }
            }
        }
    }

    /// Scans an identifier or a keyword. Returns its kind and whether it can
    /// end a statement.
    fn scan_word(&mut self, start: usize) -> (TokenKind, bool) {
        while let Some(ch) = self.peek().filter(|&ch| is_letter(ch) || is_digit(ch)) {
            self.offset += ch.len_utf8();
        }
        let word = &self.src[start..self.offset];
        match KEYWORDS.iter().find(|keyword| **keyword == word) {
            Some(keyword) => (
                TokenKind::Keyword(keyword),
                matches!(*keyword, "break" | "continue" | "fallthrough" | "return"),
            ),
            None => (TokenKind::Ident, true),
        }
    }

    /// Scans an operator, or fails on a character that starts no token.
    /// Returns its kind and whether it can end a statement.
    fn scan_operator(&mut self, start: usize, ch: char) -> Result<(TokenKind, bool), ParseError> {
        let rest = &self.src[start..];
        let Some(operator) = OPERATORS
            .iter()
            .find(|operator| rest.starts_with(**operator))
        else {
            let message = match ch {
                // go/scanner reports the NUL as it reads it, then as an
                // illegal character; the first message sorts first.
                '\0' => "illegal character NUL".to_string(),
                BYTE_ORDER_MARK => "illegal byte order mark".to_string(),
                '“' | '”' => format!("curly quotation mark '{ch}' (use neutral '\"')"),
                _ => format!("illegal character {}", describe_char(ch)),
            };
            return Err(ParseError::new(self.src, start, message));
        };
        self.offset += operator.len();
        let ends_statement = matches!(*operator, ")" | "]" | "}" | "++" | "--");
        Ok((TokenKind::Operator(operator), ends_statement))
    }

    /// Accepts digits of `base` and `_` separators, like go/scanner's
    /// `digits`. Below base 16 it accepts any decimal digit but notes the
    /// offset of the first one too large for the base in `invalid_digit`.
    /// Returns whether it saw a digit and whether it saw a separator.
    fn scan_digits(&mut self, base: u32, invalid_digit: &mut Option<usize>) -> (bool, bool) {
        let mut saw_digit = false;
        let mut saw_separator = false;
        while let Some(ch) = self.peek() {
            if ch == '_' {
                saw_separator = true;
            } else if base == 16 && ch.is_ascii_hexdigit() || base < 16 && ch.is_ascii_digit() {
                saw_digit = true;
                if ch.to_digit(10).is_some_and(|digit| digit >= base) && invalid_digit.is_none() {
                    *invalid_digit = Some(self.offset);
                }
            } else {
                break;
            }
            self.offset += 1;
        }
        (saw_digit, saw_separator)
    }

    /// Scans a number literal, checking it as go/scanner's `scanNumber` does.
    fn scan_number(&mut self, start: usize) -> Result<TokenKind, ParseError> {
        let mut prefix = NumberPrefix::None;
        let mut saw_digit = false;
        let mut saw_separator = false;
        let mut invalid_digit = None;
        let mut is_float = false;

        if self.peek() != Some('.') {
            if self.peek() == Some('0') {
                self.offset += 1;
                prefix = match self.peek().map(|ch| ch.to_ascii_lowercase()) {
                    Some('x') => NumberPrefix::Hex,
                    Some('o') => NumberPrefix::Octal,
                    Some('b') => NumberPrefix::Binary,
                    _ => NumberPrefix::LegacyOctal,
                };
                if prefix == NumberPrefix::LegacyOctal {
                    saw_digit = true; // the leading 0
                } else {
                    self.offset += 1;
                }
            }
            let (digits, separators) = self.scan_digits(prefix.base(), &mut invalid_digit);
            saw_digit |= digits;
            saw_separator |= separators;
        }

        if self.peek() == Some('.') {
            is_float = true;
            if matches!(prefix, NumberPrefix::Octal | NumberPrefix::Binary) {
                let message = format!("invalid radix point in {}", prefix.literal_name());
                self.record(self.offset, message);
            }
            self.offset += 1;
            let (digits, separators) = self.scan_digits(prefix.base(), &mut invalid_digit);
            saw_digit |= digits;
            saw_separator |= separators;
        }

        if !saw_digit {
            let message = format!("{} has no digits", prefix.literal_name());
            self.record(self.offset, message);
        }

        match self.peek() {
            Some(letter @ ('e' | 'E' | 'p' | 'P')) => {
                let decimal_mantissa =
                    matches!(prefix, NumberPrefix::None | NumberPrefix::LegacyOctal);
                if matches!(letter, 'e' | 'E') && !decimal_mantissa {
                    let message = format!("'{letter}' exponent requires decimal mantissa");
                    self.record(self.offset, message);
                }
                if matches!(letter, 'p' | 'P') && prefix != NumberPrefix::Hex {
                    let message = format!("'{letter}' exponent requires hexadecimal mantissa");
                    self.record(self.offset, message);
                }
                self.offset += 1;
                is_float = true;
                if matches!(self.peek(), Some('+' | '-')) {
                    self.offset += 1;
                }
                let (digits, separators) = self.scan_digits(10, &mut None);
                saw_separator |= separators;
                if !digits {
                    self.record(self.offset, "exponent has no digits");
                }
            }
            _ => {
                if prefix == NumberPrefix::Hex && is_float {
                    self.record(self.offset, "hexadecimal mantissa requires a 'p' exponent");
                }
            }
        }

        let is_imaginary = self.peek() == Some('i');
        if is_imaginary {
            self.offset += 1;
        }

        let literal = &self.src[start..self.offset];
        if let Some(offset) = invalid_digit.filter(|_| !is_float && !is_imaginary) {
            let digit = self.src[offset..].chars().next().unwrap_or('?');
            let message = format!("invalid digit '{digit}' in {}", prefix.literal_name());
            self.record(offset, message);
        }
        if saw_separator {
            if let Some(index) = misplaced_separator(literal) {
                self.record(start + index, "'_' must separate successive digits");
            }
        }
        self.fail_on_errors()?;

        if !is_float && !is_imaginary {
            return Ok(TokenKind::Int(int_value(literal, prefix)));
        }
        let mantissa = literal.strip_suffix('i').unwrap_or(literal);
        let value = match (is_float, prefix) {
            (true, NumberPrefix::Hex) => hex_float_value(mantissa.get(2..).unwrap_or_default()),
            // An imaginary literal's integer part is decimal even with a
            // leading 0, for backward compatibility.
            (true, _) | (false, NumberPrefix::None | NumberPrefix::LegacyOctal) => {
                decimal_float_value(mantissa).ok_or_else(|| {
                    ParseError::new(self.src, start, "invalid floating-point literal")
                })?
            }
            (false, _) => prefixed_int_as_float(mantissa, prefix),
        };
        Ok(if is_imaginary {
            TokenKind::Imaginary(value)
        } else {
            TokenKind::Float(value)
        })
    }

    /// Scans an escape sequence after its `\`, like go/scanner's
    /// `scanEscape`. On error it records it and stops at the offending
    /// character, leaving it to the literal's loop.
    fn scan_escape(&mut self, quote: char) -> Option<Escaped> {
        let start = self.offset;
        // Octal digits and `\x` give a byte, `\u` and `\U` a code point.
        let (digit_count, base, gives_byte) = match self.peek() {
            Some(ch @ ('a' | 'b' | 'f' | 'n' | 'r' | 't' | 'v' | '\\')) => {
                self.bump();
                let byte = match ch {
                    'a' => 0x07,
                    'b' => 0x08,
                    'f' => 0x0c,
                    'n' => b'\n',
                    'r' => b'\r',
                    't' => b'\t',
                    'v' => 0x0b,
                    _ => b'\\',
                };
                return Some(Escaped::Byte(byte));
            }
            Some(ch) if ch == quote => {
                self.bump();
                return Some(Escaped::Char(ch));
            }
            Some('0'..='7') => (3, 8, true),
            Some(letter @ ('x' | 'u' | 'U')) => {
                self.bump();
                match letter {
                    'x' => (2, 16, true),
                    'u' => (4, 16, false),
                    _ => (8, 16, false),
                }
            }
            Some(_) => {
                self.record(start, "unknown escape sequence");
                return None;
            }
            None => {
                self.record(start, "escape sequence not terminated");
                return None;
            }
        };
        let mut value: u32 = 0;
        for _ in 0..digit_count {
            let ch = self.peek();
            let Some(digit) = ch.and_then(|ch| ch.to_digit(base)) else {
                let message = match ch {
                    Some(ch) => {
                        format!("illegal character {} in escape sequence", describe_char(ch))
                    }
                    None => "escape sequence not terminated".to_string(),
                };
                self.record(self.offset, message);
                return None;
            };
            value = value * base + digit;
            self.bump();
        }
        let escaped = if gives_byte {
            u8::try_from(value).ok().map(Escaped::Byte)
        } else {
            char::from_u32(value).map(Escaped::Char)
        };
        if escaped.is_none() {
            self.record(start, "escape sequence is invalid Unicode code point");
        }
        escaped
    }

    /// Scans a rune literal like go/scanner's `scanRune`.
    fn scan_rune(&mut self, start: usize) -> Result<TokenKind, ParseError> {
        self.offset += 1;
        let mut valid = true;
        let mut count = 0;
        let mut value = '\0';
        loop {
            let Some(ch) = self.peek().filter(|&ch| ch != '\n') else {
                if valid {
                    self.record(start, "rune literal not terminated");
                    valid = false;
                }
                break;
            };
            self.bump();
            if ch == '\'' {
                break;
            }
            count += 1;
            if ch == '\\' {
                match self.scan_escape('\'') {
                    Some(Escaped::Byte(byte)) => value = char::from(byte),
                    Some(Escaped::Char(escaped)) => value = escaped,
                    None => valid = false,
                }
            } else {
                value = ch;
            }
        }
        if valid && count != 1 {
            self.record(start, "illegal rune literal");
        }
        self.fail_on_errors()?;
        Ok(TokenKind::Char(value))
    }

    /// Scans an interpreted string literal like go/scanner's `scanString`.
    fn scan_string(&mut self, start: usize) -> Result<TokenKind, ParseError> {
        self.offset += 1;
        let mut value = Vec::new();
        loop {
            let Some(ch) = self.peek().filter(|&ch| ch != '\n') else {
                self.record(start, "string literal not terminated");
                break;
            };
            self.bump();
            match ch {
                '"' => break,
                '\\' => match self.scan_escape('"') {
                    Some(Escaped::Byte(byte)) => value.push(byte),
                    Some(Escaped::Char(escaped)) => push_utf8(&mut value, escaped),
                    None => {}
                },
                _ => push_utf8(&mut value, ch),
            }
        }
        self.fail_on_errors()?;
        Ok(TokenKind::String(value))
    }

    /// Scans a raw string literal; its value drops carriage returns, as Go's
    /// does.
    fn scan_raw_string(&mut self, start: usize) -> Result<TokenKind, ParseError> {
        self.offset += 1;
        let mut value = Vec::new();
        loop {
            let Some(ch) = self.peek() else {
                self.record(start, "raw string literal not terminated");
                break;
            };
            self.bump();
            match ch {
                '`' => break,
                '\r' => {}
                _ => push_utf8(&mut value, ch),
            }
        }
        self.fail_on_errors()?;
        Ok(TokenKind::String(value))
    }
}

/// Whether `ch` can start an identifier. Go takes Unicode category L; std's
/// Alphabetic property is a little wider (it has letter numbers such as
/// `Ⅻ`), which only matters for names no Go program can declare.
fn is_letter(ch: char) -> bool {
    ch == '_' || ch.is_ascii_alphabetic() || !ch.is_ascii() && ch.is_alphabetic()
}

/// Whether `ch` is a digit inside an identifier. Go takes Unicode category
/// Nd; std's Numeric property also has other numbers such as `²`.
fn is_digit(ch: char) -> bool {
    ch.is_ascii_digit() || !ch.is_ascii() && ch.is_numeric()
}

/// Describes a character as Go's `%#U` does: `U+0024 '$'`, or `U+200B` when
/// it does not print.
fn describe_char(ch: char) -> String {
    if is_printable(ch) {
        format!("U+{:04X} '{ch}'", u32::from(ch))
    } else {
        format!("U+{:04X}", u32::from(ch))
    }
}

/// Approximates Go's `strconv.IsPrint` (letters, marks, numbers,
/// punctuation, symbols and the ASCII space) with what std knows: not a
/// control, not white space, and not one of the common format or
/// private-use characters.
pub fn is_printable(ch: char) -> bool {
    let format_or_private = matches!(
        ch,
        '\u{ad}'
            | '\u{200b}'..='\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2060}'..='\u{206f}'
            | '\u{feff}'
            | '\u{fff9}'..='\u{fffb}'
            | '\u{e000}'..='\u{f8ff}'
            | '\u{f0000}'..
    );
    ch == ' ' || !(ch.is_control() || ch.is_whitespace() || format_or_private)
}

/// Appends `ch` encoded as UTF-8.
fn push_utf8(bytes: &mut Vec<u8>, ch: char) {
    let mut buffer = [0; 4];
    bytes.extend_from_slice(ch.encode_utf8(&mut buffer).as_bytes());
}

/// The index of the first `_` in a number literal that does not separate
/// two digits (or the prefix and a digit), like go/scanner's `invalidSep`.
fn misplaced_separator(literal: &str) -> Option<usize> {
    /// What the previous character was.
    #[derive(Clone, Copy, PartialEq, Eq)]
    enum Previous {
        Digit,
        Separator,
        Other,
    }
    let bytes = literal.as_bytes();
    let mut is_hex = false;
    let mut previous = Previous::Other;
    let mut index = 0;
    if bytes.len() >= 2 && bytes[0] == b'0' {
        let prefix = bytes[1].to_ascii_lowercase();
        if matches!(prefix, b'x' | b'o' | b'b') {
            is_hex = prefix == b'x';
            previous = Previous::Digit; // the prefix counts as a digit
            index = 2;
        }
    }
    while index < bytes.len() {
        let byte = bytes[index];
        if byte == b'_' {
            if previous != Previous::Digit {
                return Some(index);
            }
            previous = Previous::Separator;
        } else if byte.is_ascii_digit() || is_hex && byte.is_ascii_hexdigit() {
            previous = Previous::Digit;
        } else {
            if previous == Previous::Separator {
                return Some(index - 1);
            }
            previous = Previous::Other;
        }
        index += 1;
    }
    (previous == Previous::Separator).then(|| bytes.len() - 1)
}

/// The value of a valid integer literal, or `None` past 128 bits.
fn int_value(literal: &str, prefix: NumberPrefix) -> Option<u128> {
    let digits = match prefix {
        NumberPrefix::None | NumberPrefix::LegacyOctal => literal,
        NumberPrefix::Hex | NumberPrefix::Octal | NumberPrefix::Binary => literal.get(2..)?,
    };
    let base = prefix.base();
    digits
        .chars()
        .filter(|&ch| ch != '_')
        .try_fold(0u128, |value, ch| {
            let digit = ch.to_digit(base)?;
            value
                .checked_mul(u128::from(base))?
                .checked_add(u128::from(digit))
        })
}

/// The nearest `f64` to a valid decimal floating-point literal. std's
/// grammar takes every Go decimal literal once the separators are gone.
fn decimal_float_value(literal: &str) -> Option<f64> {
    literal.replace('_', "").parse().ok()
}

/// The value of a hexadecimal floating-point literal such as `1.8p1`, given
/// after its `0x`. Exact for mantissas of up to 53 significant bits.
fn hex_float_value(literal: &str) -> f64 {
    let (mantissa, exponent) = literal.split_once(['p', 'P']).unwrap_or((literal, "0"));
    let mut value = 0f64;
    let mut binary_exponent: i64 = 0;
    let mut after_point = false;
    for ch in mantissa.chars() {
        if ch == '.' {
            after_point = true;
        } else if let Some(digit) = ch.to_digit(16) {
            value = value * 16.0 + f64::from(digit);
            if after_point {
                binary_exponent -= 4;
            }
        }
    }
    let (negative, magnitude) = match exponent.strip_prefix('-') {
        Some(magnitude) => (true, magnitude),
        None => (false, exponent.strip_prefix('+').unwrap_or(exponent)),
    };
    let magnitude = magnitude
        .chars()
        .filter_map(|ch| ch.to_digit(10))
        .fold(0i64, |acc, digit| {
            acc.saturating_mul(10).saturating_add(i64::from(digit))
        });
    binary_exponent = binary_exponent.saturating_add(if negative { -magnitude } else { magnitude });
    if value == 0.0 {
        return 0.0;
    }
    // Past ±2200 every product overflows or underflows; two steps keep each
    // factor a finite power of two.
    let exponent = binary_exponent.clamp(-2200, 2200) as i32;
    value * 2f64.powi(exponent / 2) * 2f64.powi(exponent - exponent / 2)
}

/// The value of an integer literal with a `0x`, `0o` or `0b` prefix, as the
/// nearest `f64`: the imaginary part of a literal such as `0x10i`.
fn prefixed_int_as_float(literal: &str, prefix: NumberPrefix) -> f64 {
    let base = prefix.base();
    literal
        .get(2..)
        .unwrap_or_default()
        .chars()
        .filter_map(|ch| ch.to_digit(base))
        .fold(0f64, |value, digit| {
            value * f64::from(base) + f64::from(digit)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every token of `src` but the end, or the first error as text.
    fn tokens(src: &str) -> Result<Vec<TokenKind>, String> {
        let mut lexer = Lexer::new(src);
        let mut kinds = Vec::new();
        loop {
            let token = lexer.next_token().map_err(|error| error.to_string())?;
            if token.kind == TokenKind::Eof {
                return Ok(kinds);
            }
            kinds.push(token.kind);
        }
    }

    /// The one literal token of `src` (an inserted semicolon follows it).
    fn literal(src: &str) -> TokenKind {
        let kinds = tokens(src).unwrap_or_else(|error| panic!("{src}: {error}"));
        assert_eq!(
            kinds.get(1),
            Some(&TokenKind::Semicolon { inserted: true }),
            "{src}"
        );
        kinds[0].clone()
    }

    #[test]
    fn integer_values() {
        let cases: &[(&str, Option<u128>)] = &[
            ("0", Some(0)),
            ("42", Some(42)),
            ("1_000_000", Some(1_000_000)),
            ("0x1F", Some(0x1f)),
            ("0XdeadBEEF", Some(0xdead_beef)),
            ("0o17", Some(0o17)),
            ("017", Some(0o17)),
            ("0b1010", Some(10)),
            ("0x_1", Some(1)),
            ("340282366920938463463374607431768211455", Some(u128::MAX)),
            ("340282366920938463463374607431768211456", None),
            ("0x1_0000_0000_0000_0000_0000_0000_0000_0000", None),
        ];
        for (src, value) in cases {
            assert_eq!(literal(src), TokenKind::Int(*value), "{src}");
        }
    }

    #[test]
    fn float_and_imaginary_values() {
        let floats: &[(&str, f64)] = &[
            ("1.5", 1.5),
            ("1.", 1.0),
            (".5", 0.5),
            ("1e3", 1000.0),
            ("1_0.2_5", 10.25),
            ("0123.5", 123.5),
            ("0x1p-2", 0.25),
            ("0x1.8p1", 3.0),
            ("0X.8P0", 0.5),
            ("0x1p-1074", 5e-324),
            ("0x1p1024", f64::INFINITY),
            ("1e400", f64::INFINITY),
        ];
        for (src, value) in floats {
            assert_eq!(literal(src), TokenKind::Float(*value), "{src}");
        }
        let imaginaries: &[(&str, f64)] = &[
            ("1i", 1.0),
            ("0123i", 123.0),
            ("0x10i", 16.0),
            ("0b11i", 3.0),
            ("0o7i", 7.0),
            ("1.5e1i", 15.0),
            ("0x1p2i", 4.0),
        ];
        for (src, value) in imaginaries {
            assert_eq!(literal(src), TokenKind::Imaginary(*value), "{src}");
        }
    }

    #[test]
    fn rune_and_string_values() {
        let runes: &[(&str, char)] = &[
            ("'a'", 'a'),
            ("'\\n'", '\n'),
            ("'\\x41'", 'A'),
            ("'\\377'", '\u{ff}'),
            ("'\\u00e9'", 'é'),
            ("'\\U0001F600'", '😀'),
            ("'\\''", '\''),
            ("'日'", '日'),
        ];
        for (src, value) in runes {
            assert_eq!(literal(src), TokenKind::Char(*value), "{src}");
        }
        let strings: &[(&str, &[u8])] = &[
            ("\"\"", b""),
            ("\"a\\tb\"", b"a\tb"),
            ("\"\\xff\\101\"", b"\xffA"),
            ("\"\\u00e9\"", "é".as_bytes()),
            ("\"\\\"\"", b"\""),
            ("`a\\n\r\nb`", b"a\\n\nb"),
        ];
        for (src, value) in strings {
            assert_eq!(literal(src), TokenKind::String(value.to_vec()), "{src}");
        }
    }

    #[test]
    fn semicolons_are_inserted_where_go_inserts_them() {
        let inserted = TokenKind::Semicolon { inserted: true };
        assert_eq!(
            tokens("a\n+b"),
            Ok(vec![
                TokenKind::Ident,
                inserted.clone(),
                TokenKind::Operator("+"),
                TokenKind::Ident,
                inserted.clone(),
            ])
        );
        assert_eq!(
            tokens("a +\n b /* x\n y */"),
            Ok(vec![
                TokenKind::Ident,
                TokenKind::Operator("+"),
                TokenKind::Ident,
                inserted.clone(),
            ])
        );
        assert_eq!(
            tokens("f(\n)"),
            Ok(vec![
                TokenKind::Ident,
                TokenKind::Operator("("),
                TokenKind::Operator(")"),
                inserted,
            ])
        );
    }

    #[test]
    fn errors_come_first_in_the_text_like_go_sorts_them() {
        // The separators are checked after the exponent but are further left.
        assert_eq!(
            tokens("1__0e"),
            Err("1:3: '_' must separate successive digits".to_string())
        );
        // The escape error comes first in time, the unterminated string first
        // in the text.
        assert_eq!(
            tokens("\"\\q"),
            Err("1:1: string literal not terminated".to_string())
        );
        assert_eq!(
            tokens("\u{feff}a\u{feff}"),
            Err("1:5: illegal byte order mark".to_string())
        );
    }
}
