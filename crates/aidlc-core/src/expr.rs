//! A small expression language for baseline rules (and later data slices and gates).
//!
//! Grammar, loosest binding first:
//!
//! ```text
//! expr    := or
//! or      := and ("or" and)*
//! and     := not ("and" not)*
//! not     := "not" not | compare
//! compare := sum [ ("<" | "<=" | ">" | ">=" | "==" | "!=") sum
//!                | ["not"] "in" "(" expr ("," expr)* [","] ")" ]
//! sum     := product (("+" | "-") product)*
//! product := unary (("*" | "/") unary)*
//! unary   := "-" unary | atom
//! atom    := number | string | "true" | "false" | "null" | column | "(" expr ")"
//! ```
//!
//! A column is a bare identifier (`visibility`) or a back-quoted name (`` `dew point` ``).
//! Strings use double or single quotes. Comparisons do not chain: `a < b < c` is an error,
//! because its meaning in most languages that allow it surprises someone.
//!
//! Evaluation follows SQL's three-valued logic for missing values: arithmetic and ordering with
//! `null` give `null`, `false and null` is `false`, `true or null` is `true`. Equality is
//! structural, so `x == null` asks whether a value is missing.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// How deep parentheses and prefix operators may nest. The parser is recursive, so a bound keeps
/// a hostile rule such as ten thousand `(` from overflowing the stack.
const MAX_DEPTH: usize = 200;

/// How many tokens an expression may have. Long `a + b + c ...` chains build deep trees
/// without deep parsing, and printing or evaluating such a tree recurses once per operator.
const MAX_TOKENS: usize = 2_000;

/// A value an expression reads from a row or computes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    /// Every number is a 64-bit float, as in the data layer's numeric columns.
    Number(f64),
    /// Text.
    Str(String),
    /// A boolean, from a comparison or a boolean column.
    Bool(bool),
    /// A missing value.
    Null,
}

impl Value {
    /// The name of the value's type, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Number(_) => "number",
            Value::Str(_) => "string",
            Value::Bool(_) => "boolean",
            Value::Null => "null",
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Number(n) => write!(f, "{n}"),
            Value::Str(s) => write_quoted(f, s, '"'),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Null => f.write_str("null"),
        }
    }
}

/// A binary operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum BinaryOp {
    /// `or`
    Or,
    /// `and`
    And,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
}

impl BinaryOp {
    /// The operator as written in an expression.
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Or => "or",
            BinaryOp::And => "and",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
        }
    }

    fn precedence(self) -> u8 {
        match self {
            BinaryOp::Or => PREC_OR,
            BinaryOp::And => PREC_AND,
            BinaryOp::Lt
            | BinaryOp::Le
            | BinaryOp::Gt
            | BinaryOp::Ge
            | BinaryOp::Eq
            | BinaryOp::Ne => PREC_COMPARE,
            BinaryOp::Add | BinaryOp::Sub => PREC_SUM,
            BinaryOp::Mul | BinaryOp::Div => PREC_PRODUCT,
        }
    }
}

/// A prefix operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum UnaryOp {
    /// Logical `not`.
    Not,
    /// Arithmetic negation, `-x`.
    Neg,
}

// Binding strength of each grammar level; the printer uses them to place the fewest parentheses
// that still read back as the same tree.
const PREC_OR: u8 = 1;
const PREC_AND: u8 = 2;
const PREC_NOT: u8 = 3;
const PREC_COMPARE: u8 = 4;
const PREC_SUM: u8 = 5;
const PREC_PRODUCT: u8 = 6;
const PREC_NEG: u8 = 7;
const PREC_ATOM: u8 = 8;

/// A parsed expression. It prints back as text that parses to the same tree.
///
/// It serializes as its text, so a rule stored in JSON reads like the rule in `aidlc.toml`.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A number literal. The parser folds a minus sign written directly before a number into
    /// the literal, so `-0.5` is `Number(-0.5)`.
    Number(f64),
    /// A string literal.
    Str(String),
    /// `true` or `false`.
    Bool(bool),
    /// `null`, the missing value.
    Null,
    /// A column of the row being evaluated.
    Column(String),
    /// A prefix operator applied to an operand.
    Unary {
        /// The operator.
        op: UnaryOp,
        /// The operand.
        expr: Box<Expr>,
    },
    /// A binary operator applied to two operands.
    Binary {
        /// The operator.
        op: BinaryOp,
        /// The left operand.
        left: Box<Expr>,
        /// The right operand.
        right: Box<Expr>,
    },
    /// `expr in (a, b, ...)`, or `expr not in (...)` when `negated`.
    In {
        /// The value looked up.
        expr: Box<Expr>,
        /// The candidates; never empty when parsed.
        list: Vec<Expr>,
        /// Whether the test is `not in`.
        negated: bool,
    },
}

/// What went wrong while parsing or evaluating an expression.
#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize, Deserialize)]
pub enum ExprError {
    /// The text is not a valid expression; `column` is the 1-based character position.
    #[error("column {column}: {message}")]
    Syntax {
        /// 1-based character position of the problem in the expression text.
        column: usize,
        /// What is wrong there.
        message: String,
    },
    /// The row has no column of this name.
    #[error("unknown column `{name}`")]
    UnknownColumn {
        /// The column the expression asked for.
        name: String,
    },
    /// An operator was applied to values of the wrong type, such as `"a" + 1`.
    #[error("{message}")]
    Type {
        /// Which operator and which types.
        message: String,
    },
}

impl Expr {
    /// Parses an expression.
    pub fn parse(text: &str) -> Result<Expr, ExprError> {
        let tokens = tokenize(text)?;
        let mut parser = Parser {
            tokens,
            pos: 0,
            depth: 0,
        };
        let expr = parser.expr()?;
        match parser.peek() {
            Token::End => Ok(expr),
            token => Err(parser.error_here(format!("unexpected {}", token.describe()))),
        }
    }

    /// The names of the columns the expression reads, each once, in order of first use.
    pub fn columns(&self) -> Vec<String> {
        let mut names = Vec::new();
        self.collect_columns(&mut names);
        names
    }

    fn collect_columns(&self, names: &mut Vec<String>) {
        match self {
            Expr::Column(name) => {
                if !names.iter().any(|known| known == name) {
                    names.push(name.clone());
                }
            }
            Expr::Number(_) | Expr::Str(_) | Expr::Bool(_) | Expr::Null => {}
            Expr::Unary { expr, .. } => expr.collect_columns(names),
            Expr::Binary { left, right, .. } => {
                left.collect_columns(names);
                right.collect_columns(names);
            }
            Expr::In { expr, list, .. } => {
                expr.collect_columns(names);
                for item in list {
                    item.collect_columns(names);
                }
            }
        }
    }

    /// Evaluates the expression on one row. `row` returns a column's value, or `None` when the
    /// row has no such column (which is an error, unlike a missing value, `Some(Value::Null)`).
    ///
    /// Division by zero gives `null` rather than an error: on real data one odd row should not
    /// stop a whole baseline, and `null` already means "no answer" everywhere else.
    pub fn eval(&self, row: &dyn Fn(&str) -> Option<Value>) -> Result<Value, ExprError> {
        match self {
            Expr::Number(n) => Ok(Value::Number(*n)),
            Expr::Str(s) => Ok(Value::Str(s.clone())),
            Expr::Bool(b) => Ok(Value::Bool(*b)),
            Expr::Null => Ok(Value::Null),
            Expr::Column(name) => {
                row(name).ok_or_else(|| ExprError::UnknownColumn { name: name.clone() })
            }
            Expr::Unary { op, expr } => {
                let value = expr.eval(row)?;
                match (op, value) {
                    (_, Value::Null) => Ok(Value::Null),
                    (UnaryOp::Not, Value::Bool(b)) => Ok(Value::Bool(!b)),
                    (UnaryOp::Neg, Value::Number(n)) => Ok(Value::Number(-n)),
                    (UnaryOp::Not, other) => Err(type_error(format!(
                        "`not` needs a boolean, found {}",
                        other.type_name()
                    ))),
                    (UnaryOp::Neg, other) => Err(type_error(format!(
                        "`-` needs a number, found {}",
                        other.type_name()
                    ))),
                }
            }
            Expr::Binary { op, left, right } => match op {
                BinaryOp::And | BinaryOp::Or => eval_logical(*op, left, right, row),
                _ => {
                    let left = left.eval(row)?;
                    let right = right.eval(row)?;
                    eval_binary(*op, left, right)
                }
            },
            Expr::In {
                expr,
                list,
                negated,
            } => {
                let needle = expr.eval(row)?;
                if needle == Value::Null {
                    return Ok(Value::Null);
                }
                let mut found = false;
                for item in list {
                    if item.eval(row)? == needle {
                        found = true;
                        break;
                    }
                }
                Ok(Value::Bool(found != *negated))
            }
        }
    }

    fn precedence(&self) -> u8 {
        match self {
            Expr::Number(_) | Expr::Str(_) | Expr::Bool(_) | Expr::Null | Expr::Column(_) => {
                PREC_ATOM
            }
            Expr::Unary {
                op: UnaryOp::Not, ..
            } => PREC_NOT,
            Expr::Unary {
                op: UnaryOp::Neg, ..
            } => PREC_NEG,
            Expr::Binary { op, .. } => op.precedence(),
            Expr::In { .. } => PREC_COMPARE,
        }
    }
}

fn type_error(message: String) -> ExprError {
    ExprError::Type { message }
}

/// `and` / `or` with short-circuit and three-valued logic. Short-circuit matters: it lets a rule
/// guard a column, as in `x != null and x > 3`.
fn eval_logical(
    op: BinaryOp,
    left: &Expr,
    right: &Expr,
    row: &dyn Fn(&str) -> Option<Value>,
) -> Result<Value, ExprError> {
    let deciding = op == BinaryOp::Or;
    let as_logic = |value: Value| -> Result<Option<bool>, ExprError> {
        match value {
            Value::Bool(b) => Ok(Some(b)),
            Value::Null => Ok(None),
            other => Err(type_error(format!(
                "`{}` needs booleans, found {}",
                op.symbol(),
                other.type_name()
            ))),
        }
    };
    let left = as_logic(left.eval(row)?)?;
    if left == Some(deciding) {
        return Ok(Value::Bool(deciding));
    }
    let right = as_logic(right.eval(row)?)?;
    Ok(match (left, right) {
        (_, Some(b)) if b == deciding => Value::Bool(deciding),
        (Some(_), Some(_)) => Value::Bool(!deciding),
        _ => Value::Null,
    })
}

fn eval_binary(op: BinaryOp, left: Value, right: Value) -> Result<Value, ExprError> {
    match op {
        BinaryOp::Eq => return Ok(Value::Bool(left == right)),
        BinaryOp::Ne => return Ok(Value::Bool(left != right)),
        _ => {}
    }
    if left == Value::Null || right == Value::Null {
        return Ok(Value::Null);
    }
    let mismatch = |left: &Value, right: &Value| {
        type_error(format!(
            "`{}` cannot combine {} and {}",
            op.symbol(),
            left.type_name(),
            right.type_name()
        ))
    };
    match op {
        BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div => {
            let (Value::Number(a), Value::Number(b)) = (&left, &right) else {
                return Err(mismatch(&left, &right));
            };
            let result = match op {
                BinaryOp::Add => a + b,
                BinaryOp::Sub => a - b,
                BinaryOp::Mul => a * b,
                _ if *b == 0.0 => return Ok(Value::Null),
                _ => a / b,
            };
            Ok(Value::Number(result))
        }
        _ => {
            let ordering = match (&left, &right) {
                (Value::Number(a), Value::Number(b)) => a.partial_cmp(b),
                (Value::Str(a), Value::Str(b)) => Some(a.cmp(b)),
                _ => return Err(mismatch(&left, &right)),
            };
            let Some(ordering) = ordering else {
                return Ok(Value::Null);
            };
            Ok(Value::Bool(match op {
                BinaryOp::Lt => ordering.is_lt(),
                BinaryOp::Le => ordering.is_le(),
                BinaryOp::Gt => ordering.is_gt(),
                _ => ordering.is_ge(),
            }))
        }
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Number(n) => write!(f, "{n}"),
            Expr::Str(s) => write_quoted(f, s, '"'),
            Expr::Bool(b) => write!(f, "{b}"),
            Expr::Null => f.write_str("null"),
            Expr::Column(name) => {
                if is_bare_identifier(name) {
                    f.write_str(name)
                } else {
                    write_quoted(f, name, '`')
                }
            }
            Expr::Unary { op, expr } => {
                let (prefix, min) = match op {
                    UnaryOp::Not => ("not ", PREC_NOT),
                    UnaryOp::Neg => ("-", PREC_NEG),
                };
                f.write_str(prefix)?;
                // A literal right after `-` would be read back as a negative literal, a
                // different tree; parentheses keep the negation explicit.
                let shield = *op == UnaryOp::Neg && matches!(**expr, Expr::Number(_));
                write_operand(f, expr, min, shield)
            }
            Expr::Binary { op, left, right } => {
                let prec = op.precedence();
                let (left_min, right_min) = if prec == PREC_COMPARE {
                    // Comparisons do not chain, so both sides must bind tighter.
                    (PREC_SUM, PREC_SUM)
                } else {
                    (prec, prec + 1)
                };
                write_operand(f, left, left_min, false)?;
                write!(f, " {} ", op.symbol())?;
                write_operand(f, right, right_min, false)
            }
            Expr::In {
                expr,
                list,
                negated,
            } => {
                write_operand(f, expr, PREC_SUM, false)?;
                f.write_str(if *negated { " not in (" } else { " in (" })?;
                for (i, item) in list.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str(")")
            }
        }
    }
}

fn write_operand(f: &mut fmt::Formatter<'_>, expr: &Expr, min: u8, force: bool) -> fmt::Result {
    if force || expr.precedence() < min {
        write!(f, "({expr})")
    } else {
        write!(f, "{expr}")
    }
}

fn write_quoted(f: &mut fmt::Formatter<'_>, text: &str, quote: char) -> fmt::Result {
    use fmt::Write;
    f.write_char(quote)?;
    for c in text.chars() {
        match c {
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\t' => f.write_str("\\t")?,
            '\r' => f.write_str("\\r")?,
            c if c == quote => {
                f.write_char('\\')?;
                f.write_char(c)?;
            }
            c => f.write_char(c)?,
        }
    }
    f.write_char(quote)
}

const KEYWORDS: [&str; 7] = ["and", "or", "not", "in", "true", "false", "null"];

fn is_identifier_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_identifier_continue(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Whether a column name can be written without back-quotes.
fn is_bare_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(is_identifier_start)
        && chars.all(is_identifier_continue)
        && !KEYWORDS.contains(&name)
}

impl Serialize for Expr {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Expr {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Expr::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Number(f64),
    Str(String),
    Ident(String),
    /// A back-quoted column name; never a keyword, whatever it spells.
    Quoted(String),
    Symbol(&'static str),
    End,
}

impl Token {
    fn describe(&self) -> String {
        match self {
            Token::Number(n) => format!("number {n}"),
            Token::Str(_) => "string".to_string(),
            Token::Ident(name) if KEYWORDS.contains(&name.as_str()) => format!("`{name}`"),
            Token::Ident(name) | Token::Quoted(name) => format!("column `{name}`"),
            Token::Symbol(s) => format!("`{s}`"),
            Token::End => "end of expression".to_string(),
        }
    }

    fn is_keyword(&self, keyword: &str) -> bool {
        matches!(self, Token::Ident(name) if name == keyword)
    }
}

fn syntax(column: usize, message: impl Into<String>) -> ExprError {
    ExprError::Syntax {
        column,
        message: message.into(),
    }
}

/// Splits the text into tokens, each with its 1-based character column.
fn tokenize(text: &str) -> Result<Vec<(Token, usize)>, ExprError> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let column = i + 1;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if tokens.len() == MAX_TOKENS {
            return Err(syntax(
                column,
                format!("expression longer than {MAX_TOKENS} tokens"),
            ));
        }
        if c.is_ascii_digit() || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) {
            let (number, end) = scan_number(&chars, i)?;
            tokens.push((Token::Number(number), column));
            i = end;
            continue;
        }
        if is_identifier_start(c) {
            let start = i;
            while i < chars.len() && is_identifier_continue(chars[i]) {
                i += 1;
            }
            tokens.push((Token::Ident(chars[start..i].iter().collect()), column));
            continue;
        }
        if c == '"' || c == '\'' || c == '`' {
            let (content, end) = scan_quoted(&chars, i)?;
            let token = if c == '`' {
                if content.is_empty() {
                    return Err(syntax(column, "empty column name ``"));
                }
                Token::Quoted(content)
            } else {
                Token::Str(content)
            };
            tokens.push((token, column));
            i = end;
            continue;
        }
        let next = chars.get(i + 1).copied();
        let (symbol, width) = match (c, next) {
            ('<', Some('=')) => ("<=", 2),
            ('>', Some('=')) => (">=", 2),
            ('=', Some('=')) => ("==", 2),
            ('!', Some('=')) => ("!=", 2),
            ('<', _) => ("<", 1),
            ('>', _) => (">", 1),
            ('+', _) => ("+", 1),
            ('-', _) => ("-", 1),
            ('*', _) => ("*", 1),
            ('/', _) => ("/", 1),
            ('(', _) => ("(", 1),
            (')', _) => (")", 1),
            (',', _) => (",", 1),
            ('=', _) => return Err(syntax(column, "`=` is not an operator; use `==`")),
            ('!', _) => return Err(syntax(column, "`!` is not an operator; use `not` or `!=`")),
            _ => return Err(syntax(column, format!("unexpected character `{c}`"))),
        };
        tokens.push((Token::Symbol(symbol), column));
        i += width;
    }
    tokens.push((Token::End, chars.len() + 1));
    Ok(tokens)
}

fn scan_number(chars: &[char], start: usize) -> Result<(f64, usize), ExprError> {
    let mut i = start;
    let digits = |i: &mut usize| {
        let from = *i;
        while *i < chars.len() && chars[*i].is_ascii_digit() {
            *i += 1;
        }
        *i > from
    };
    digits(&mut i);
    if chars.get(i) == Some(&'.') {
        i += 1;
        digits(&mut i);
    }
    if matches!(chars.get(i), Some('e' | 'E')) {
        i += 1;
        if matches!(chars.get(i), Some('+' | '-')) {
            i += 1;
        }
        if !digits(&mut i) {
            return Err(syntax(i + 1, "exponent needs digits"));
        }
    }
    if chars
        .get(i)
        .is_some_and(|&c| is_identifier_continue(c) || c == '.')
    {
        return Err(syntax(
            i + 1,
            "a number must not run into a name; use back-quotes for such a column",
        ));
    }
    let text: String = chars[start..i].iter().collect();
    match text.parse::<f64>() {
        Ok(number) if number.is_finite() => Ok((number, i)),
        _ => Err(syntax(
            start + 1,
            format!("number `{text}` is out of range"),
        )),
    }
}

/// Reads a quoted string or back-quoted name starting at the opening quote; returns the
/// unescaped content and the index after the closing quote.
fn scan_quoted(chars: &[char], start: usize) -> Result<(String, usize), ExprError> {
    let quote = chars[start];
    let mut content = String::new();
    let mut i = start + 1;
    while i < chars.len() {
        match chars[i] {
            c if c == quote => return Ok((content, i + 1)),
            '\\' => {
                let escaped = match chars.get(i + 1) {
                    Some('n') => '\n',
                    Some('t') => '\t',
                    Some('r') => '\r',
                    Some(&c @ ('\\' | '"' | '\'' | '`')) => c,
                    Some(c) => return Err(syntax(i + 1, format!("unknown escape `\\{c}`"))),
                    None => break,
                };
                content.push(escaped);
                i += 2;
            }
            c => {
                content.push(c);
                i += 1;
            }
        }
    }
    let what = if quote == '`' {
        "column name"
    } else {
        "string"
    };
    Err(syntax(start + 1, format!("unterminated {what}")))
}

struct Parser {
    tokens: Vec<(Token, usize)>,
    pos: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> &Token {
        &self.tokens[self.pos].0
    }

    fn peek_at(&self, offset: usize) -> &Token {
        let last = self.tokens.len() - 1;
        &self.tokens[(self.pos + offset).min(last)].0
    }

    fn advance(&mut self) -> Token {
        let token = self.tokens[self.pos].0.clone();
        if self.pos + 1 < self.tokens.len() {
            self.pos += 1;
        }
        token
    }

    fn error_here(&self, message: String) -> ExprError {
        syntax(self.tokens[self.pos].1, message)
    }

    fn eat_symbol(&mut self, symbol: &str) -> bool {
        if matches!(self.peek(), Token::Symbol(s) if *s == symbol) {
            self.advance();
            true
        } else {
            false
        }
    }

    fn expect_symbol(&mut self, symbol: &str, context: &str) -> Result<(), ExprError> {
        if self.eat_symbol(symbol) {
            Ok(())
        } else {
            Err(self.error_here(format!(
                "expected `{symbol}` {context}, found {}",
                self.peek().describe()
            )))
        }
    }

    fn enter(&mut self) -> Result<(), ExprError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error_here(format!("expression nested deeper than {MAX_DEPTH}")));
        }
        Ok(())
    }

    fn expr(&mut self) -> Result<Expr, ExprError> {
        self.enter()?;
        let result = self.or();
        self.depth -= 1;
        result
    }

    fn or(&mut self) -> Result<Expr, ExprError> {
        let mut left = self.and()?;
        while self.peek().is_keyword("or") {
            self.advance();
            let right = self.and()?;
            left = binary(BinaryOp::Or, left, right);
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, ExprError> {
        let mut left = self.not()?;
        while self.peek().is_keyword("and") {
            self.advance();
            let right = self.not()?;
            left = binary(BinaryOp::And, left, right);
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Expr, ExprError> {
        if self.peek().is_keyword("not") {
            self.advance();
            self.enter()?;
            let operand = self.not();
            self.depth -= 1;
            return Ok(Expr::Unary {
                op: UnaryOp::Not,
                expr: Box::new(operand?),
            });
        }
        self.compare()
    }

    fn compare(&mut self) -> Result<Expr, ExprError> {
        let left = self.sum()?;
        let negated = self.peek().is_keyword("not") && self.peek_at(1).is_keyword("in");
        if negated || self.peek().is_keyword("in") {
            if negated {
                self.advance();
            }
            self.advance();
            let list = self.list()?;
            return Ok(Expr::In {
                expr: Box::new(left),
                list,
                negated,
            });
        }
        let op = match self.peek() {
            Token::Symbol("<") => BinaryOp::Lt,
            Token::Symbol("<=") => BinaryOp::Le,
            Token::Symbol(">") => BinaryOp::Gt,
            Token::Symbol(">=") => BinaryOp::Ge,
            Token::Symbol("==") => BinaryOp::Eq,
            Token::Symbol("!=") => BinaryOp::Ne,
            _ => return Ok(left),
        };
        self.advance();
        let right = self.sum()?;
        if matches!(
            self.peek(),
            Token::Symbol("<" | "<=" | ">" | ">=" | "==" | "!=")
        ) || self.peek().is_keyword("in")
        {
            return Err(self.error_here(
                "comparisons do not chain; combine them with `and` or use parentheses".into(),
            ));
        }
        Ok(binary(op, left, right))
    }

    fn list(&mut self) -> Result<Vec<Expr>, ExprError> {
        self.expect_symbol("(", "after `in`")?;
        let mut items = Vec::new();
        loop {
            if self.eat_symbol(")") {
                if items.is_empty() {
                    return Err(syntax(
                        self.tokens[self.pos - 1].1,
                        "`in` needs at least one value",
                    ));
                }
                return Ok(items);
            }
            items.push(self.expr()?);
            if !self.eat_symbol(",") {
                self.expect_symbol(")", "to close the `in` list")?;
                return Ok(items);
            }
        }
    }

    fn sum(&mut self) -> Result<Expr, ExprError> {
        let mut left = self.product()?;
        loop {
            let op = match self.peek() {
                Token::Symbol("+") => BinaryOp::Add,
                Token::Symbol("-") => BinaryOp::Sub,
                _ => return Ok(left),
            };
            self.advance();
            let right = self.product()?;
            left = binary(op, left, right);
        }
    }

    fn product(&mut self) -> Result<Expr, ExprError> {
        let mut left = self.unary()?;
        loop {
            let op = match self.peek() {
                Token::Symbol("*") => BinaryOp::Mul,
                Token::Symbol("/") => BinaryOp::Div,
                _ => return Ok(left),
            };
            self.advance();
            let right = self.unary()?;
            left = binary(op, left, right);
        }
    }

    fn unary(&mut self) -> Result<Expr, ExprError> {
        if *self.peek() != Token::Symbol("-") {
            return self.atom();
        }
        self.advance();
        if let Token::Number(n) = *self.peek() {
            self.advance();
            return Ok(Expr::Number(-n));
        }
        self.enter()?;
        let operand = self.unary();
        self.depth -= 1;
        Ok(Expr::Unary {
            op: UnaryOp::Neg,
            expr: Box::new(operand?),
        })
    }

    fn atom(&mut self) -> Result<Expr, ExprError> {
        let column = self.tokens[self.pos].1;
        match self.advance() {
            Token::Number(n) => Ok(Expr::Number(n)),
            Token::Str(s) => Ok(Expr::Str(s)),
            Token::Quoted(name) => Ok(Expr::Column(name)),
            Token::Ident(name) => match name.as_str() {
                "true" => Ok(Expr::Bool(true)),
                "false" => Ok(Expr::Bool(false)),
                "null" => Ok(Expr::Null),
                "and" | "or" | "not" | "in" => Err(syntax(
                    column,
                    format!("expected a value, found `{name}` (back-quote a column of that name)"),
                )),
                _ => Ok(Expr::Column(name)),
            },
            Token::Symbol("(") => {
                let inner = self.expr()?;
                self.expect_symbol(")", "to close `(`")?;
                Ok(inner)
            }
            token => Err(syntax(
                column,
                format!("expected a value, found {}", token.describe()),
            )),
        }
    }
}

fn binary(op: BinaryOp, left: Expr, right: Expr) -> Expr {
    Expr::Binary {
        op,
        left: Box::new(left),
        right: Box::new(right),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn row(name: &str) -> Option<Value> {
        match name {
            "visibility" => Some(Value::Number(-0.4)),
            "dew point" => Some(Value::Number(1.5)),
            "band" => Some(Value::Str("60K+ €".into())),
            "flag" => Some(Value::Bool(true)),
            "gap" => Some(Value::Null),
            _ => None,
        }
    }

    fn eval(text: &str) -> Result<Value, ExprError> {
        Expr::parse(text)?.eval(&row)
    }

    #[test]
    fn precedence_follows_the_grammar() {
        let e = Expr::parse("1 + 2 * 3 < 10 and not flag or band == 'x'").unwrap();
        assert_eq!(
            e.to_string(),
            "1 + 2 * 3 < 10 and not flag or band == \"x\""
        );
        let Expr::Binary {
            op: BinaryOp::Or,
            left,
            ..
        } = e
        else {
            panic!("`or` binds loosest: {e:?}");
        };
        assert!(matches!(
            *left,
            Expr::Binary {
                op: BinaryOp::And,
                ..
            }
        ));
        assert_eq!(eval("1 + 2 * 3").unwrap(), Value::Number(7.0));
        assert_eq!(eval("(1 + 2) * 3").unwrap(), Value::Number(9.0));
        assert_eq!(eval("10 - 4 - 3").unwrap(), Value::Number(3.0));
        assert_eq!(eval("12 / 3 / 2").unwrap(), Value::Number(2.0));
    }

    #[test]
    fn columns_lists_each_name_once_in_order() {
        let e = Expr::parse("`dew point` > visibility and visibility < 0 or band in ('a', `b c`)")
            .unwrap();
        assert_eq!(e.columns(), vec!["dew point", "visibility", "band", "b c"]);
    }

    #[test]
    fn evaluates_comparisons_strings_and_membership() {
        assert_eq!(eval("visibility < -0.3").unwrap(), Value::Bool(true));
        assert_eq!(eval("`dew point` >= 1.5").unwrap(), Value::Bool(true));
        assert_eq!(eval("band == \"60K+ €\"").unwrap(), Value::Bool(true));
        assert_eq!(eval("band in ('a', '60K+ €')").unwrap(), Value::Bool(true));
        assert_eq!(
            eval("band not in ('a', '60K+ €')").unwrap(),
            Value::Bool(false)
        );
        assert_eq!(eval("'abc' < 'abd'").unwrap(), Value::Bool(true));
        assert_eq!(eval("-visibility").unwrap(), Value::Number(0.4));
    }

    #[test]
    fn missing_values_follow_three_valued_logic() {
        assert_eq!(eval("gap > 1").unwrap(), Value::Null);
        assert_eq!(eval("gap + 1").unwrap(), Value::Null);
        assert_eq!(eval("gap == null").unwrap(), Value::Bool(true));
        assert_eq!(eval("gap > 1 and false").unwrap(), Value::Bool(false));
        assert_eq!(eval("gap > 1 or true").unwrap(), Value::Bool(true));
        assert_eq!(eval("gap > 1 and true").unwrap(), Value::Null);
        assert_eq!(eval("not (gap > 1)").unwrap(), Value::Null);
        assert_eq!(eval("gap in (1, 2)").unwrap(), Value::Null);
        assert_eq!(eval("1 / 0").unwrap(), Value::Null);
        // Short-circuit: the unknown column on the right is never read.
        assert_eq!(eval("false and nosuch > 1").unwrap(), Value::Bool(false));
    }

    #[test]
    fn evaluation_errors_name_the_problem() {
        assert_eq!(
            eval("nosuch > 1"),
            Err(ExprError::UnknownColumn {
                name: "nosuch".into()
            })
        );
        let err = eval("band + 1").unwrap_err();
        assert_eq!(err.to_string(), "`+` cannot combine string and number");
        assert!(eval("visibility and flag").is_err());
        assert!(eval("not 3").is_err());
    }

    #[test]
    fn syntax_errors_carry_the_column() {
        let cases = [
            ("visibility <", 13, "expected a value"),
            ("a < b < c", 7, "do not chain"),
            ("a = 1", 3, "use `==`"),
            ("(a > 1", 7, "to close `(`"),
            ("x in ()", 7, "at least one value"),
            ("'open", 1, "unterminated string"),
            ("`dew point", 1, "unterminated column name"),
            ("3abc", 2, "run into a name"),
            ("a > 1 b", 7, "unexpected column `b`"),
            ("1e999", 1, "out of range"),
            ("a # b", 3, "unexpected character"),
            ("", 1, "expected a value, found end of expression"),
        ];
        for (text, column, fragment) in cases {
            match Expr::parse(text) {
                Err(ExprError::Syntax {
                    column: got,
                    message,
                }) => {
                    assert_eq!(got, column, "{text}: {message}");
                    assert!(message.contains(fragment), "{text}: {message}");
                }
                other => panic!("{text}: expected a syntax error, got {other:?}"),
            }
        }
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let text = format!("{}1{}", "(".repeat(10_000), ")".repeat(10_000));
        assert!(matches!(Expr::parse(&text), Err(ExprError::Syntax { .. })));
        let text = format!("{}x", "not ".repeat(10_000));
        assert!(Expr::parse(&text).is_err());
        let text = format!("{}x", "-".repeat(10_000));
        assert!(Expr::parse(&text).is_err());
    }

    #[test]
    fn negative_literals_and_negation_print_distinctly() {
        assert_eq!(Expr::parse("-0.5").unwrap(), Expr::Number(-0.5));
        let negated = Expr::Unary {
            op: UnaryOp::Neg,
            expr: Box::new(Expr::Number(0.5)),
        };
        assert_eq!(negated.to_string(), "-(0.5)");
        assert_eq!(Expr::parse("-(0.5)").unwrap(), negated);
        assert_eq!(Expr::parse("a - -2").unwrap().to_string(), "a - -2");
    }

    #[test]
    fn keywords_and_odd_names_are_back_quoted() {
        let e = Expr::Column("and".into());
        assert_eq!(e.to_string(), "`and`");
        let e = Expr::Column("a`b\\c".into());
        assert_eq!(e.to_string(), "`a\\`b\\\\c`");
        assert_eq!(Expr::parse(&e.to_string()).unwrap(), e);
    }

    #[test]
    fn serializes_as_text() {
        let e = Expr::parse("visibility < -0.3").unwrap();
        let json = serde_json::to_string(&e).unwrap();
        assert_eq!(json, "\"visibility < -0.3\"");
        let back: Expr = serde_json::from_str(&json).unwrap();
        assert_eq!(back, e);
    }

    fn column_name() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z_][a-z0-9_]{0,6}",
            "[a-zA-Z ]{1,8}",
            Just("and".to_string()),
            Just("null".to_string()),
            "[`\\\\'\"a-z é-]{1,5}",
        ]
    }

    fn number() -> impl Strategy<Value = f64> {
        prop_oneof![
            (-1000i64..1000).prop_map(|n| n as f64),
            any::<f64>().prop_filter("finite", |n| n.is_finite()),
        ]
    }

    fn expr() -> impl Strategy<Value = Expr> {
        let leaf = prop_oneof![
            number().prop_map(Expr::Number),
            "[ -~é\n]{0,6}".prop_map(Expr::Str),
            any::<bool>().prop_map(Expr::Bool),
            Just(Expr::Null),
            column_name().prop_map(Expr::Column),
        ];
        let binary_ops = prop_oneof![
            Just(BinaryOp::Or),
            Just(BinaryOp::And),
            Just(BinaryOp::Lt),
            Just(BinaryOp::Le),
            Just(BinaryOp::Gt),
            Just(BinaryOp::Ge),
            Just(BinaryOp::Eq),
            Just(BinaryOp::Ne),
            Just(BinaryOp::Add),
            Just(BinaryOp::Sub),
            Just(BinaryOp::Mul),
            Just(BinaryOp::Div),
        ];
        leaf.prop_recursive(5, 48, 4, move |inner| {
            prop_oneof![
                (binary_ops.clone(), inner.clone(), inner.clone())
                    .prop_map(|(op, left, right)| binary(op, left, right)),
                (
                    prop_oneof![Just(UnaryOp::Not), Just(UnaryOp::Neg)],
                    inner.clone()
                )
                    .prop_map(|(op, expr)| Expr::Unary {
                        op,
                        expr: Box::new(expr)
                    }),
                (
                    inner.clone(),
                    prop::collection::vec(inner, 1..4),
                    any::<bool>()
                )
                    .prop_map(|(expr, list, negated)| Expr::In {
                        expr: Box::new(expr),
                        list,
                        negated
                    }),
            ]
        })
    }

    proptest! {
        #[test]
        fn display_parses_back_to_the_same_tree(e in expr()) {
            let text = e.to_string();
            prop_assert_eq!(Expr::parse(&text), Ok(e), "text: {}", text);
        }

        #[test]
        fn parse_never_panics(text in "[a-z0-9 ()<>=!+*/,'\"`.-]{0,30}") {
            let _ = Expr::parse(&text);
        }
    }
}
