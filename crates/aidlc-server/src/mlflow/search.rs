//! MLflow's search grammar, parsed server-side: `filter_string` (a conjunction of
//! `<ident> <op> <value>` joined with AND; no OR, no parentheses), `order_by` entries
//! (`<ident> [ASC|DESC]`) and page tokens.

use aidlc_store::{Comparison, FilterValue, RunAttribute, RunClause, RunField, RunOrder};

/// A filter term before it is bound to one entity's fields: `prefix` is `None` for a bare key.
#[derive(Debug, Clone, PartialEq)]
pub struct Term {
    pub prefix: Option<String>,
    pub key: String,
    pub op: Comparison,
    pub value: FilterValue,
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    /// A backtick- or double-quoted name, or a single- or double-quoted string.
    Quoted(String, char),
    Number(f64),
    Op(&'static str),
    Dot,
    Comma,
    Open,
    Close,
}

fn tokenize(s: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '\'' | '"' | '`' => {
                let mut j = i + 1;
                let mut text = String::new();
                loop {
                    match chars.get(j) {
                        None => {
                            return Err(format!(
                                "unterminated quote starting at character {}",
                                i + 1
                            ));
                        }
                        // A doubled quote inside a string stands for the quote itself.
                        Some(q) if *q == c && chars.get(j + 1) == Some(&c) => {
                            text.push(c);
                            j += 2;
                        }
                        Some(q) if *q == c => break,
                        Some(other) => {
                            text.push(*other);
                            j += 1;
                        }
                    }
                }
                out.push(Token::Quoted(text, c));
                i = j + 1;
            }
            '.' if !chars.get(i + 1).is_some_and(|d| d.is_ascii_digit()) => {
                out.push(Token::Dot);
                i += 1;
            }
            ',' => {
                out.push(Token::Comma);
                i += 1;
            }
            '(' => {
                out.push(Token::Open);
                i += 1;
            }
            ')' => {
                out.push(Token::Close);
                i += 1;
            }
            '=' => {
                out.push(Token::Op("="));
                i += if chars.get(i + 1) == Some(&'=') { 2 } else { 1 };
            }
            '!' | '<' | '>' => {
                let two: String = chars[i..chars.len().min(i + 2)].iter().collect();
                let op = match two.as_str() {
                    "!=" => "!=",
                    "<>" => "!=",
                    "<=" => "<=",
                    ">=" => ">=",
                    _ if c == '<' => "<",
                    _ if c == '>' => ">",
                    _ => return Err(format!("unexpected `{c}`")),
                };
                i += if op.len() == 2 || two == "<>" { 2 } else { 1 };
                out.push(Token::Op(op));
            }
            c if c.is_ascii_digit() || c == '-' || c == '+' || c == '.' => {
                let mut j = i + 1;
                while j < chars.len()
                    && (chars[j].is_ascii_alphanumeric() || matches!(chars[j], '.' | '-' | '+'))
                {
                    j += 1;
                }
                let text: String = chars[i..j].iter().collect();
                let n: f64 = text
                    .parse()
                    .map_err(|_| format!("`{text}` is not a number"))?;
                out.push(Token::Number(n));
                i = j;
            }
            c if c.is_alphanumeric() || c == '_' => {
                let mut j = i;
                while j < chars.len()
                    && (chars[j].is_alphanumeric() || matches!(chars[j], '_' | '-'))
                {
                    j += 1;
                }
                out.push(Token::Word(chars[i..j].iter().collect()));
                i = j;
            }
            other => return Err(format!("unexpected character `{other}`")),
        }
    }
    Ok(out)
}

/// Reads `[prefix.]key` where the key may be quoted or contain dots.
fn parse_ident(tokens: &[Token], pos: &mut usize) -> Result<(Option<String>, String), String> {
    let first = match tokens.get(*pos) {
        Some(Token::Word(w)) => w.clone(),
        Some(Token::Quoted(q, '`' | '"')) => {
            *pos += 1;
            return Ok((None, q.clone()));
        }
        other => return Err(format!("expected a field name, found {other:?}")),
    };
    *pos += 1;
    if tokens.get(*pos) != Some(&Token::Dot) {
        return Ok((None, first));
    }
    *pos += 1;
    let mut key = String::new();
    loop {
        match tokens.get(*pos) {
            Some(Token::Word(w)) => key.push_str(w),
            Some(Token::Quoted(q, '`' | '"')) if key.is_empty() => {
                *pos += 1;
                return Ok((Some(first), q.clone()));
            }
            Some(Token::Number(n)) => key.push_str(&n.to_string()),
            _ => break,
        }
        *pos += 1;
        if tokens.get(*pos) == Some(&Token::Dot) {
            key.push('.');
            *pos += 1;
        } else {
            break;
        }
    }
    if key.is_empty() {
        return Err(format!("`{first}.` needs a key"));
    }
    Ok((Some(first), key))
}

fn is_word(t: Option<&Token>, w: &str) -> bool {
    matches!(t, Some(Token::Word(x)) if x.eq_ignore_ascii_case(w))
}

/// Parses a filter string into its terms; an empty filter has none.
pub fn parse_filter(filter: &str) -> Result<Vec<Term>, String> {
    let tokens = tokenize(filter)?;
    let mut terms = Vec::new();
    let mut pos = 0;
    while pos < tokens.len() {
        let (prefix, key) = parse_ident(&tokens, &mut pos)?;
        let op = match tokens.get(pos) {
            Some(Token::Op(o)) => {
                pos += 1;
                match *o {
                    "=" => Comparison::Eq,
                    "!=" => Comparison::Ne,
                    ">" => Comparison::Gt,
                    ">=" => Comparison::Ge,
                    "<" => Comparison::Lt,
                    _ => Comparison::Le,
                }
            }
            t if is_word(t, "LIKE") => {
                pos += 1;
                Comparison::Like
            }
            t if is_word(t, "ILIKE") => {
                pos += 1;
                Comparison::ILike
            }
            t if is_word(t, "IN") => {
                pos += 1;
                Comparison::In
            }
            t if is_word(t, "NOT") && is_word(tokens.get(pos + 1), "IN") => {
                pos += 2;
                Comparison::NotIn
            }
            t if is_word(t, "IS") => {
                if is_word(tokens.get(pos + 1), "NULL") {
                    pos += 2;
                    Comparison::IsNull
                } else if is_word(tokens.get(pos + 1), "NOT")
                    && is_word(tokens.get(pos + 2), "NULL")
                {
                    pos += 3;
                    Comparison::IsNotNull
                } else {
                    return Err("expected NULL or NOT NULL after IS".into());
                }
            }
            other => {
                return Err(format!(
                    "expected a comparison operator after `{key}`, found {other:?}"
                ));
            }
        };
        let value = match op {
            Comparison::IsNull | Comparison::IsNotNull => FilterValue::None,
            Comparison::In | Comparison::NotIn => {
                if tokens.get(pos) != Some(&Token::Open) {
                    return Err("IN needs a parenthesised list".into());
                }
                pos += 1;
                let mut items = Vec::new();
                loop {
                    match tokens.get(pos) {
                        Some(Token::Quoted(q, '\'' | '"')) => items.push(q.clone()),
                        other => {
                            return Err(format!(
                                "expected a quoted string in the IN list, found {other:?}"
                            ));
                        }
                    }
                    pos += 1;
                    match tokens.get(pos) {
                        Some(Token::Comma) => pos += 1,
                        Some(Token::Close) => {
                            pos += 1;
                            break;
                        }
                        other => return Err(format!("expected `,` or `)`, found {other:?}")),
                    }
                }
                FilterValue::List(items)
            }
            _ => {
                let v = match tokens.get(pos) {
                    Some(Token::Number(n)) => FilterValue::Number(*n),
                    Some(Token::Quoted(q, '\'' | '"')) => FilterValue::Text(q.clone()),
                    other => {
                        return Err(format!(
                            "expected a value after the operator, found {other:?}"
                        ));
                    }
                };
                pos += 1;
                v
            }
        };
        terms.push(Term {
            prefix,
            key,
            op,
            value,
        });
        match tokens.get(pos) {
            None => {}
            t if is_word(t, "AND") => {
                pos += 1;
                if pos >= tokens.len() {
                    return Err("the filter ends with AND".into());
                }
            }
            other => {
                return Err(format!(
                    "expected AND between terms, found {other:?} (OR and parentheses are not supported)"
                ));
            }
        }
    }
    Ok(terms)
}

/// Which run field an identifier names.
pub fn run_field(prefix: Option<&str>, key: &str) -> Result<RunField, String> {
    let attribute = |key: &str| -> Result<RunField, String> {
        let a = match key {
            "run_id" => RunAttribute::RunId,
            "run_name" => RunAttribute::RunName,
            "status" => RunAttribute::Status,
            "user_id" => RunAttribute::UserId,
            "artifact_uri" => RunAttribute::ArtifactUri,
            "start_time" | "created" | "Created" => RunAttribute::StartTime,
            "end_time" => RunAttribute::EndTime,
            other => return Err(format!("invalid attribute key `{other}`")),
        };
        Ok(RunField::Attribute(a))
    };
    match prefix.map(str::to_ascii_lowercase).as_deref() {
        None => attribute(key),
        Some("metric" | "metrics") => Ok(RunField::Metric(key.to_string())),
        Some("param" | "params" | "parameter" | "parameters") => {
            Ok(RunField::Param(key.to_string()))
        }
        Some("tag" | "tags") => Ok(RunField::Tag(key.to_string())),
        Some("attribute" | "attributes" | "attr" | "run") => attribute(key),
        Some("dataset" | "datasets") => Err("filtering runs by datasets is not supported".into()),
        Some(other) => Err(format!("invalid entity type `{other}`")),
    }
}

/// Checks that an operator suits the field, as MLflow's parser does.
fn check_run_term(field: &RunField, op: Comparison, value: &FilterValue) -> Result<(), String> {
    use Comparison::*;
    let ok = match field {
        RunField::Metric(_) => {
            matches!(op, Eq | Ne | Gt | Ge | Lt | Le) && matches!(value, FilterValue::Number(_))
        }
        RunField::Param(_) | RunField::Tag(_) => {
            matches!(op, IsNull | IsNotNull)
                || (matches!(op, Eq | Ne | Like | ILike) && matches!(value, FilterValue::Text(_)))
        }
        RunField::Attribute(a) if a.is_numeric() => {
            matches!(op, Eq | Ne | Gt | Ge | Lt | Le) && matches!(value, FilterValue::Number(_))
        }
        RunField::Attribute(RunAttribute::RunId) => {
            (matches!(op, In | NotIn) && matches!(value, FilterValue::List(_)))
                || (matches!(op, Eq | Ne | Like | ILike) && matches!(value, FilterValue::Text(_)))
        }
        RunField::Attribute(_) => {
            matches!(op, Eq | Ne | Like | ILike) && matches!(value, FilterValue::Text(_))
        }
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "the comparison `{}` with {value:?} is not valid for {field:?}",
            op.sql()
        ))
    }
}

/// A `runs/search` filter as store clauses.
pub fn run_clauses(filter: &str) -> Result<Vec<RunClause>, String> {
    parse_filter(filter)?
        .into_iter()
        .map(|t| {
            let field = run_field(t.prefix.as_deref(), &t.key)?;
            check_run_term(&field, t.op, &t.value)?;
            Ok(RunClause {
                field,
                op: t.op,
                value: t.value,
            })
        })
        .collect()
}

/// `runs/search` order_by entries; duplicate keys and anything beyond `<ident> [ASC|DESC]` are
/// refused.
pub fn run_order(order_by: &[String]) -> Result<Vec<RunOrder>, String> {
    let mut out: Vec<RunOrder> = Vec::new();
    for entry in order_by {
        let tokens = tokenize(entry)?;
        let mut pos = 0;
        let (prefix, key) = parse_ident(&tokens, &mut pos)?;
        let ascending = match tokens.get(pos) {
            None => true,
            t if is_word(t, "ASC") => {
                pos += 1;
                true
            }
            t if is_word(t, "DESC") => {
                pos += 1;
                false
            }
            other => return Err(format!("invalid order_by `{entry}`: unexpected {other:?}")),
        };
        if pos != tokens.len() {
            return Err(format!(
                "invalid order_by `{entry}`: expected `<field> [ASC|DESC]`"
            ));
        }
        let field = run_field(prefix.as_deref(), &key)?;
        if out.iter().any(|o| o.field == field) {
            return Err(format!("order_by contains `{entry}` more than once"));
        }
        out.push(RunOrder { field, ascending });
    }
    Ok(out)
}

/// Page tokens are the decimal offset of the next page; the client treats them as opaque.
pub fn parse_page_token(token: Option<&str>) -> Result<i64, String> {
    match token.filter(|t| !t.is_empty()) {
        None => Ok(0),
        Some(t) => t
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .ok_or_else(|| format!("invalid page token `{t}`")),
    }
}

pub fn page_token(next_offset: Option<i64>) -> Option<String> {
    next_offset.map(|o| o.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_conjunctions_with_quoted_keys_and_lists() {
        let c = run_clauses(
            "metrics.m0 > 0.5 and params.p0 = '0' AND tags.`mlflow.runName` LIKE 'a%' and attributes.run_id IN ('a', 'b') and tags.x IS NOT NULL",
        )
        .unwrap();
        assert_eq!(c.len(), 5);
        assert_eq!(c[0].field, RunField::Metric("m0".into()));
        assert_eq!(c[0].value, FilterValue::Number(0.5));
        assert_eq!(c[2].field, RunField::Tag("mlflow.runName".into()));
        assert_eq!(c[3].value, FilterValue::List(vec!["a".into(), "b".into()]));
        assert_eq!(c[4].op, Comparison::IsNotNull);
        let c = run_clauses("tags.mlflow.source.type = \"LOCAL\" and start_time >= 1e3").unwrap();
        assert_eq!(c[0].field, RunField::Tag("mlflow.source.type".into()));
        assert_eq!(c[1].value, FilterValue::Number(1000.0));
    }

    #[test]
    fn refuses_what_mlflow_refuses() {
        for bad in [
            "metrics.m0 > 'x'",
            "params.p LIKE 3",
            "a = 1 OR b = 2",
            "metrics.m0 >",
            "status IN ('x')",
            "foo.bar = 'x'",
            "metrics.m0 > 1 AND",
        ] {
            assert!(run_clauses(bad).is_err(), "{bad}");
        }
        assert!(run_order(&["metrics.m DESC".into(), "metrics.m".into()]).is_err());
        assert!(run_order(&["start_time DESC NULLS FIRST".into()]).is_err());
        let o = run_order(&[
            "metrics.`my metric` desc".into(),
            "attributes.start_time".into(),
        ])
        .unwrap();
        assert_eq!(
            o[0],
            RunOrder {
                field: RunField::Metric("my metric".into()),
                ascending: false
            }
        );
        assert_eq!(parse_page_token(Some("40")), Ok(40));
        assert!(parse_page_token(Some("eyJvZmZzZXQiOiAxfQ==")).is_err());
    }
}
