//! Recursive-descent parser.
//!
//! ```text
//! query     := or? EOF
//! or        := and (OR and)*
//! and       := term (AND? term)*            -- juxtaposition is AND, as in Tracker
//! term      := "(" or ")" | field ":" preds | "Sort by" ":" sortkeys | WORD | STRING
//! field     := STRING | WORD+ (a known multi-word name, or QUEUE.name words) | WORD"." STRING
//! preds     := pred ("," pred)*
//! pred      := "!" operand | "#" literal | "~" literal | (">"|">="|"<"|"<=") operand
//!            | operand (".." operand)? | empty() | notEmpty() | unresolved() | changed(args)
//! operand   := literal | fn "(" args? ")" (("+"|"-") duration)*
//! ```

use crate::ast::*;
use crate::error::ParseError;
use crate::fields::{lookup, normalize_name};
use crate::lexer::{tokenize, Tok, Token};
use crate::temporal::{classify, parse_duration};

/// Deepest nesting of parentheses accepted; protects the stack from hostile input.
pub const MAX_DEPTH: usize = 64;

/// Most words an unquoted field name may span (`QUEUE.some local field`).
/// Looking further ahead from every word made parsing quadratic in the
/// number of bare words; longer names can still be written in quotes.
pub const MAX_FIELD_WORDS: usize = 16;

/// Parses a query in Tracker's query language.
///
/// ```
/// let q = tracker_query::parse(r#"Queue: TEST Assignee: me() "Sort by": Updated DESC"#).unwrap();
/// assert_eq!(q.describe(), "(and (queue TEST) (assignee me())) (sort updatedAt desc)");
/// ```
pub fn parse(input: &str) -> Result<Query, ParseError> {
    let toks = tokenize(input)?;
    let mut p = Parser {
        input,
        toks,
        pos: 0,
        sort: Vec::new(),
        depth: 0,
    };
    let filter = if p.toks.is_empty() {
        None
    } else {
        p.parse_or()?
    };
    if p.pos < p.toks.len() {
        return Err(p.unexpected());
    }
    Ok(Query {
        filter,
        sort: p.sort,
    })
}

enum FieldName {
    Field(Field),
    SortBy,
}

/// What a function call in value position turned out to be.
enum Value {
    Operand(Operand),
    Empty,
    NotEmpty,
}

struct Parser<'a> {
    input: &'a str,
    toks: Vec<Token>,
    pos: usize,
    sort: Vec<SortKey>,
    depth: usize,
}

fn is_keyword(w: &str, kw: &str) -> bool {
    w.eq_ignore_ascii_case(kw)
}

fn is_bool_keyword(w: &str) -> bool {
    is_keyword(w, "AND") || is_keyword(w, "OR")
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.toks.get(self.pos)
    }

    fn peek_tok(&self, ahead: usize) -> Option<&Tok> {
        self.toks.get(self.pos + ahead).map(|t| &t.tok)
    }

    fn bump(&mut self) -> Option<Token> {
        let t = self.toks.get(self.pos).cloned();
        if t.is_some() {
            self.pos += 1;
        }
        t
    }

    fn last_end(&self) -> usize {
        self.pos
            .checked_sub(1)
            .and_then(|i| self.toks.get(i))
            .map_or(0, |t| t.span.end)
    }

    /// The error for "the current token (or the end) is not allowed here".
    fn unexpected(&self) -> ParseError {
        match self.peek() {
            Some(t) => ParseError::UnexpectedToken {
                token: self.input[t.span.start..t.span.end].to_string(),
                position: t.span.start,
            },
            None => ParseError::UnexpectedEnd {
                position: self.input.len(),
            },
        }
    }

    fn at_keyword(&self, kw: &str) -> bool {
        matches!(self.peek_tok(0), Some(Tok::Word(w)) if is_keyword(w, kw))
    }

    fn at_term_start(&self) -> bool {
        match self.peek_tok(0) {
            Some(Tok::Word(w)) => !is_bool_keyword(w),
            Some(Tok::Str(_)) | Some(Tok::LParen) => true,
            _ => false,
        }
    }

    fn parse_or(&mut self) -> Result<Option<Expr>, ParseError> {
        let mut items = Vec::new();
        loop {
            match self.parse_and()? {
                Some(Expr::Or(inner)) => items.extend(inner),
                Some(e) => items.push(e),
                None => {}
            }
            if self.at_keyword("OR") {
                self.bump();
            } else {
                break;
            }
        }
        Ok(match items.len() {
            0 => None,
            1 => items.pop(),
            _ => Some(Expr::Or(items)),
        })
    }

    fn parse_and(&mut self) -> Result<Option<Expr>, ParseError> {
        let mut items = Vec::new();
        let mut terms = 0;
        loop {
            if terms > 0 && self.at_keyword("AND") {
                self.bump();
                if !self.at_term_start() {
                    return Err(self.unexpected());
                }
            }
            if !self.at_term_start() {
                if terms == 0 {
                    return Err(self.unexpected());
                }
                break;
            }
            match self.parse_term()? {
                Some(Expr::And(inner)) => items.extend(inner),
                Some(e) => items.push(e),
                None => {}
            }
            terms += 1;
        }
        Ok(match items.len() {
            0 => None,
            1 => items.pop(),
            _ => Some(Expr::And(items)),
        })
    }

    fn parse_term(&mut self) -> Result<Option<Expr>, ParseError> {
        if matches!(self.peek_tok(0), Some(Tok::LParen)) {
            let open = self.bump().map(|t| t.span.start).unwrap_or_default();
            self.depth += 1;
            if self.depth > MAX_DEPTH {
                return Err(ParseError::TooDeep { position: open });
            }
            let inner = self.parse_or()?;
            if !matches!(self.peek_tok(0), Some(Tok::RParen)) {
                return Err(self.unexpected());
            }
            self.bump();
            self.depth -= 1;
            return Ok(inner);
        }
        if let Some((name, span, consumed)) = self.field_ahead() {
            self.pos += consumed;
            return match name {
                FieldName::SortBy => {
                    self.parse_sort_keys()?;
                    Ok(None)
                }
                FieldName::Field(field) => {
                    let mut predicates = vec![self.parse_predicate(false)?];
                    while matches!(self.peek_tok(0), Some(Tok::Comma)) {
                        self.bump();
                        predicates.push(self.parse_predicate(false)?);
                    }
                    Ok(Some(Expr::Condition(Condition {
                        field: FieldRef { field, span },
                        predicates,
                        span: Span::new(span.start, self.last_end()),
                    })))
                }
            };
        }
        match self.bump() {
            Some(Token {
                tok: Tok::Word(w),
                span,
                ..
            }) => Ok(Some(Expr::Text(Literal {
                text: w,
                quoted: false,
                kind: LiteralKind::Text,
                span,
            }))),
            Some(Token {
                tok: Tok::Str(s),
                span,
                ..
            }) => Ok(Some(Expr::Text(Literal {
                text: s,
                quoted: true,
                kind: LiteralKind::Text,
                span,
            }))),
            _ => {
                self.pos -= 1;
                Err(self.unexpected())
            }
        }
    }

    /// Recognises a field name followed by `:` at the current position without consuming it;
    /// returns the name, its span and how many tokens (colon included) it takes.
    fn field_ahead(&self) -> Option<(FieldName, Span, usize)> {
        let t0 = self.peek()?;
        match &t0.tok {
            Tok::Str(s) if self.peek_tok(1) == Some(&Tok::Colon) => {
                Some((resolve_quoted(s), t0.span, 2))
            }
            Tok::Word(w) => {
                if let Some((field, span, n)) = self.local_quoted_ahead(0) {
                    if self.peek_tok(n) == Some(&Tok::Colon) {
                        return Some((FieldName::Field(field), span, n + 1));
                    }
                }
                let mut words = vec![w.as_str()];
                let mut end = t0.span.end;
                while let Some(Token {
                    tok: Tok::Word(next),
                    span,
                }) = self.toks.get(self.pos + words.len())
                {
                    if is_bool_keyword(next) || words.len() == MAX_FIELD_WORDS {
                        break;
                    }
                    words.push(next);
                    end = span.end;
                }
                if self.peek_tok(words.len()) != Some(&Tok::Colon) {
                    return None;
                }
                let span = Span::new(t0.span.start, end);
                if words.len() == 1 {
                    return Some((resolve_word(w), span, 2));
                }
                let joined = words.join(" ");
                let known = is_sort_by(&joined) || lookup(&joined).is_some();
                if known || local_parts(&joined).is_some() {
                    Some((resolve_word(&joined), span, words.len() + 1))
                } else {
                    None
                }
            }
            _ => None,
        }
    }

    /// `DEVS."Lead test engineer"`: a word ending in a dot glued to a string.
    fn local_quoted_ahead(&self, at: usize) -> Option<(Field, Span, usize)> {
        let t0 = self.toks.get(self.pos + at)?;
        let t1 = self.toks.get(self.pos + at + 1)?;
        match (&t0.tok, &t1.tok) {
            (Tok::Word(w), Tok::Str(s)) if t1.span.start == t0.span.end => {
                let queue = w.strip_suffix('.')?;
                if queue.is_empty() || queue.contains('.') {
                    return None;
                }
                Some((
                    Field::Local {
                        queue: queue.to_string(),
                        name: s.clone(),
                    },
                    t0.span.to(t1.span),
                    2,
                ))
            }
            _ => None,
        }
    }

    fn parse_sort_keys(&mut self) -> Result<(), ParseError> {
        loop {
            let field = if let Some((field, span, n)) = self.local_quoted_ahead(0) {
                self.pos += n;
                FieldRef { field, span }
            } else {
                match self.bump() {
                    Some(Token {
                        tok: Tok::Str(s),
                        span,
                    }) => match resolve_quoted(&s) {
                        FieldName::Field(field) => FieldRef { field, span },
                        FieldName::SortBy => {
                            self.pos -= 1;
                            return Err(self.unexpected());
                        }
                    },
                    Some(Token {
                        tok: Tok::Word(w),
                        span,
                    }) if !is_bool_keyword(&w) => match resolve_word(&w) {
                        FieldName::Field(field) => FieldRef { field, span },
                        FieldName::SortBy => {
                            self.pos -= 1;
                            return Err(self.unexpected());
                        }
                    },
                    Some(_) => {
                        self.pos -= 1;
                        return Err(self.unexpected());
                    }
                    None => return Err(self.unexpected()),
                }
            };
            let descending = match self.peek_tok(0) {
                Some(Tok::Word(w)) if is_keyword(w, "DESC") => {
                    self.bump();
                    true
                }
                Some(Tok::Word(w)) if is_keyword(w, "ASC") => {
                    self.bump();
                    false
                }
                _ => false,
            };
            self.sort.push(SortKey { field, descending });
            if matches!(self.peek_tok(0), Some(Tok::Comma)) {
                self.bump();
            } else {
                return Ok(());
            }
        }
    }

    fn parse_predicate(&mut self, in_changed: bool) -> Result<Predicate, ParseError> {
        let Some(tok) = self.peek().cloned() else {
            return Err(self.unexpected());
        };
        match tok.tok {
            Tok::Bang => {
                self.bump();
                Ok(match self.parse_value()? {
                    Value::Operand(o) => Predicate::NotEquals(o),
                    Value::Empty => Predicate::NotEmpty,
                    Value::NotEmpty => Predicate::Empty,
                })
            }
            Tok::Hash => {
                self.bump();
                Ok(Predicate::Exact(self.parse_literal()?))
            }
            Tok::Tilde => {
                self.bump();
                Ok(Predicate::NotExact(self.parse_literal()?))
            }
            Tok::Gt | Tok::Ge | Tok::Lt | Tok::Le => {
                self.bump();
                let op = match tok.tok {
                    Tok::Gt => CompareOp::Gt,
                    Tok::Ge => CompareOp::Ge,
                    Tok::Lt => CompareOp::Lt,
                    _ => CompareOp::Le,
                };
                Ok(Predicate::Compare(op, self.parse_operand()?))
            }
            Tok::Word(ref w)
                if !in_changed
                    && is_keyword(w, "changed")
                    && self
                        .toks
                        .get(self.pos + 1)
                        .is_some_and(|t| t.tok == Tok::LParen && t.span.start == tok.span.end) =>
            {
                self.pos += 2;
                self.parse_changed_args()
            }
            _ => match self.parse_value()? {
                Value::Empty => Ok(Predicate::Empty),
                Value::NotEmpty => Ok(Predicate::NotEmpty),
                Value::Operand(first) => {
                    if matches!(self.peek_tok(0), Some(Tok::Range)) {
                        self.bump();
                        Ok(Predicate::Range(first, self.parse_operand()?))
                    } else {
                        Ok(Predicate::Equals(first))
                    }
                }
            },
        }
    }

    fn parse_changed_args(&mut self) -> Result<Predicate, ParseError> {
        let mut c = Changed {
            from: None,
            to: None,
            by: None,
            date: None,
        };
        loop {
            match self.peek_tok(0) {
                Some(Tok::RParen) => {
                    self.bump();
                    return Ok(Predicate::Changed(Box::new(c)));
                }
                Some(Tok::Comma) => {
                    self.bump();
                    continue;
                }
                Some(Tok::Word(w)) if self.peek_tok(1) == Some(&Tok::Colon) => {
                    let slot = match w.to_ascii_lowercase().as_str() {
                        "from" => &mut c.from,
                        "to" => &mut c.to,
                        "by" => &mut c.by,
                        "date" => &mut c.date,
                        _ => return Err(self.unexpected()),
                    };
                    if slot.is_some() {
                        return Err(self.unexpected());
                    }
                    self.pos += 2;
                    *slot = Some(self.parse_predicate(true)?);
                }
                _ => return Err(self.unexpected()),
            }
        }
    }

    fn parse_literal(&mut self) -> Result<Literal, ParseError> {
        match self.bump() {
            Some(Token {
                tok: Tok::Str(s),
                span,
            }) => Ok(Literal {
                kind: classify(&s, true),
                text: s,
                quoted: true,
                span,
            }),
            Some(Token {
                tok: Tok::Word(w),
                span,
            }) if !is_bool_keyword(&w) => Ok(Literal {
                kind: classify(&w, false),
                text: w,
                quoted: false,
                span,
            }),
            Some(_) => {
                self.pos -= 1;
                Err(self.unexpected())
            }
            None => Err(self.unexpected()),
        }
    }

    fn parse_operand(&mut self) -> Result<Operand, ParseError> {
        let start = self.peek().map(|t| t.span.start);
        match self.parse_value()? {
            Value::Operand(o) => Ok(o),
            Value::Empty | Value::NotEmpty => {
                let position = start.unwrap_or_default();
                let name = self.input[position..]
                    .split('(')
                    .next()
                    .unwrap_or_default()
                    .to_string();
                Err(ParseError::FunctionNotAllowed { name, position })
            }
        }
    }

    /// A literal, or a function call `name(...)` with `(` glued to the name.
    fn parse_value(&mut self) -> Result<Value, ParseError> {
        let is_call = match (self.toks.get(self.pos), self.toks.get(self.pos + 1)) {
            (Some(a), Some(b)) => {
                matches!(a.tok, Tok::Word(_)) && b.tok == Tok::LParen && b.span.start == a.span.end
            }
            _ => false,
        };
        if !is_call {
            return Ok(Value::Operand(Operand::Literal(self.parse_literal()?)));
        }
        let Some(Token {
            tok: Tok::Word(name),
            span: name_span,
        }) = self.bump()
        else {
            return Err(self.unexpected());
        };
        self.bump(); // (
        let function = match name.to_ascii_lowercase().as_str() {
            "empty" | "unresolved" => {
                self.close_call()?;
                return Ok(Value::Empty);
            }
            "notempty" => {
                self.close_call()?;
                return Ok(Value::NotEmpty);
            }
            "me" => Function::Me,
            "now" => Function::Now,
            "today" => Function::Today,
            "week" => Function::Week,
            "month" => Function::Month,
            "quarter" => Function::Quarter,
            "year" => Function::Year,
            "group" => {
                if matches!(self.peek_tok(0), Some(Tok::Word(w)) if is_keyword(w, "value"))
                    && self.peek_tok(1) == Some(&Tok::Colon)
                {
                    self.pos += 2;
                }
                let lit = self.parse_literal()?;
                Function::Group(lit.text)
            }
            "changed" => {
                return Err(ParseError::FunctionNotAllowed {
                    name,
                    position: name_span.start,
                })
            }
            _ => {
                return Err(ParseError::UnknownFunction {
                    name,
                    position: name_span.start,
                })
            }
        };
        self.close_call()?;
        let mut shifts = Vec::new();
        if function.is_temporal() {
            while let Some(shift) = self.parse_shift()? {
                shifts.push(shift);
            }
        }
        Ok(Value::Operand(Operand::Function(FunctionCall {
            function,
            shifts,
            span: Span::new(name_span.start, self.last_end()),
        })))
    }

    fn close_call(&mut self) -> Result<(), ParseError> {
        if matches!(self.peek_tok(0), Some(Tok::RParen)) {
            self.bump();
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    /// `+3d`, `- "1w 1d"`, `-12h` after a temporal function.
    fn parse_shift(&mut self) -> Result<Option<Shift>, ParseError> {
        let Some(Token {
            tok: Tok::Word(w),
            span,
        }) = self.peek().cloned()
        else {
            return Ok(None);
        };
        let negative = match w.as_bytes().first() {
            Some(b'-') => true,
            Some(b'+') => false,
            _ => return Ok(None),
        };
        self.bump();
        let (text, text_span) = if w.len() == 1 {
            match self.bump() {
                Some(Token {
                    tok: Tok::Word(t) | Tok::Str(t),
                    span,
                }) => (t, span),
                Some(_) => {
                    self.pos -= 1;
                    return Err(self.unexpected());
                }
                None => return Err(self.unexpected()),
            }
        } else {
            (w[1..].to_string(), span)
        };
        match parse_duration(&text) {
            Some(by) => Ok(Some(Shift {
                negative,
                by,
                span: span.to(text_span),
            })),
            None => Err(ParseError::InvalidDuration {
                token: self.input[text_span.start..text_span.end].to_string(),
                position: text_span.start,
            }),
        }
    }
}

fn is_sort_by(name: &str) -> bool {
    normalize_name(name) == "sort by"
}

fn resolve_quoted(name: &str) -> FieldName {
    if is_sort_by(name) {
        return FieldName::SortBy;
    }
    match lookup(name) {
        Some(def) => FieldName::Field(Field::Known(def.key)),
        None => FieldName::Field(Field::Custom(name.to_string())),
    }
}

/// `QUEUE.rest of name` → (`QUEUE`, `rest of name`).
fn local_parts(name: &str) -> Option<(&str, &str)> {
    let (queue, rest) = name.split_once('.')?;
    let rest = rest.trim();
    let ok = !queue.is_empty()
        && !rest.is_empty()
        && !queue.contains(char::is_whitespace)
        && queue.chars().all(|c| c.is_alphanumeric() || c == '_');
    ok.then_some((queue, rest))
}

fn resolve_word(name: &str) -> FieldName {
    if is_sort_by(name) {
        return FieldName::SortBy;
    }
    if let Some(def) = lookup(name) {
        return FieldName::Field(Field::Known(def.key));
    }
    match local_parts(name) {
        Some((queue, rest)) => FieldName::Field(Field::Local {
            queue: queue.to_string(),
            name: rest.to_string(),
        }),
        None => FieldName::Field(Field::Custom(name.to_string())),
    }
}
