//! The Apicalypse subset the sandbox understands: `fields` (names or `*`), `exclude`, `where`
//! (`=`, `!=`, `>`, `>=`, `<`, `<=`, `&`, `|`, `!`, parentheses, `null`, `(a,b)` any-of,
//! `[a,b]` all-of, `{a,b}` exactly), `sort FIELD asc|desc`, `limit` (1..=500, default 10),
//! `offset`, and `multiquery` bodies (`query ENDPOINT "NAME" { ... };`, at most 10).
//! Anything else is a 400 with a message, as IGDB answers a syntax error.

use serde_json::{Map, Value};

/// IGDB's page size maximum.
pub const MAX_LIMIT: usize = 500;
/// IGDB's default page size when `limit` is absent.
pub const DEFAULT_LIMIT: usize = 10;
/// IGDB's maximum number of queries in one multiquery (the protocol constant lives with the
/// client; the sandbox enforces it).
pub const MAX_MULTI: usize = crate::fetch::MAX_MULTI_QUERIES;
/// Largest query body parsed, bytes (what the fetch client sends is a few KB).
pub const MAX_QUERY_BYTES: usize = 256 * 1024;
/// Deepest nesting of `!`, parentheses and value lists in a `where` clause.
pub const MAX_DEPTH: usize = 32;
/// Most comparisons in one `where` clause (a long `a & b & …` chain is a deep tree too).
pub const MAX_TERMS: usize = 512;

/// A parsed query body.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// Fields to return (`None` = all, from `fields *`).
    pub fields: Option<Vec<String>>,
    /// Fields to leave out.
    pub exclude: Vec<String>,
    /// The filter.
    pub filter: Option<Expr>,
    /// Sort field and direction (`true` = ascending).
    pub sort: Option<(String, bool)>,
    /// Page size.
    pub limit: usize,
    /// Rows to skip.
    pub offset: usize,
}

/// One query of a multiquery.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedQuery {
    /// Endpoint, without a `/count` suffix.
    pub endpoint: String,
    /// `true` for `ENDPOINT/count`.
    pub count: bool,
    /// The result's name.
    pub name: String,
    /// The query.
    pub query: Query,
}

/// A `where` expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// Both sides.
    And(Box<Expr>, Box<Expr>),
    /// Either side.
    Or(Box<Expr>, Box<Expr>),
    /// Negation.
    Not(Box<Expr>),
    /// `field op value`.
    Cmp(String, Op, Lit),
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `<`
    Lt,
    /// `<=`
    Le,
}

/// Literal values.
#[derive(Debug, Clone, PartialEq)]
pub enum Lit {
    /// `null`
    Null,
    /// A number.
    Num(f64),
    /// A quoted string.
    Str(String),
    /// `true` / `false`.
    Bool(bool),
    /// `(a, b)`: any of.
    Any(Vec<Lit>),
    /// `[a, b]`: all of.
    All(Vec<Lit>),
    /// `{a, b}`: exactly these.
    Exact(Vec<Lit>),
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Num(f64),
    Str(String),
    Punct(&'static str),
}

fn tokenize(s: &str) -> Result<Vec<Tok>, String> {
    let b = s.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    while i < b.len() {
        let c = b[i] as char;
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || matches!(b[i], b'_' | b'.' | b'/')) {
                i += 1;
            }
            out.push(Tok::Ident(s[start..i].to_string()));
        } else if c.is_ascii_digit()
            || (c == '-' && i + 1 < b.len() && (b[i + 1].is_ascii_digit() || b[i + 1] == b'.'))
        {
            let start = i;
            i += 1;
            while i < b.len() && (b[i].is_ascii_digit() || matches!(b[i], b'.' | b'e' | b'E')) {
                i += 1;
            }
            let n: f64 = s[start..i].parse().map_err(|_| format!("bad number {:?}", &s[start..i]))?;
            out.push(Tok::Num(n));
        } else if c == '"' {
            i += 1;
            let mut v = String::new();
            loop {
                match b.get(i) {
                    None => return Err("unterminated string".into()),
                    Some(b'"') => {
                        i += 1;
                        break;
                    }
                    Some(b'\\') if i + 1 < b.len() => {
                        // The escaped character may be several bytes long (`"\é"`).
                        let ch = s.get(i + 1..).and_then(|r| r.chars().next()).unwrap_or('?');
                        v.push(ch);
                        i += 1 + ch.len_utf8();
                    }
                    Some(_) => {
                        let ch = s[i..].chars().next().unwrap_or('?');
                        v.push(ch);
                        i += ch.len_utf8();
                    }
                }
            }
            out.push(Tok::Str(v));
        } else {
            let two = s.get(i..i + 2).unwrap_or("");
            let p: &'static str = match two {
                "!=" => "!=",
                ">=" => ">=",
                "<=" => "<=",
                _ => match c {
                    ';' => ";",
                    ',' => ",",
                    '(' => "(",
                    ')' => ")",
                    '[' => "[",
                    ']' => "]",
                    '{' => "{",
                    '}' => "}",
                    '*' => "*",
                    '&' => "&",
                    '|' => "|",
                    '!' => "!",
                    '=' => "=",
                    '>' => ">",
                    '<' => "<",
                    _ => return Err(format!("unexpected character {c:?}")),
                },
            };
            i += p.len();
            out.push(Tok::Punct(p));
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
    /// Current nesting of `!`, parentheses and value lists.
    depth: usize,
    /// Comparisons in the current `where` clause.
    terms: usize,
}

impl Parser {
    fn new(body: &str) -> Result<Self, String> {
        if body.len() > MAX_QUERY_BYTES {
            return Err(format!("query is larger than {MAX_QUERY_BYTES} bytes ({} bytes)", body.len()));
        }
        Ok(Self { toks: tokenize(body)?, pos: 0, depth: 0, terms: 0 })
    }
    /// Enters one level of nesting; every recursive step of the parser goes through here, so
    /// a hostile body cannot overflow the stack.
    fn deeper(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(format!("the where clause is nested deeper than {MAX_DEPTH} levels"));
        }
        Ok(())
    }
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }
    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }
    fn eat(&mut self, p: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Punct(q)) if *q == p) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    fn expect(&mut self, p: &str) -> Result<(), String> {
        if self.eat(p) { Ok(()) } else { Err(format!("expected {p:?}, found {:?}", self.peek())) }
    }
    fn ident(&mut self) -> Result<String, String> {
        match self.next() {
            Some(Tok::Ident(s)) => Ok(s),
            t => Err(format!("expected a name, found {t:?}")),
        }
    }

    /// Statements until the end or a closing `}`.
    fn body(&mut self) -> Result<Query, String> {
        let mut q = Query {
            fields: Some(vec![]),
            exclude: vec![],
            filter: None,
            sort: None,
            limit: DEFAULT_LIMIT,
            offset: 0,
        };
        let mut saw_fields = false;
        while let Some(t) = self.peek() {
            if matches!(t, Tok::Punct("}")) {
                break;
            }
            if self.eat(";") {
                continue;
            }
            let kw = self.ident()?;
            match kw.as_str() {
                "fields" | "f" => {
                    saw_fields = true;
                    q.fields = self.field_list()?;
                }
                "exclude" | "x" => q.exclude = self.field_list()?.unwrap_or_default(),
                "where" | "w" => {
                    self.terms = 0;
                    q.filter = Some(self.or_expr()?);
                }
                "sort" | "s" => {
                    let f = self.ident()?;
                    let asc = match self.peek() {
                        Some(Tok::Ident(d)) if d == "asc" => {
                            self.pos += 1;
                            true
                        }
                        Some(Tok::Ident(d)) if d == "desc" => {
                            self.pos += 1;
                            false
                        }
                        _ => true,
                    };
                    q.sort = Some((f, asc));
                }
                "limit" | "l" => {
                    let n = self.uint()?;
                    if n == 0 || n > MAX_LIMIT {
                        return Err(format!("limit must be between 1 and {MAX_LIMIT}, got {n}"));
                    }
                    q.limit = n;
                }
                "offset" | "o" => q.offset = self.uint()?,
                "search" => return Err("search is not supported by the sandbox".into()),
                other => return Err(format!("unknown statement {other:?}")),
            }
            if !matches!(self.peek(), None | Some(Tok::Punct("}"))) {
                self.expect(";")?;
            }
        }
        if !saw_fields {
            // IGDB answers only ids when no fields are named.
            q.fields = Some(vec!["id".into()]);
        }
        Ok(q)
    }

    fn uint(&mut self) -> Result<usize, String> {
        match self.next() {
            Some(Tok::Num(n)) if n >= 0.0 && n.fract() == 0.0 && n < 1e15 => Ok(n as usize),
            t => Err(format!("expected a non-negative integer, found {t:?}")),
        }
    }

    fn field_list(&mut self) -> Result<Option<Vec<String>>, String> {
        if self.eat("*") {
            return Ok(None);
        }
        let mut v = vec![];
        loop {
            let f = self.ident()?;
            if f.ends_with('.') && self.eat("*") {
                v.push(f.trim_end_matches('.').to_string());
            } else {
                v.push(f);
            }
            if !self.eat(",") {
                break;
            }
        }
        Ok(Some(v))
    }

    fn or_expr(&mut self) -> Result<Expr, String> {
        let mut e = self.and_expr()?;
        while self.eat("|") {
            e = Expr::Or(Box::new(e), Box::new(self.and_expr()?));
        }
        Ok(e)
    }
    fn and_expr(&mut self) -> Result<Expr, String> {
        let mut e = self.unary()?;
        while self.eat("&") {
            e = Expr::And(Box::new(e), Box::new(self.unary()?));
        }
        Ok(e)
    }
    fn unary(&mut self) -> Result<Expr, String> {
        if self.eat("!") {
            self.deeper()?;
            let e = Expr::Not(Box::new(self.unary()?));
            self.depth -= 1;
            return Ok(e);
        }
        if self.eat("(") {
            self.deeper()?;
            let e = self.or_expr()?;
            self.expect(")")?;
            self.depth -= 1;
            return Ok(e);
        }
        self.terms += 1;
        if self.terms > MAX_TERMS {
            return Err(format!("the where clause holds more than {MAX_TERMS} comparisons"));
        }
        let field = self.ident()?;
        let op = match self.next() {
            Some(Tok::Punct("=")) => Op::Eq,
            Some(Tok::Punct("!=")) => Op::Ne,
            Some(Tok::Punct(">")) => Op::Gt,
            Some(Tok::Punct(">=")) => Op::Ge,
            Some(Tok::Punct("<")) => Op::Lt,
            Some(Tok::Punct("<=")) => Op::Le,
            t => return Err(format!("expected an operator after {field:?}, found {t:?}")),
        };
        let lit = self.lit()?;
        Ok(Expr::Cmp(field, op, lit))
    }
    fn lit(&mut self) -> Result<Lit, String> {
        let close = match self.next() {
            Some(Tok::Num(n)) => return Ok(Lit::Num(n)),
            Some(Tok::Str(s)) => return Ok(Lit::Str(s)),
            Some(Tok::Ident(s)) if s == "null" => return Ok(Lit::Null),
            Some(Tok::Ident(s)) if s == "true" => return Ok(Lit::Bool(true)),
            Some(Tok::Ident(s)) if s == "false" => return Ok(Lit::Bool(false)),
            Some(Tok::Punct("(")) => ")",
            Some(Tok::Punct("[")) => "]",
            Some(Tok::Punct("{")) => "}",
            t => return Err(format!("expected a value, found {t:?}")),
        };
        self.deeper()?;
        let mut items = vec![];
        if !self.eat(close) {
            loop {
                items.push(self.lit()?);
                if self.eat(close) {
                    break;
                }
                self.expect(",")?;
            }
        }
        self.depth -= 1;
        Ok(match close {
            ")" => Lit::Any(items),
            "]" => Lit::All(items),
            _ => Lit::Exact(items),
        })
    }
}

/// Parses a single-endpoint query body.
pub fn parse(body: &str) -> Result<Query, String> {
    let mut p = Parser::new(body)?;
    let q = p.body()?;
    if p.pos < p.toks.len() {
        return Err(format!("unexpected {:?}", p.peek()));
    }
    Ok(q)
}

/// Parses a multiquery body (1..=10 named queries).
pub fn parse_multi(body: &str) -> Result<Vec<NamedQuery>, String> {
    let mut p = Parser::new(body)?;
    let mut out = vec![];
    while p.peek().is_some() {
        if p.eat(";") {
            continue;
        }
        let kw = p.ident()?;
        if kw != "query" {
            return Err(format!("expected `query`, found {kw:?}"));
        }
        let ep = p.ident()?;
        let name = match p.next() {
            Some(Tok::Str(s)) => s,
            t => return Err(format!("expected a quoted query name, found {t:?}")),
        };
        p.expect("{")?;
        let query = p.body()?;
        p.expect("}")?;
        let (endpoint, count) = match ep.strip_suffix("/count") {
            Some(e) => (e.to_string(), true),
            None => (ep, false),
        };
        out.push(NamedQuery { endpoint, count, name, query });
    }
    if out.is_empty() {
        return Err("multiquery holds no query".into());
    }
    if out.len() > MAX_MULTI {
        return Err(format!("multiquery allows at most {MAX_MULTI} queries, got {}", out.len()));
    }
    Ok(out)
}

impl Expr {
    /// `true` when the expression reads no field but `id` (then rows need not be parsed).
    pub fn only_id(&self) -> bool {
        match self {
            Expr::And(a, b) | Expr::Or(a, b) => a.only_id() && b.only_id(),
            Expr::Not(a) => a.only_id(),
            Expr::Cmp(f, _, _) => f == "id",
        }
    }

    /// The id range `[lo, hi]` that the top-level conjunction confines matches to.
    pub fn id_bounds(&self) -> (u64, u64) {
        match self {
            Expr::And(a, b) => {
                let (l1, h1) = a.id_bounds();
                let (l2, h2) = b.id_bounds();
                (l1.max(l2), h1.min(h2))
            }
            Expr::Cmp(f, op, Lit::Num(n)) if f == "id" => {
                let n = *n;
                match op {
                    Op::Gt if n < 0.0 => (0, u64::MAX),
                    Op::Gt => (n.floor() as u64 + 1, u64::MAX),
                    Op::Ge if n <= 0.0 => (0, u64::MAX),
                    Op::Ge => (n.ceil() as u64, u64::MAX),
                    Op::Lt if n <= 0.0 => (1, 0),
                    Op::Lt => (0, (n.ceil() as u64).saturating_sub(1)),
                    Op::Le if n < 0.0 => (1, 0),
                    Op::Le => (0, n.floor() as u64),
                    Op::Eq if n >= 0.0 && n.fract() == 0.0 => (n as u64, n as u64),
                    Op::Eq => (1, 0),
                    Op::Ne => (0, u64::MAX),
                }
            }
            _ => (0, u64::MAX),
        }
    }

    /// Evaluates the expression on one object.
    pub fn eval(&self, row: &Map<String, Value>) -> bool {
        match self {
            Expr::And(a, b) => a.eval(row) && b.eval(row),
            Expr::Or(a, b) => a.eval(row) || b.eval(row),
            Expr::Not(a) => !a.eval(row),
            Expr::Cmp(f, op, lit) => cmp(row.get(f.as_str()), *op, lit),
        }
    }
}

fn scalar_eq(v: &Value, l: &Lit) -> bool {
    match (v, l) {
        (Value::Number(n), Lit::Num(x)) => n.as_f64().is_some_and(|f| f == *x),
        (Value::String(s), Lit::Str(x)) => s == x,
        (Value::Bool(b), Lit::Bool(x)) => b == x,
        (Value::Null, Lit::Null) => true,
        _ => false,
    }
}

fn order(v: &Value, l: &Lit) -> Option<std::cmp::Ordering> {
    match (v, l) {
        (Value::Number(n), Lit::Num(x)) => n.as_f64()?.partial_cmp(x),
        (Value::String(s), Lit::Str(x)) => Some(s.as_str().cmp(x.as_str())),
        _ => None,
    }
}

fn cmp(v: Option<&Value>, op: Op, lit: &Lit) -> bool {
    use std::cmp::Ordering::*;
    let v = match v {
        None | Some(Value::Null) => {
            return match (op, lit) {
                (Op::Eq, Lit::Null) => true,
                (Op::Ne, Lit::Null) => false,
                (Op::Ne, _) => true,
                _ => false,
            };
        }
        Some(v) => v,
    };
    let items: &[Value] = match v {
        Value::Array(a) => a,
        other => std::slice::from_ref(other),
    };
    let has = |l: &Lit| items.iter().any(|x| scalar_eq(x, l));
    match (op, lit) {
        (Op::Eq, Lit::Null) => false,
        (Op::Ne, Lit::Null) => true,
        (Op::Eq, Lit::Any(ls)) => ls.iter().any(has),
        (Op::Ne, Lit::Any(ls)) => !ls.iter().any(has),
        (Op::Eq, Lit::All(ls)) => ls.iter().all(has),
        (Op::Ne, Lit::All(ls)) => !ls.iter().all(has),
        (Op::Eq, Lit::Exact(ls)) => {
            ls.iter().all(has) && items.iter().all(|x| ls.iter().any(|l| scalar_eq(x, l)))
        }
        (Op::Ne, Lit::Exact(ls)) => {
            !(ls.iter().all(has) && items.iter().all(|x| ls.iter().any(|l| scalar_eq(x, l))))
        }
        (Op::Eq, l) => has(l),
        (Op::Ne, l) => !has(l),
        (_, Lit::Any(_) | Lit::All(_) | Lit::Exact(_) | Lit::Null) => false,
        (op, l) => items.iter().any(|x| {
            let o = order(x, l);
            match op {
                Op::Gt => o == Some(Greater),
                Op::Ge => matches!(o, Some(Greater | Equal)),
                Op::Lt => o == Some(Less),
                Op::Le => matches!(o, Some(Less | Equal)),
                Op::Eq | Op::Ne => false,
            }
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn row(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn parses_a_keyset_page() {
        let q =
            parse("fields id,name,genres; where id > 1000 & version_parent = null; sort id asc; limit 500;")
                .unwrap();
        assert_eq!(q.fields, Some(vec!["id".into(), "name".into(), "genres".into()]));
        assert_eq!(q.sort, Some(("id".into(), true)));
        assert_eq!(q.limit, 500);
        assert_eq!(q.filter.as_ref().map(|f| f.id_bounds()), Some((1001, u64::MAX)));
    }

    #[test]
    fn rejects_limit_above_500_and_garbage() {
        assert!(parse("fields *; limit 501;").unwrap_err().contains("limit"));
        assert!(parse("fields *; limit 0;").is_err());
        assert!(parse("fields *; where id >;").is_err());
        assert!(parse("fields *; frobnicate 3;").is_err());
        assert!(parse("fields *; where name = \"open").is_err());
    }

    #[test]
    fn defaults_and_star() {
        let q = parse("fields *;").unwrap();
        assert_eq!((q.fields, q.limit, q.offset), (None, 10, 0));
        let q = parse("").unwrap();
        assert_eq!(q.fields, Some(vec!["id".into()]));
    }

    #[test]
    fn where_semantics_table() {
        let g = row(json!({"id": 7, "genres": [5, 8], "themes": [42], "name": "Doom", "rating": 80.5}));
        let cases = [
            ("id = 7", true),
            ("id != 7", false),
            ("id >= 7 & id <= 7", true),
            ("id > 7 | name = \"Doom\"", true),
            ("genres = 5", true),
            ("genres = (1, 8)", true),
            ("genres = (1, 2)", false),
            ("genres != (1, 2)", true),
            ("genres = [5, 8]", true),
            ("genres = [5, 9]", false),
            ("genres = {5, 8}", true),
            ("genres = {5}", false),
            ("themes != (42)", false),
            ("version_parent = null", true),
            ("version_parent != null", false),
            ("name != null", true),
            ("rating > 80", true),
            ("rating < 80", false),
            ("missing > 3", false),
            ("missing != 3", true),
            ("!(id = 7)", false),
            ("(id = 1 | id = 7) & genres = 8", true),
            ("id = 1 | id = 2 & id = 7", false),
        ];
        for (w, want) in cases {
            let q = parse(&format!("fields *; where {w};")).unwrap();
            assert_eq!(q.filter.unwrap().eval(&g), want, "where {w}");
        }
    }

    #[test]
    fn id_bounds_from_conjunctions() {
        let b = |w: &str| parse(&format!("where {w};")).unwrap().filter.unwrap().id_bounds();
        assert_eq!(b("id > 10 & id < 20"), (11, 19));
        assert_eq!(b("id >= 10 & id <= 20 & genres = 5"), (10, 20));
        assert_eq!(b("id > -1"), (0, u64::MAX));
        assert_eq!(b("id > 10 | id < 5"), (0, u64::MAX));
        assert_eq!(b("id = 4"), (4, 4));
    }

    #[test]
    fn deep_or_huge_queries_are_errors_not_stack_overflows() {
        // 100,000 `!`s or `(`s used to recurse once each and overflow the stack.
        for deep in [
            format!("fields id; where {}id = 1;", "!".repeat(100_000)),
            format!("fields id; where {}id = 1;", "(".repeat(100_000)),
            format!("fields id; where genres = {}1;", "(".repeat(100_000)),
        ] {
            let e = parse(&deep).unwrap_err();
            assert!(e.contains("nested deeper than") || e.contains("query is larger than"), "{e}");
            let e = parse_multi(&format!("query games \"a\" {{ {deep} }};")).unwrap_err();
            assert!(e.contains("nested deeper than") || e.contains("query is larger than"), "{e}");
        }
        // Under the size limit, the depth limit answers.
        let e = parse(&format!("where {}id = 1;", "!".repeat(1000))).unwrap_err();
        assert!(e.contains(&format!("nested deeper than {MAX_DEPTH}")), "{e}");
        let e = parse(&format!("where {}id = 1{};", "(".repeat(1000), ")".repeat(1000))).unwrap_err();
        assert!(e.contains(&format!("nested deeper than {MAX_DEPTH}")), "{e}");
        let e = parse(&format!("where genres = {}1{};", "[".repeat(1000), "]".repeat(1000))).unwrap_err();
        assert!(e.contains(&format!("nested deeper than {MAX_DEPTH}")), "{e}");
        // A long flat chain builds a deep tree too: the number of comparisons is capped.
        let chain = vec!["id > 1"; 5000].join(" & ");
        let e = parse(&format!("where {chain};")).unwrap_err();
        assert!(e.contains(&format!("more than {MAX_TERMS} comparisons")), "{e}");
        // The size limit itself.
        let e = parse(&format!("fields {};", "a,".repeat(MAX_QUERY_BYTES))).unwrap_err();
        assert!(e.contains(&format!("query is larger than {MAX_QUERY_BYTES} bytes")), "{e}");
        // What the fetch client sends stays well inside the limits.
        let nested = format!("where {}id = 1{};", "(".repeat(MAX_DEPTH - 1), ")".repeat(MAX_DEPTH - 1));
        assert!(parse(&nested).is_ok());
        assert!(parse(&format!("where {};", vec!["id > 1"; MAX_TERMS].join(" & "))).is_ok());
    }

    #[test]
    fn a_backslash_before_a_multibyte_char_is_that_char() {
        let q = parse("where name = \"\\é\";").unwrap();
        assert_eq!(q.filter, Some(Expr::Cmp("name".into(), Op::Eq, Lit::Str("é".into()))));
        let q = parse("where name = \"a\\\"b\\\\ü\";").unwrap();
        assert_eq!(q.filter, Some(Expr::Cmp("name".into(), Op::Eq, Lit::Str("a\"b\\ü".into()))));
        assert!(parse("where name = \"\\").unwrap_err().contains("unterminated"));
    }

    #[test]
    fn multiquery() {
        let m = parse_multi(
            "query games \"p1\" { fields *; where id > 0; sort id asc; limit 500; };\n\
             query games/count \"n\" { where id > 0; };",
        )
        .unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!((m[0].endpoint.as_str(), m[0].count, m[0].name.as_str()), ("games", false, "p1"));
        assert!(m[1].count);
        let eleven: String =
            (0..11).map(|i| format!("query games \"p{i}\" {{ fields id; }};")).collect::<Vec<_>>().join("");
        assert!(parse_multi(&eleven).unwrap_err().contains("at most 10"));
        assert!(parse_multi("").is_err());
    }
}
