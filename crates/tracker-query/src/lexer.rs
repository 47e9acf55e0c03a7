//! Splits a query into tokens with byte spans.

use crate::ast::Span;
use crate::error::ParseError;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    /// A run of characters without spaces or punctuation: `TEST`, `user3370@`, `2017-01-01`, `+3d`.
    Word(String),
    /// A double-quoted string, escapes already resolved.
    Str(String),
    Colon,
    Comma,
    LParen,
    RParen,
    Bang,
    Hash,
    Tilde,
    Gt,
    Ge,
    Lt,
    Le,
    /// `..` or `...`: the reference uses both for ranges.
    Range,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub tok: Tok,
    pub span: Span,
}

/// Characters that always end a word. `!`, `#`, `~`, `<`, `>` only mean something at the start of
/// a token, so text like `Hello!` or `C#` stays one word.
fn ends_word(c: char) -> bool {
    c.is_whitespace() || matches!(c, ':' | ',' | '(' | ')' | '"')
}

pub(crate) fn tokenize(input: &str) -> Result<Vec<Token>, ParseError> {
    let bytes = input.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < input.len() {
        let c = match input[i..].chars().next() {
            Some(c) => c,
            None => break,
        };
        if c.is_whitespace() {
            i += c.len_utf8();
            continue;
        }
        let start = i;
        // Each token and the position after it.
        let (tok, end) = match c {
            '"' => {
                let mut text = String::new();
                let mut j = i + 1;
                let mut closed = false;
                while j < input.len() {
                    let Some(d) = input[j..].chars().next() else {
                        break;
                    };
                    match d {
                        '"' => {
                            closed = true;
                            j += 1;
                            break;
                        }
                        '\\' => {
                            let Some(e) = input[j + 1..].chars().next() else {
                                break;
                            };
                            text.push(e);
                            j += 1 + e.len_utf8();
                        }
                        _ => {
                            text.push(d);
                            j += d.len_utf8();
                        }
                    }
                }
                if !closed {
                    return Err(ParseError::UnterminatedString { position: start });
                }
                (Tok::Str(text), j)
            }
            ':' => (Tok::Colon, i + 1),
            ',' => (Tok::Comma, i + 1),
            '(' => (Tok::LParen, i + 1),
            ')' => (Tok::RParen, i + 1),
            '!' => (Tok::Bang, i + 1),
            '#' => (Tok::Hash, i + 1),
            '~' => (Tok::Tilde, i + 1),
            '>' | '<' => {
                let eq = bytes.get(i + 1) == Some(&b'=');
                let tok = match (c, eq) {
                    ('>', true) => Tok::Ge,
                    ('>', false) => Tok::Gt,
                    (_, true) => Tok::Le,
                    _ => Tok::Lt,
                };
                (tok, if eq { i + 2 } else { i + 1 })
            }
            '.' if bytes.get(i + 1) == Some(&b'.') => {
                let len = if bytes.get(i + 2) == Some(&b'.') {
                    3
                } else {
                    2
                };
                (Tok::Range, i + len)
            }
            _ => {
                let mut j = i;
                while j < input.len() {
                    let Some(d) = input[j..].chars().next() else {
                        break;
                    };
                    if ends_word(d) || (d == '.' && bytes.get(j + 1) == Some(&b'.')) {
                        break;
                    }
                    j += d.len_utf8();
                }
                (Tok::Word(input[i..j].to_string()), j)
            }
        };
        out.push(Token {
            tok,
            span: Span::new(start, end),
        });
        i = end;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        tokenize(s).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn a_range_without_spaces_splits_into_three_tokens() {
        assert_eq!(
            toks("2017-01-01..2017-01-30"),
            vec![
                Tok::Word("2017-01-01".into()),
                Tok::Range,
                Tok::Word("2017-01-30".into())
            ]
        );
    }

    #[test]
    fn escapes_inside_quotes_are_resolved() {
        assert_eq!(
            toks(r#""a \"b\" \\ c""#),
            vec![Tok::Str(r#"a "b" \ c"#.into())]
        );
    }

    #[test]
    fn date_arithmetic_keeps_the_sign_with_the_interval() {
        assert_eq!(
            toks(">now()-12h"),
            vec![
                Tok::Gt,
                Tok::Word("now".into()),
                Tok::LParen,
                Tok::RParen,
                Tok::Word("-12h".into())
            ]
        );
    }

    #[test]
    fn punctuation_inside_a_word_stays_in_the_word() {
        assert_eq!(
            toks("C# Hello!"),
            vec![Tok::Word("C#".into()), Tok::Word("Hello!".into())]
        );
    }
}
