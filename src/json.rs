//! JSON text exactly as hat-event reads and writes it.
//!
//! hat-event reads payload text with Python's `json.loads(text)` and
//! writes it with `json.dumps(value, allow_nan=False)` and its defaults:
//! `", "` and `": "` separators, ASCII-only output (`\uXXXX` escapes,
//! surrogate pairs above U+FFFF), Python's float repr, integers of any
//! size as written, object members in order.
//!
//! [`Document`] reads what `json.loads` reads, without recursion: the text
//! becomes a flat list of nodes in text order (a container records where
//! its descendants end), each string and number kept as the text
//! `json.dumps` writes for it. So a string may hold what Rust strings
//! cannot (lone surrogate escapes such as `"\ud800"`, which Python keeps and
//! writes back as they are), parsing, writing, comparing, cloning and
//! dropping use no stack that depends on the input, and memory stays within
//! a small multiple of the text length (at most 24 bytes a node, a node for
//! each value of at least one byte of text, and token text at most six
//! times as long as the text it was read from). Nesting has no limit other
//! than memory; Python's `json` stops near its recursion limit (about 1,000
//! levels), so everything hat-event writes is read.
//!
//! Python's grammar for `str` input, exactly: whitespace is space, tab,
//! line feed and carriage return; strings refuse raw control characters
//! (U+0000..U+001F; DEL and non-ASCII are taken as they are); escapes are
//! `\" \\ \/ \b \f \n \r \t` and `\uXXXX` (hex digits of either case), an
//! escaped high surrogate followed by an escaped low one is one character
//! and any other surrogate escape is kept alone; numbers are
//! `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?` (without a fraction or
//! exponent an int of any size, else a double, infinite beyond its range),
//! and `NaN`, `Infinity` and `-Infinity` are read; an object member name
//! given twice keeps its first position and takes the last value (a
//! Python dict). Values `json.dumps(allow_nan=False)` refuses to write
//! (NaN, the infinities and numbers beyond a double) are read and held, and
//! writing them fails, as in hat-event.
//!
//! **Differs** from Python: integers of more than 4,300 digits are read
//! (Python 3.11 refuses them by default, `sys.set_int_max_str_digits`),
//! and NaN compares equal to NaN (Python compares two NaNs read separately
//! unequal; here a payload always equals its copy).

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::Write;
use std::sync::Arc;

use serde_json::{Number, Value};

use crate::error::{Error, Result};

/// A JSON payload's value, kept as the text hat-event writes for it
/// (`json.dumps`): what the SBS wire carries and C reads, so encoding is a
/// copy and decoding what hat-event wrote is one validating pass
/// (`is_canonical`) without building anything. Other text is parsed
/// ([`Document`]) and written the way `json.dumps` writes it.
#[derive(Clone, Debug)]
pub struct JsonPayload(JsonRepr);

#[derive(Clone, Debug)]
enum JsonRepr {
    /// Short text in place: a decoded event's payload is then one
    /// allocation (its `Arc<EventPayload>`), not two.
    Inline(InlineText),
    /// Shared: cloning a payload (not only its `Arc`) copies no bytes.
    Text(Arc<str>),
    /// A value Python holds but cannot write (NaN, an infinity, a number
    /// beyond a double, which Python reads as infinity): kept parsed, and
    /// writing it fails as it fails in hat-event.
    Unwritable(Arc<Document>),
}

/// Text of at most [`INLINE_TEXT`] bytes, always UTF-8 (only
/// [`JsonRepr::written`] makes one, from a `str` or from canonical text,
/// which is ASCII).
#[derive(Clone, Debug)]
struct InlineText {
    len: u8,
    bytes: [u8; INLINE_TEXT],
}

/// The longest text kept in place: as many bytes as an `EventPayload` of
/// 64 bytes holds (16 more than without inline text). 62 bytes hold a
/// value, a quality and a timestamp as benches/compare.py's typical event
/// (56 bytes).
const INLINE_TEXT: usize = 62;

impl InlineText {
    #[inline(always)]
    fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

impl JsonRepr {
    /// Written text: in place when short. `text` must be UTF-8 (ASCII when
    /// it comes from canonical text).
    #[inline(always)]
    fn written(text: &[u8], shared: impl FnOnce() -> Arc<str>) -> JsonRepr {
        if text.len() <= INLINE_TEXT {
            JsonRepr::inline(text)
        } else {
            JsonRepr::Text(shared())
        }
    }

    /// `text`, UTF-8 of at most [`INLINE_TEXT`] bytes, in place.
    #[inline(always)]
    fn inline(text: &[u8]) -> JsonRepr {
        let mut bytes = [0; INLINE_TEXT];
        bytes[..text.len()].copy_from_slice(text);
        JsonRepr::Inline(InlineText { len: text.len() as u8, bytes })
    }

    fn from_string(text: String) -> JsonRepr {
        JsonRepr::written(text.as_bytes(), || text.as_str().into())
    }
}

impl JsonPayload {
    /// From JSON text holding exactly one value (any formatting; see the
    /// module docs for the grammar, which is Python's).
    pub fn from_text(text: &str) -> Result<JsonPayload> {
        if is_canonical(text.as_bytes()) {
            return Ok(JsonPayload(JsonRepr::written(text.as_bytes(), || text.into())));
        }
        JsonPayload::rewritten(text)
    }

    /// From wire bytes that are text hat-event writes (canonical, so
    /// ASCII): no UTF-8 check, no parse. `None` for anything else, which
    /// the caller checks as UTF-8 and reads with [`from_text`](Self::from_text).
    #[inline(always)]
    pub(crate) fn from_canonical_bytes(bytes: &[u8]) -> Option<JsonPayload> {
        if !is_canonical(bytes) {
            return None;
        }
        if bytes.len() <= INLINE_TEXT {
            return Some(JsonPayload(JsonRepr::inline(bytes)));
        }
        // Canonical text is ASCII: the check cannot fail.
        let text = std::str::from_utf8(bytes).ok()?;
        Some(JsonPayload(JsonRepr::Text(text.into())))
    }

    /// Text that is not canonical, parsed and written as `json.dumps` writes it.
    fn rewritten(text: &str) -> Result<JsonPayload> {
        let document = Document::parse(text)?;
        let mut out = String::with_capacity(text.len() + text.len() / 8);
        Ok(match document.write(Document::ROOT, &mut out) {
            Ok(()) => JsonPayload(JsonRepr::from_string(out)),
            Err(_) => JsonPayload(JsonRepr::Unwritable(Arc::new(document))),
        })
    }

    /// From a value built in Rust (written with [`to_python_json`]).
    pub fn from_value(value: Value) -> JsonPayload {
        match to_python_json(&value) {
            Ok(text) => JsonPayload(JsonRepr::from_string(text)),
            // A number beyond a double: serde_json writes it as it holds it,
            // and its text is JSON, which the reader reads (so the fallback
            // is never taken).
            Err(_) => match serde_json::to_string(&value).ok().and_then(|text| Document::parse(&text).ok()) {
                Some(document) => JsonPayload(JsonRepr::Unwritable(Arc::new(document))),
                None => JsonPayload(JsonRepr::from_string("null".into())),
            },
        }
    }

    /// The value of `node` of `document` (the JSON form reads a payload's
    /// `"data"` member this way, without writing and parsing it again).
    pub(crate) fn from_document(document: &Document, node: usize) -> JsonPayload {
        let mut out = String::new();
        match document.write(node, &mut out) {
            Ok(()) => JsonPayload(JsonRepr::from_string(out)),
            Err(_) => JsonPayload(JsonRepr::Unwritable(Arc::new(document.subtree(node)))),
        }
    }

    /// The text `json.dumps` writes; an error for a value it cannot write
    /// (NaN, an infinity, a number beyond a double).
    pub fn text(&self) -> Result<&str> {
        match &self.0 {
            // UTF-8 by construction: the check cannot fail.
            JsonRepr::Inline(inline) => {
                std::str::from_utf8(inline.as_bytes()).map_err(|_| Error::InvalidJson("not UTF-8".into()))
            }
            JsonRepr::Text(text) => Ok(text),
            JsonRepr::Unwritable(document) => Err(Self::unwritable(document)),
        }
    }

    /// [`text`](Self::text) as bytes, without the UTF-8 check a short
    /// text's `&str` takes in safe code (SBS encoding, C copies).
    #[inline]
    pub fn text_bytes(&self) -> Result<&[u8]> {
        match &self.0 {
            JsonRepr::Inline(inline) => Ok(inline.as_bytes()),
            JsonRepr::Text(text) => Ok(text.as_bytes()),
            JsonRepr::Unwritable(document) => Err(Self::unwritable(document)),
        }
    }

    #[cold]
    fn unwritable(document: &Document) -> Error {
        document
            .write(Document::ROOT, &mut String::new())
            .err()
            .unwrap_or_else(|| Error::InvalidJson("the value cannot be written as JSON".into()))
    }

    /// The parsed value (member order and big integers preserved) as a
    /// `serde_json::Value`, which cannot hold everything a payload can:
    /// an error for strings with lone surrogate escapes, NaN and the
    /// infinities, and nesting deeper than [`VALUE_MAX_DEPTH`] levels
    /// (a `Value` is dropped recursively).
    pub fn value(&self) -> Result<Value> {
        self.document()?.to_value(Document::ROOT)
    }

    /// The payload parsed.
    pub fn document(&self) -> Result<Cow<'_, Document>> {
        match &self.0 {
            JsonRepr::Unwritable(document) => Ok(Cow::Borrowed(document)),
            _ => Document::parse(self.text()?).map(Cow::Owned),
        }
    }
}

/// Python's `==` on the values (see [`Document::python_eq`]); equal texts
/// need no parse.
impl PartialEq for JsonPayload {
    fn eq(&self, other: &JsonPayload) -> bool {
        if let (Ok(a), Ok(b)) = (self.text_bytes(), other.text_bytes()) {
            if a == b {
                return true;
            }
        }
        match (self.document(), other.document()) {
            (Ok(a), Ok(b)) => Document::python_eq(&a, Document::ROOT, &b, Document::ROOT),
            _ => false,
        }
    }
}

/// Text as `json.dumps(json.loads(text), allow_nan=False)` gives it, always
/// through the full parser (what [`JsonPayload::from_text`] does for text
/// that `is_canonical` does not accept).
pub fn rewrite(text: &str) -> Result<String> {
    let mut out = String::with_capacity(text.len());
    Document::parse(text)?.write(Document::ROOT, &mut out)?;
    Ok(out)
}

/// The most nested arrays and objects [`JsonPayload::value`] builds.
pub const VALUE_MAX_DEPTH: usize = 128;

/// At most 64 bytes of `text` for an error message (cut at a character
/// boundary), with the length of the whole when it is cut.
pub(crate) fn bounded(text: &str) -> String {
    const MAX: usize = 64;
    if text.len() <= MAX {
        return text.to_owned();
    }
    let mut cut = MAX;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}... ({} bytes)", &text[..cut], text.len())
}

// ---------------------------------------------------------------------------
// The document

/// A JSON value read as Python's `json.loads` reads it (see the module
/// docs), as a flat list of nodes in text order: node [`Document::ROOT`]
/// is the value, a container's descendants follow it, an object's members
/// as name then value. No method recurses on the input (except
/// [`Document::to_value`], bounded by [`VALUE_MAX_DEPTH`]).
#[derive(Clone, Debug, Default)]
pub struct Document {
    nodes: Vec<Node>,
    /// The text `json.dumps` writes for each string (quotes and escapes
    /// included) and number, one after another in node order.
    tokens: String,
}

#[derive(Clone, Copy, Debug)]
struct Span {
    start: usize,
    len: usize,
}

#[derive(Clone, Copy, Debug)]
enum Node {
    Null,
    Bool(bool),
    /// Digits, a leading `-` unless zero.
    Int(Span),
    /// Python's repr of a finite double.
    Float(Span),
    /// `NaN`, `Infinity`, `-Infinity` or a number beyond a double, as read.
    NonFinite(Span),
    /// A string, quoted and escaped as `json.dumps` writes it.
    Str(Span),
    /// `end`: the index after the last descendant; `len`: the items.
    Array {
        end: usize,
        len: usize,
    },
    /// `len`: the distinct member names; `duplicates`: some name is given
    /// more than once (the first position takes the last value).
    Object {
        end: usize,
        len: usize,
        duplicates: bool,
    },
}

/// A number as Python compares it (a bool is an int there).
enum Num<'a> {
    Int(&'a str),
    Float(&'a str),
    Infinity { negative: bool },
    NaN,
}

impl Document {
    /// The index of the whole value.
    pub const ROOT: usize = 0;

    /// Reads JSON text holding exactly one value (whitespace around it
    /// allowed), as Python's `json.loads` does. Errors give the byte offset
    /// (and line and column) of the fault.
    pub fn parse(text: &str) -> Result<Document> {
        Parser { text, bytes: text.as_bytes(), at: 0, doc: Document::default(), open: Vec::new() }.run()
    }

    fn token(&self, span: Span) -> &str {
        &self.tokens[span.start..span.start + span.len]
    }

    /// The index after `node` and its descendants.
    fn end(&self, node: usize) -> usize {
        match self.nodes[node] {
            Node::Array { end, .. } | Node::Object { end, .. } => end,
            _ => node + 1,
        }
    }

    /// Whether `node` is `null`.
    pub fn is_null(&self, node: usize) -> bool {
        matches!(self.nodes.get(node), Some(Node::Null))
    }

    /// The value of a `true` or `false` node.
    pub fn as_bool(&self, node: usize) -> Option<bool> {
        match self.nodes.get(node) {
            Some(Node::Bool(b)) => Some(*b),
            _ => None,
        }
    }

    /// The digits of an int node (text without a fraction or exponent).
    pub fn int_text(&self, node: usize) -> Option<&str> {
        match self.nodes.get(node) {
            Some(Node::Int(span)) => Some(self.token(*span)),
            _ => None,
        }
    }

    /// A string node as `json.dumps` writes it (quoted, escaped).
    pub fn string_text(&self, node: usize) -> Option<&str> {
        match self.nodes.get(node) {
            Some(Node::Str(span)) => Some(self.token(*span)),
            _ => None,
        }
    }

    /// A string node's characters; `Err` with the first lone surrogate
    /// (which Rust strings cannot hold) when it has one.
    pub fn string(&self, node: usize) -> Option<std::result::Result<String, u16>> {
        self.string_text(node).map(unescape)
    }

    /// The items of an array node.
    pub fn array_items(&self, node: usize) -> Option<Vec<usize>> {
        let Some(&Node::Array { len, .. }) = self.nodes.get(node) else {
            return None;
        };
        let mut items = Vec::with_capacity(len);
        let mut item = node + 1;
        for _ in 0..len {
            items.push(item);
            item = self.end(item);
        }
        Some(items)
    }

    /// The members of an object node as Python's dict holds them: (name as
    /// `json.dumps` writes it, value node), a name given twice at its first
    /// position with its last value.
    pub fn object_members(&self, node: usize) -> Option<Vec<(&str, usize)>> {
        let Some(&Node::Object { end, len, duplicates }) = self.nodes.get(node) else {
            return None;
        };
        let mut members: Vec<(&str, usize)> = Vec::with_capacity(len);
        let mut at: HashMap<&str, usize> = HashMap::new();
        let mut name = node + 1;
        while name < end {
            let Node::Str(span) = self.nodes[name] else { unreachable!("an object member starts with its name") };
            let key = self.token(span);
            let value = name + 1;
            name = self.end(value);
            if duplicates {
                if let Some(&i) = at.get(key) {
                    members[i].1 = value;
                    continue;
                }
                at.insert(key, members.len());
            }
            members.push((key, value));
        }
        Some(members)
    }

    /// Writes `node` as `json.dumps(value, allow_nan=False)` does; an error
    /// (`out` then holds part of the text) for NaN, an infinity or a number
    /// beyond a double, which Python refuses too.
    pub fn write(&self, node: usize, out: &mut String) -> Result<()> {
        /// A container being written: its next child, or (for an object
        /// with a name given twice) its members as Python's dict holds them.
        enum Frame<'d> {
            Items { next: usize, end: usize, object: bool, first: bool },
            Members { members: Vec<(&'d str, usize)>, next: usize },
        }
        let mut stack: Vec<Frame<'_>> = Vec::new();
        let mut node = node;
        loop {
            match self.nodes[node] {
                Node::Null => out.push_str("null"),
                Node::Bool(true) => out.push_str("true"),
                Node::Bool(false) => out.push_str("false"),
                Node::Int(span) | Node::Float(span) | Node::Str(span) => out.push_str(self.token(span)),
                Node::NonFinite(span) => return Err(unwritable(self.token(span))),
                Node::Array { len: 0, .. } => out.push_str("[]"),
                Node::Object { len: 0, .. } => out.push_str("{}"),
                Node::Array { end, .. } => {
                    out.push('[');
                    stack.push(Frame::Items { next: node + 1, end, object: false, first: true });
                }
                Node::Object { end, duplicates: false, .. } => {
                    out.push('{');
                    stack.push(Frame::Items { next: node + 1, end, object: true, first: true });
                }
                Node::Object { duplicates: true, .. } => {
                    out.push('{');
                    let members = self.object_members(node).unwrap_or_default();
                    stack.push(Frame::Members { members, next: 0 });
                }
            }
            // The next node to write, closing finished containers.
            node = loop {
                let Some(frame) = stack.last_mut() else {
                    return Ok(());
                };
                match frame {
                    Frame::Items { next, end, object, first } => {
                        if next == end {
                            out.push(if *object { '}' } else { ']' });
                            stack.pop();
                            continue;
                        }
                        if !*first {
                            out.push_str(", ");
                        }
                        *first = false;
                        let mut value = *next;
                        if *object {
                            out.push_str(self.string_text(value).unwrap_or_default());
                            out.push_str(": ");
                            value += 1;
                        }
                        *next = self.end(value);
                        break value;
                    }
                    Frame::Members { members, next } => {
                        let Some(&(name, value)) = members.get(*next) else {
                            out.push('}');
                            stack.pop();
                            continue;
                        };
                        if *next > 0 {
                            out.push_str(", ");
                        }
                        *next += 1;
                        out.push_str(name);
                        out.push_str(": ");
                        break value;
                    }
                }
            };
        }
    }

    /// Python's `==` on the values `json.loads` makes of `a`'s node `x`
    /// and `b`'s node `y`: numbers by numeric value (`1 == 1.0`, `0.0 ==
    /// -0.0`, `1E5 == 100000.0`, `true == 1`; an int and a float exactly,
    /// as Python compares them), objects regardless of member order (names
    /// given twice resolved as Python resolves them), everything else
    /// structurally. NaN equals NaN (see the module docs).
    pub fn python_eq(a: &Document, x: usize, b: &Document, y: usize) -> bool {
        let mut work = vec![(x, y)];
        while let Some((x, y)) = work.pop() {
            let equal = match (a.nodes[x], b.nodes[y]) {
                (Node::Null, Node::Null) => true,
                (Node::Str(s), Node::Str(t)) => a.token(s) == b.token(t),
                (Node::Array { len: n, .. }, Node::Array { len: m, .. }) => {
                    if n == m {
                        let (mut i, mut j) = (x + 1, y + 1);
                        for _ in 0..n {
                            work.push((i, j));
                            i = a.end(i);
                            j = b.end(j);
                        }
                    }
                    n == m
                }
                (Node::Object { len: n, .. }, Node::Object { len: m, .. }) => {
                    n == m && {
                        let ours = a.object_members(x).unwrap_or_default();
                        let theirs = b.object_members(y).unwrap_or_default();
                        let index: Option<HashMap<&str, usize>> =
                            (theirs.len() > 16).then(|| theirs.iter().copied().collect());
                        ours.iter().all(|&(name, value)| {
                            let found = match &index {
                                Some(index) => index.get(name).copied(),
                                None => theirs.iter().find(|(n, _)| *n == name).map(|&(_, v)| v),
                            };
                            found.map(|other| work.push((value, other))).is_some()
                        })
                    }
                }
                (p, q) => match (a.number(p), b.number(q)) {
                    (Some(u), Some(v)) => num_eq(&u, &v),
                    _ => false,
                },
            };
            if !equal {
                return false;
            }
        }
        true
    }

    fn number(&self, node: Node) -> Option<Num<'_>> {
        Some(match node {
            Node::Bool(b) => Num::Int(if b { "1" } else { "0" }),
            Node::Int(span) => Num::Int(self.token(span)),
            Node::Float(span) => Num::Float(self.token(span)),
            Node::NonFinite(span) => match self.token(span) {
                "NaN" => Num::NaN,
                text => Num::Infinity { negative: text.starts_with('-') },
            },
            _ => return None,
        })
    }

    /// `node` and its descendants as a document of their own.
    pub fn subtree(&self, node: usize) -> Document {
        let end = self.end(node);
        let nodes = &self.nodes[node..end];
        let span = |n: &Node| match *n {
            Node::Int(s) | Node::Float(s) | Node::NonFinite(s) | Node::Str(s) => Some(s),
            _ => None,
        };
        // Tokens are stored in node order: the subtree's are one run.
        let first = nodes.iter().find_map(span).map_or(0, |s| s.start);
        let last = nodes.iter().rev().find_map(span).map_or(first, |s| s.start + s.len);
        let moved = |s: Span| Span { start: s.start - first, len: s.len };
        Document {
            nodes: nodes
                .iter()
                .map(|n| match *n {
                    Node::Int(s) => Node::Int(moved(s)),
                    Node::Float(s) => Node::Float(moved(s)),
                    Node::NonFinite(s) => Node::NonFinite(moved(s)),
                    Node::Str(s) => Node::Str(moved(s)),
                    Node::Array { end, len } => Node::Array { end: end - node, len },
                    Node::Object { end, len, duplicates } => Node::Object { end: end - node, len, duplicates },
                    other => other,
                })
                .collect(),
            tokens: self.tokens[first..last].to_owned(),
        }
    }

    /// `node` as a `serde_json::Value` (see [`JsonPayload::value`] for
    /// what it cannot hold).
    pub fn to_value(&self, node: usize) -> Result<Value> {
        self.value_at(node, 0)
    }

    // Recursion bounded by VALUE_MAX_DEPTH.
    fn value_at(&self, node: usize, depth: usize) -> Result<Value> {
        let cannot = |what: String| Error::InvalidJson(format!("a serde_json::Value cannot hold {what}"));
        Ok(match self.nodes[node] {
            Node::Null => Value::Null,
            Node::Bool(b) => Value::Bool(b),
            Node::Int(span) | Node::Float(span) | Node::NonFinite(span) => {
                let text = self.token(span);
                Value::Number(text.parse::<Number>().map_err(|_| cannot(format!("the number {}", bounded(text))))?)
            }
            Node::Str(span) => Value::String(unescape(self.token(span)).map_err(|unit| {
                cannot(format!("the lone surrogate \\u{unit:04x} of the string {}", bounded(self.token(span))))
            })?),
            Node::Array { .. } | Node::Object { .. } if depth >= VALUE_MAX_DEPTH => {
                return Err(cannot(format!("more than {VALUE_MAX_DEPTH} nested arrays and objects")));
            }
            Node::Array { .. } => Value::Array(
                self.array_items(node)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|item| self.value_at(item, depth + 1))
                    .collect::<Result<_>>()?,
            ),
            Node::Object { .. } => Value::Object(
                self.object_members(node)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(name, value)| {
                        let name = unescape(name).map_err(|unit| {
                            cannot(format!("the lone surrogate \\u{unit:04x} of the member name {}", bounded(name)))
                        })?;
                        Ok((name, self.value_at(value, depth + 1)?))
                    })
                    .collect::<Result<_>>()?,
            ),
        })
    }
}

/// Why a number `json.dumps(allow_nan=False)` refuses cannot be written.
fn unwritable(text: &str) -> Error {
    Error::InvalidJson(match text {
        "NaN" | "Infinity" | "-Infinity" => {
            format!("{text} cannot be written as JSON (hat-event writes with allow_nan=False)")
        }
        _ => format!(
            "number {} is out of the range of a double and cannot be written as JSON (Python reads it as infinity)",
            bounded(text)
        ),
    })
}

fn num_eq(u: &Num<'_>, v: &Num<'_>) -> bool {
    match (u, v) {
        (Num::Int(x) | Num::Float(x), Num::Int(y) | Num::Float(y)) => numbers_eq(x, y),
        (Num::Infinity { negative: a }, Num::Infinity { negative: b }) => a == b,
        (Num::NaN, Num::NaN) => true,
        _ => false,
    }
}

/// The characters of a string token as [`Document`] keeps it (quoted,
/// escaped as `json.dumps` escapes); `Err` with the first lone surrogate.
pub(crate) fn unescape(token: &str) -> std::result::Result<String, u16> {
    let inner = token.get(1..token.len().saturating_sub(1)).unwrap_or("");
    if !inner.contains('\\') {
        return Ok(inner.to_owned());
    }
    let b = inner.as_bytes();
    let unit = |at: usize| {
        b.get(at..at + 4)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u16::from_str_radix(h, 16).ok())
            .unwrap_or(0xfffd)
    };
    let mut out = String::with_capacity(inner.len());
    let mut i = 0;
    while i < b.len() {
        let run = i;
        while i < b.len() && b[i] != b'\\' {
            i += 1;
        }
        out.push_str(&inner[run..i]);
        if i + 1 >= b.len() {
            break;
        }
        i += 2;
        match b[i - 1] {
            b'n' => out.push('\n'),
            b'r' => out.push('\r'),
            b't' => out.push('\t'),
            b'b' => out.push('\u{8}'),
            b'f' => out.push('\u{c}'),
            b'u' => {
                let first = unit(i);
                i += 4;
                let c = if (0xd800..0xdc00).contains(&first) && b.get(i..i + 2) == Some(b"\\u") {
                    let second = unit(i + 2);
                    if !(0xdc00..0xe000).contains(&second) {
                        return Err(first);
                    }
                    i += 6;
                    0x10000 + ((u32::from(first) - 0xd800) << 10) + (u32::from(second) - 0xdc00)
                } else {
                    u32::from(first)
                };
                out.push(char::from_u32(c).ok_or(first)?);
            }
            other => out.push(char::from(other)), // \" \\ (and \/, never kept)
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------
// The parser

/// An array or object not yet closed.
struct Open {
    node: usize,
    len: usize,
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
    doc: Document,
    open: Vec<Open>,
}

impl Parser<'_> {
    fn run(mut self) -> Result<Document> {
        self.skip_whitespace();
        'value: loop {
            // A value starts at `self.at`.
            match self.bytes.get(self.at) {
                Some(b'[') => {
                    self.open_container(Node::Array { end: 0, len: 0 });
                    if self.bytes.get(self.at) == Some(&b']') {
                        self.at += 1;
                        self.close();
                    } else {
                        continue 'value;
                    }
                }
                Some(b'{') => {
                    self.open_container(Node::Object { end: 0, len: 0, duplicates: false });
                    if self.bytes.get(self.at) == Some(&b'}') {
                        self.at += 1;
                        self.close();
                    } else {
                        self.member_name()?;
                        continue 'value;
                    }
                }
                Some(b'"') => {
                    let span = self.string()?;
                    self.doc.nodes.push(Node::Str(span));
                }
                Some(b'-' | b'0'..=b'9') => self.number()?,
                Some(b'n') => self.literal("null", Node::Null)?,
                Some(b't') => self.literal("true", Node::Bool(true))?,
                Some(b'f') => self.literal("false", Node::Bool(false))?,
                Some(b'N') => self.non_finite("NaN")?,
                Some(b'I') => self.non_finite("Infinity")?,
                _ => return Err(self.error(self.at, "expected a JSON value")),
            }
            // A value is complete: what follows it.
            loop {
                let Some(top) = self.open.last_mut() else {
                    self.skip_whitespace();
                    if self.at != self.bytes.len() {
                        return Err(self.error(self.at, "extra data after the JSON value"));
                    }
                    return Ok(self.doc);
                };
                top.len += 1;
                let object = matches!(self.doc.nodes[top.node], Node::Object { .. });
                self.skip_whitespace();
                match self.bytes.get(self.at) {
                    Some(b',') => {
                        self.at += 1;
                        self.skip_whitespace();
                        if object {
                            self.member_name()?;
                        }
                        continue 'value;
                    }
                    Some(b']') if !object => {
                        self.at += 1;
                        self.close();
                    }
                    Some(b'}') if object => {
                        self.at += 1;
                        self.close();
                    }
                    _ if object => return Err(self.error(self.at, "expected ',' or '}' after an object member")),
                    _ => return Err(self.error(self.at, "expected ',' or ']' after an array item")),
                }
            }
        }
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.bytes.get(self.at), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    /// Opens the container at `self.at` and skips the whitespace after it.
    fn open_container(&mut self, node: Node) {
        self.open.push(Open { node: self.doc.nodes.len(), len: 0 });
        self.doc.nodes.push(node);
        self.at += 1;
        self.skip_whitespace();
    }

    fn close(&mut self) {
        let Some(Open { node, len }) = self.open.pop() else {
            return;
        };
        let end = self.doc.nodes.len();
        self.doc.nodes[node] = match self.doc.nodes[node] {
            Node::Object { .. } => {
                let distinct = self.distinct_names(node, end, len);
                Node::Object { end, len: distinct, duplicates: distinct != len }
            }
            _ => Node::Array { end, len },
        };
    }

    /// How many distinct names the `len` members of the object `node`
    /// (closed at `end`) have.
    fn distinct_names(&self, node: usize, end: usize, len: usize) -> usize {
        let doc = &self.doc;
        let name = |n: usize| match doc.nodes[n] {
            Node::Str(span) => doc.token(span),
            _ => "",
        };
        if len < 2 {
            return len;
        }
        let mut names = Vec::with_capacity(len);
        let mut n = node + 1;
        while n < end {
            names.push(name(n));
            n = doc.end(n + 1);
        }
        if len <= 16 {
            (0..names.len()).filter(|&i| !names[..i].contains(&names[i])).count()
        } else {
            names.iter().collect::<std::collections::HashSet<_>>().len()
        }
    }

    /// A member name and the `:` after it (whitespace skipped around it).
    fn member_name(&mut self) -> Result<()> {
        if self.bytes.get(self.at) != Some(&b'"') {
            return Err(self.error(self.at, "expected a member name in double quotes"));
        }
        let span = self.string()?;
        self.doc.nodes.push(Node::Str(span));
        self.skip_whitespace();
        if self.bytes.get(self.at) != Some(&b':') {
            return Err(self.error(self.at, "expected ':' after a member name"));
        }
        self.at += 1;
        self.skip_whitespace();
        Ok(())
    }

    fn literal(&mut self, word: &str, node: Node) -> Result<()> {
        if !self.bytes[self.at..].starts_with(word.as_bytes()) {
            return Err(self.error(self.at, "expected a JSON value"));
        }
        self.at += word.len();
        self.doc.nodes.push(node);
        Ok(())
    }

    fn non_finite(&mut self, word: &str) -> Result<()> {
        if !self.bytes[self.at..].starts_with(word.as_bytes()) {
            return Err(self.error(self.at, "expected a JSON value"));
        }
        self.at += word.len();
        let span = self.push_token(word);
        self.doc.nodes.push(Node::NonFinite(span));
        Ok(())
    }

    fn push_token(&mut self, text: &str) -> Span {
        let start = self.doc.tokens.len();
        self.doc.tokens.push_str(text);
        Span { start, len: text.len() }
    }

    fn number(&mut self) -> Result<()> {
        let b = self.bytes;
        let start = self.at;
        let mut i = start;
        if b[i] == b'-' {
            i += 1;
            if b[i..].starts_with(b"Infinity") {
                self.at = start;
                return self.non_finite("-Infinity");
            }
        }
        let digits = |i: &mut usize| {
            while b.get(*i).is_some_and(u8::is_ascii_digit) {
                *i += 1;
            }
        };
        match b.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => digits(&mut i),
            _ => return Err(self.error(start, "expected a JSON value")),
        }
        let mut float = false;
        // As Python's scanner: a '.' or exponent without digits after it is
        // not part of the number (and then fails as unexpected text).
        if b.get(i) == Some(&b'.') && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
            i += 1;
            digits(&mut i);
            float = true;
        }
        if matches!(b.get(i), Some(b'e' | b'E')) {
            let mut j = i + 1;
            if matches!(b.get(j), Some(b'+' | b'-')) {
                j += 1;
            }
            if b.get(j).is_some_and(u8::is_ascii_digit) {
                digits(&mut j);
                i = j;
                float = true;
            }
        }
        self.at = i;
        let text = &self.text[start..i];
        let node = if !float {
            Node::Int(self.push_token(if text == "-0" { "0" } else { text }))
        } else {
            match text.parse::<f64>() {
                Ok(f) if f.is_finite() => {
                    let start = self.doc.tokens.len();
                    write_float(&mut self.doc.tokens, f);
                    Node::Float(Span { start, len: self.doc.tokens.len() - start })
                }
                _ => Node::NonFinite(self.push_token(text)),
            }
        };
        self.doc.nodes.push(node);
        Ok(())
    }

    /// The string starting at `self.at`, stored as `json.dumps` writes it.
    fn string(&mut self) -> Result<Span> {
        let b = self.bytes;
        let opening = self.at;
        let start = self.doc.tokens.len();
        let tokens = &mut self.doc.tokens;
        tokens.push('"');
        let mut i = opening + 1;
        loop {
            let run = i;
            while b.get(i).is_some_and(|&c| (0x20..=0x7e).contains(&c) && c != b'"' && c != b'\\') {
                i += 1;
            }
            tokens.push_str(&self.text[run..i]);
            match b.get(i) {
                None => {
                    return Err(self.error(opening, "unterminated string starting"));
                }
                Some(b'"') => {
                    i += 1;
                    break;
                }
                Some(b'\\') => {
                    match b.get(i + 1) {
                        Some(b'"') => tokens.push_str("\\\""),
                        Some(b'\\') => tokens.push_str("\\\\"),
                        Some(b'/') => tokens.push('/'),
                        Some(b'b') => tokens.push_str("\\b"),
                        Some(b'f') => tokens.push_str("\\f"),
                        Some(b'n') => tokens.push_str("\\n"),
                        Some(b'r') => tokens.push_str("\\r"),
                        Some(b't') => tokens.push_str("\\t"),
                        Some(b'u') => {
                            let Some(unit) = hex4(b, i + 2) else {
                                return Err(self.bad_unicode_escape(i));
                            };
                            i += 6;
                            if (0xd800..0xdc00).contains(&unit) && b.get(i..i + 2) == Some(b"\\u") {
                                // Python reads the next escape at once: a
                                // low surrogate joins; any other unit is
                                // read again on its own.
                                let Some(next) = hex4(b, i + 2) else {
                                    return Err(self.bad_unicode_escape(i));
                                };
                                if (0xdc00..0xe000).contains(&next) {
                                    let _ = write!(tokens, "\\u{unit:04x}\\u{next:04x}");
                                    i += 6;
                                    continue;
                                }
                            }
                            push_unit(tokens, unit);
                            continue;
                        }
                        Some(_) => {
                            let escape = self.text[i + 1..].chars().next().unwrap_or_default();
                            return Err(self.error(i, &format!("invalid escape '\\{}'", escape.escape_debug())));
                        }
                        None => return Err(self.error(opening, "unterminated string starting")),
                    }
                    i += 2;
                }
                Some(&c) if c < 0x20 => {
                    return Err(self.error(i, &format!("invalid control character U+{c:04X} in a string")));
                }
                Some(_) => {
                    // DEL or the first byte of a non-ASCII character (the
                    // text is UTF-8 and `i` is at a character boundary).
                    let c = self.text[i..].chars().next().unwrap_or_default();
                    let mut units = [0u16; 2];
                    for unit in c.encode_utf16(&mut units) {
                        let _ = write!(tokens, "\\u{unit:04x}");
                    }
                    i += c.len_utf8();
                }
            }
        }
        tokens.push('"');
        self.at = i;
        Ok(Span { start, len: self.doc.tokens.len() - start })
    }

    fn bad_unicode_escape(&self, at: usize) -> Error {
        let digits: String = self.text[at + 2..].chars().take(4).collect();
        self.error(
            at,
            &format!("invalid \\uXXXX escape '\\u{}' (four hexadecimal digits must follow \\u)", digits.escape_debug()),
        )
    }

    /// An error at byte `at` (with line, column and what is found there).
    fn error(&self, at: usize, what: &str) -> Error {
        let before = &self.text[..at];
        let line = before.bytes().filter(|&c| c == b'\n').count() + 1;
        let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
        let found = match self.text[at..].chars().next() {
            Some(c) => format!("'{}'", c.escape_debug()),
            None => "the end of the text".to_owned(),
        };
        Error::InvalidJson(format!(
            "{what} at byte {at} (line {line}, column {column}; found {found}) of {} bytes of text",
            self.text.len()
        ))
    }
}

/// Four hexadecimal digits (either case) at `at`.
fn hex4(b: &[u8], at: usize) -> Option<u16> {
    let digits = b.get(at..at + 4)?;
    digits.iter().try_fold(0u16, |acc, &d| Some(acc * 16 + (d as char).to_digit(16)? as u16))
}

/// One UTF-16 unit as `json.dumps` (ensure_ascii) writes it.
fn push_unit(out: &mut String, unit: u16) {
    match unit {
        0x22 => out.push_str("\\\""),
        0x5c => out.push_str("\\\\"),
        0x08 => out.push_str("\\b"),
        0x0c => out.push_str("\\f"),
        0x0a => out.push_str("\\n"),
        0x0d => out.push_str("\\r"),
        0x09 => out.push_str("\\t"),
        0x20..=0x7e => out.push(char::from(unit as u8)),
        _ => {
            let _ = write!(out, "\\u{unit:04x}");
        }
    }
}

// ---------------------------------------------------------------------------
// Values built in Rust

/// `json.dumps(value, allow_nan=False)` of a value built in Rust. Numbers
/// too large for a double (Python reads `1e400` as infinity) are refused,
/// as Python refuses them. Recursive: for values built locally (a parsed
/// `serde_json::Value` is at most 128 levels deep).
pub fn to_python_json(value: &Value) -> Result<String> {
    let mut out = String::new();
    write_value(&mut out, value)?;
    Ok(out)
}

fn is_int(text: &str) -> bool {
    !text.contains(['.', 'e', 'E'])
}

/// The canonical digits of an integer text: no sign on zero.
fn int_digits(text: &str) -> &str {
    if text == "-0" {
        "0"
    } else {
        text
    }
}

/// The exact integer a float holds, as digits; None if it has a fraction or
/// is not finite.
fn float_as_int(f: f64) -> Option<String> {
    (f.is_finite() && f.fract() == 0.0).then(|| {
        let digits = format!("{f:.0}");
        if digits == "-0" {
            "0".to_owned()
        } else {
            digits
        }
    })
}

fn numbers_eq(x: &str, y: &str) -> bool {
    // Python parses float text to the nearest double, as Rust does.
    let float = |t: &str| t.parse::<f64>().unwrap_or(f64::NAN);
    match (is_int(x), is_int(y)) {
        (true, true) => int_digits(x) == int_digits(y),
        (false, false) => float(x) == float(y),
        (true, false) => float_as_int(float(y)).is_some_and(|d| d == int_digits(x)),
        (false, true) => float_as_int(float(x)).is_some_and(|d| d == int_digits(y)),
    }
}

fn write_value(out: &mut String, value: &Value) -> Result<()> {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => write_number(out, n)?,
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_value(out, item)?;
            }
            out.push(']');
        }
        Value::Object(members) => {
            out.push('{');
            for (i, (key, item)) in members.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_string(out, key);
                out.push_str(": ");
                write_value(out, item)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

fn write_number(out: &mut String, n: &Number) -> Result<()> {
    // With arbitrary_precision the number keeps its JSON text; Python
    // reads text without '.', 'e' or 'E' as an int (any size), else a float.
    let text = n.as_str();
    if !text.contains(['.', 'e', 'E']) {
        // Python prints ints without a sign on zero and without leading zeros
        // (JSON allows neither leading zeros nor '+', so only "-0" differs).
        out.push_str(if text == "-0" { "0" } else { text });
        return Ok(());
    }
    let f: f64 = text.parse().map_err(|_| Error::InvalidJson(format!("invalid number {text}")))?;
    if !f.is_finite() {
        return Err(Error::InvalidJson(format!("number {text} is out of the range of a double")));
    }
    write_float(out, f);
    Ok(())
}

/// Python's `float.__repr__`: the shortest digits that round-trip, in
/// fixed notation for exponents -4..=15 (with `.0` for integral values) and
/// scientific notation otherwise (`1e+16`, `1.5e-05`).
pub(crate) fn write_float(out: &mut String, f: f64) {
    if f == 0.0 {
        out.push_str(if f.is_sign_negative() { "-0.0" } else { "0.0" });
        return;
    }
    // Rust's `{:e}` gives the shortest round-trip digits, but from 16 digits
    // on it may pick a candidate other than the closest one (or, on an exact
    // tie, the odd one), where Python's repr takes the closest (ties to an
    // even digit): printing that many digits in exact mode gives that one.
    let mut sci = StackText::default();
    let _ = write!(sci, "{f:e}");
    let digit_count = sci.as_str().split('e').next().unwrap_or("").bytes().filter(u8::is_ascii_digit).count();
    if digit_count >= 16 {
        // Python picks the closest round-tripping candidate; near a power of
        // two the closest one may round to the neighbouring double, and then
        // the shortest-mode digits are the only candidate.
        let mut exact = StackText::default();
        let _ = write!(exact, "{:.*e}", digit_count - 1, f);
        if exact.as_str().parse::<f64>() == Ok(f) {
            sci = exact;
        }
    }
    let (mantissa, exp) = sci.as_str().split_once('e').expect("{:e} has an exponent");
    let exp: i32 = exp.parse().expect("{:e} exponent is an integer");
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let mut digit_buf = [0u8; 24];
    let mut n = 0;
    for d in mantissa.bytes().filter(u8::is_ascii_digit) {
        digit_buf[n] = d;
        n += 1;
    }
    // ASCII digits only.
    let digits = std::str::from_utf8(&digit_buf[..n]).unwrap_or("0");
    write_repr_layout(out, sign, digits, exp);
}

/// Python's float repr layout of `sign` `0.`-less significant `digits`
/// (first one non-zero, no trailing zeros) times 10^`exp` (of the first
/// digit): fixed notation for exponents -4..=15, scientific otherwise.
fn write_repr_layout(out: &mut impl Write, sign: &str, digits: &str, exp: i32) {
    const ZEROS: &str = "0000000000000000";
    let _ = out.write_str(sign);
    if (-4..16).contains(&exp) {
        let point = exp + 1; // digits before the decimal point
        let _ = if point <= 0 {
            out.write_str("0.").and(out.write_str(&ZEROS[..(-point) as usize])).and(out.write_str(digits))
        } else if point as usize >= digits.len() {
            out.write_str(digits).and(out.write_str(&ZEROS[..point as usize - digits.len()])).and(out.write_str(".0"))
        } else {
            let (int, frac) = digits.split_at(point as usize);
            out.write_str(int).and(out.write_str(".")).and(out.write_str(frac))
        };
    } else {
        let _ = out.write_str(&digits[..1]);
        if digits.len() > 1 {
            let _ = out.write_str(".").and(out.write_str(&digits[1..]));
        }
        let _ = write!(out, "e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs());
    }
}

/// Formatting space on the stack: a float's `{:e}` text is at most 24 bytes.
#[derive(Default)]
struct StackText {
    buf: [u8; 32],
    len: usize,
}

impl StackText {
    fn as_str(&self) -> &str {
        // Only `write_str` fills it, with whole UTF-8 strings.
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or("")
    }
}

impl Write for StackText {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        self.buf.get_mut(self.len..end).ok_or(std::fmt::Error)?.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// Nesting beyond which [`is_canonical`] leaves the decision to the full
/// parser ([`Document`], which has no depth limit): the check recurses.
const CANONICAL_MAX_DEPTH: usize = 100;

/// Whether `text` is already exactly what [`to_python_json`] writes for the
/// value it holds: valid JSON, `", "` and `": "` separators and no other
/// whitespace, escapes and `\uXXXX` (lowercase) only where `json.dumps`
/// puts them, integers without `-0`, floats in Python repr, no duplicate
/// member names. Conservative: `false` means "parse and rewrite it", never
/// "invalid". One pass, no tree: what hat-event (and this library) write
/// is accepted without building a value.
pub(crate) fn is_canonical(text: &[u8]) -> bool {
    let mut at = 0;
    canonical_value(text, &mut at, 0) && at == text.len()
}

fn canonical_value(b: &[u8], at: &mut usize, depth: usize) -> bool {
    match b.get(*at) {
        Some(b'n') => canonical_literal(b, at, b"null"),
        Some(b't') => canonical_literal(b, at, b"true"),
        Some(b'f') => canonical_literal(b, at, b"false"),
        Some(b'"') => canonical_string(b, at),
        Some(b'-' | b'0'..=b'9') => canonical_number(b, at),
        Some(b'[') if depth < CANONICAL_MAX_DEPTH => {
            *at += 1;
            if b.get(*at) == Some(&b']') {
                *at += 1;
                return true;
            }
            loop {
                if !canonical_member(b, at, depth + 1) {
                    return false;
                }
                if b.get(*at) == Some(&b']') {
                    *at += 1;
                    return true;
                }
                if b.get(*at..*at + 2) != Some(b", ") {
                    return false;
                }
                *at += 2;
            }
        }
        Some(b'{') if depth < CANONICAL_MAX_DEPTH => {
            *at += 1;
            if b.get(*at) == Some(&b'}') {
                *at += 1;
                return true;
            }
            // Member names seen, to refuse duplicates (Python keeps the
            // last value, so the text would change): canonical names are
            // equal exactly when their texts are.
            // (start, end) of each, half the stack a slice each would take.
            let mut names = [(0u32, 0u32); 32];
            let mut count = 0;
            loop {
                let start = *at;
                if b.get(*at) != Some(&b'"') || !canonical_string(b, at) {
                    return false;
                }
                let name = &b[start..*at];
                if count == names.len()
                    || names[..count].iter().any(|&(s, e)| b[s as usize..e as usize] == *name)
                    || u32::try_from(*at).is_err()
                {
                    return false; // a duplicate; or a large object, left to the parser
                }
                names[count] = (start as u32, *at as u32);
                count += 1;
                if b.get(*at..*at + 2) != Some(b": ") {
                    return false;
                }
                *at += 2;
                if !canonical_member(b, at, depth + 1) {
                    return false;
                }
                if b.get(*at) == Some(&b'}') {
                    *at += 1;
                    return true;
                }
                if b.get(*at..*at + 2) != Some(b", ") {
                    return false;
                }
                *at += 2;
            }
        }
        _ => false,
    }
}

/// [`canonical_value`] for a member of an array or object: strings and
/// numbers, most members, without a recursive call.
#[inline(always)]
fn canonical_member(b: &[u8], at: &mut usize, depth: usize) -> bool {
    match b.get(*at) {
        Some(b'"') => canonical_string(b, at),
        Some(b'-' | b'0'..=b'9') => canonical_number(b, at),
        _ => canonical_value(b, at, depth),
    }
}

fn canonical_literal(b: &[u8], at: &mut usize, word: &[u8]) -> bool {
    let ok = b.get(*at..*at + word.len()) == Some(word);
    *at += word.len();
    ok
}

/// Four lowercase hex digits at `at`.
fn lower_hex4(b: &[u8], at: usize) -> Option<u32> {
    let digits = b.get(at..at + 4)?;
    digits.iter().try_fold(0u32, |acc, &d| {
        let v = match d {
            b'0'..=b'9' => d - b'0',
            b'a'..=b'f' => d - b'a' + 10,
            _ => return None,
        };
        Some(acc * 16 + u32::from(v))
    })
}

/// The high bit of each byte of `x` (little-endian) that a canonical
/// string does not hold as it is: a quote, a backslash, a control
/// character, DEL or a non-ASCII byte. Exact, byte by byte: no carry
/// crosses a byte, as each sum is of seven-bit values.
#[inline(always)]
fn special_bytes(x: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = ONES * 0x80;
    let low = x & !HIGH;
    let printable = (low + ONES * 0x60) & !(low + ONES) & HIGH; // 0x20..=0x7e
    let not_quote = ((low ^ (ONES * u64::from(b'"'))) + ONES * 0x7f) & HIGH;
    let not_backslash = ((low ^ (ONES * u64::from(b'\\'))) + ONES * 0x7f) & HIGH;
    !(printable & not_quote & not_backslash & !x) & HIGH
}

// Inlined into its three callers: a call cost a fifth of a short string.
#[inline(always)]
fn canonical_string(b: &[u8], at: &mut usize) -> bool {
    // A local index (kept in a register), written back once at the end.
    let mut i = *at + 1; // past the opening quote
    let ok = loop {
        // Eight bytes at a time up to the first that is not plain.
        if let Some(chunk) = b.get(i..).and_then(<[u8]>::first_chunk::<8>) {
            let special = special_bytes(u64::from_le_bytes(*chunk));
            i += (special.trailing_zeros() / 8) as usize;
            if special == 0 {
                continue;
            }
        }
        match b.get(i) {
            // First: where the scan of a chunk stops, most often.
            Some(b'"') => {
                i += 1;
                break true;
            }
            // raw control characters, DEL and non-ASCII are escaped by json.dumps
            Some(&c) if (0x20..=0x7e).contains(&c) && c != b'\\' => i += 1,
            Some(b'\\') => match b.get(i + 1) {
                Some(b'"' | b'\\' | b'n' | b'r' | b't' | b'b' | b'f') => i += 2,
                Some(b'u') => {
                    let Some(unit) = lower_hex4(b, i + 2) else {
                        break false;
                    };
                    i += 6;
                    match unit {
                        // printable ASCII is written as itself; these five have short escapes
                        0x20..=0x7e | 0x08 | 0x09 | 0x0a | 0x0c | 0x0d => break false,
                        0xd800..=0xdbff if b.get(i..i + 2) == Some(b"\\u") => {
                            // a pair, or (when the next escape is not a low
                            // surrogate) a lone high surrogate, which
                            // json.dumps writes as it is
                            match lower_hex4(b, i + 2) {
                                Some(0xdc00..=0xdfff) => i += 6,
                                Some(_) => {}
                                None => break false,
                            }
                        }
                        // any other surrogate is lone: written as it is
                        _ => {}
                    }
                }
                _ => break false,
            },
            _ => break false,
        }
    };
    *at = i;
    ok
}

// Inlined into its callers, as canonical_string: the call and its frame
// cost more than the digits of a short number (decode of the benchmark
// event 2,658 -> 2,619 instructions, an array of five numbers 1,088 -> 995).
#[inline(always)]
fn canonical_number(b: &[u8], at: &mut usize) -> bool {
    let start = *at;
    // A local index (kept in a register), written back on success (on
    // failure the whole check fails, wherever it stopped).
    let mut i = *at;
    let digits = |i: &mut usize| {
        let from = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i > from
    };
    if b.get(i) == Some(&b'-') {
        i += 1;
    }
    let int_start = i;
    if !digits(&mut i) || (b[int_start] == b'0' && i - int_start > 1) {
        return false;
    }
    let int_end = i;
    let mut frac = None;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let frac_start = i;
        if !digits(&mut i) {
            return false;
        }
        frac = Some(&b[frac_start..i]);
    }
    let has_exponent = matches!(b.get(i), Some(b'e' | b'E'));
    if has_exponent {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if !digits(&mut i) {
            return false;
        }
    }
    *at = i;
    let token = &b[start..i];
    if !has_exponent {
        match frac {
            None => return token != b"-0", // Python writes the int -0 as 0
            Some(frac) => {
                if let Some(canonical) = fixed_float_is_repr(&b[int_start..int_end], frac) {
                    return canonical;
                }
            }
        }
    }
    if let Some(canonical) = float_token_is_repr(token) {
        return canonical;
    }
    // ASCII by construction.
    let Ok(f) = std::str::from_utf8(token).unwrap_or("").parse::<f64>() else {
        return false;
    };
    if !f.is_finite() {
        return false;
    }
    let mut repr = String::with_capacity(24);
    write_float(&mut repr, f);
    repr.as_bytes() == token
}

/// [`float_token_is_repr`] for the common layout, digits `int.frac`
/// without an exponent, decided from the two digit runs already scanned
/// (no second pass): `None` where that needs the general rule.
#[inline]
fn fixed_float_is_repr(int: &[u8], frac: &[u8]) -> Option<bool> {
    if frac == b"0" {
        // an integral value: repr writes "<int>.0" up to 16 integer digits
        // (15 significant digits and the shortcut's limit, to stay exact)
        return (int.len() <= 15).then_some(true);
    }
    if frac.last() == Some(&b'0') {
        return Some(false); // repr has no trailing zeros
    }
    let significant = if int == b"0" {
        // 0.000ddd: repr switches to an exponent below 1e-4
        let zeros = frac.iter().take_while(|&&c| c == b'0').count();
        if zeros > 3 {
            return Some(false);
        }
        frac.len() - zeros
    } else {
        if int.len() > 16 {
            return Some(false); // 1e16 and up have an exponent
        }
        int.len() + frac.len()
    };
    (significant <= 15).then_some(true)
}

/// Whether a JSON float token is Python's repr of its value, decided
/// without converting it when it has at most 15 significant digits and a
/// normal exponent: such a decimal is the only one of its length (or
/// shorter) that reads as its double (15 digits always round-trip), so it
/// is the repr's digits, and only the layout remains to compare. `None`:
/// decide by converting.
fn float_token_is_repr(token: &[u8]) -> Option<bool> {
    let body = token.strip_prefix(b"-").unwrap_or(token);
    let (mantissa, exponent) = match body.iter().position(|&c| c == b'e' || c == b'E') {
        Some(i) => (&body[..i], Some(&body[i..])),
        None => (body, None),
    };
    let (int_part, frac_part) = match mantissa.iter().position(|&c| c == b'.') {
        Some(i) => (&mantissa[..i], Some(&mantissa[i + 1..])),
        None => (mantissa, None),
    };
    let frac = frac_part.unwrap_or(b"");
    let e: i32 = match exponent {
        None => 0,
        Some(text) if text.len() <= 6 => std::str::from_utf8(&text[1..]).ok()?.parse().ok()?,
        Some(_) => return None,
    };
    let digit = |i: usize| if i < int_part.len() { int_part[i] } else { frac[i - int_part.len()] };
    let total = int_part.len() + frac.len();
    let Some(first) = (0..total).find(|&i| digit(i) != b'0') else {
        // zero: Python writes 0.0 and -0.0
        return Some(body == b"0.0");
    };
    let last = (0..total).rev().find(|&i| digit(i) != b'0')?;
    let exp = int_part.len() as i32 - 1 - first as i32 + e;
    if last - first + 1 > 15 || !(-307..=308).contains(&exp) {
        return None;
    }
    // The digits are the repr's; compare the layout.
    Some(if (-4..16).contains(&exp) {
        // fixed: no exponent; a fraction without trailing zeros, or ".0"
        // when every digit is in the integer part
        exponent.is_none()
            && match frac_part {
                Some(b"0") => last < int_part.len(),
                Some(f) => f.last().is_some_and(|&c| c != b'0'),
                None => false,
            }
    } else {
        // scientific: one non-zero digit, the rest after a point without
        // trailing zeros, then e, a sign and at least two exponent digits
        let exponent = exponent.unwrap_or(b"");
        let exp_digits = exponent.get(2..).unwrap_or(b"");
        int_part.len() == 1
            && first == 0
            && match frac_part {
                None => last == 0,
                Some(f) => f.last().is_some_and(|&c| c != b'0'),
            }
            && exponent.len() >= 4
            && exponent[0] == b'e'
            && (exponent[1] == b'+' || exponent[1] == b'-')
            && (exp_digits.len() == 2 || exp_digits[0] != b'0')
    })
}

/// A JSON string as `json.dumps` writes it (ASCII, Python's escapes).
pub(crate) fn write_string(out: &mut String, s: &str) {
    out.push('"');
    // Printable ASCII without quotes or backslashes goes out as it is.
    if s.bytes().all(|b| (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\') {
        out.push_str(s);
        out.push('"');
        return;
    }
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_bytes_flags_exactly_what_a_canonical_string_escapes() {
        for c in 0..=255u8 {
            let plain = (0x20..=0x7e).contains(&c) && c != b'"' && c != b'\\';
            for at in 0..8 {
                // the byte among plain ones, and among bytes that are all special
                for fill in [b'a', 0xff, 0x00, b'"'] {
                    let mut word = [fill; 8];
                    word[at] = c;
                    let special = special_bytes(u64::from_le_bytes(word));
                    assert_eq!(special & (0x80 << (8 * at)) == 0, plain, "byte {c:#x} at {at} among {fill:#x}");
                }
            }
        }
    }

    /// `json.dumps(json.loads(text), allow_nan=False)` through the parser.
    fn dumps(text: &str) -> String {
        rewrite(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn error(text: &str) -> String {
        match Document::parse(text) {
            Err(Error::InvalidJson(message)) => message,
            other => panic!("{text}: {other:?}"),
        }
    }

    // Expected values are Python 3.11's json.dumps(json.loads(text)).
    #[test]
    fn separators_and_member_order_follow_python() {
        assert_eq!(dumps(r#"{"b":1,"a":[1,2,{}],"c":{"x":null}}"#), r#"{"b": 1, "a": [1, 2, {}], "c": {"x": null}}"#);
        assert_eq!(dumps("[]"), "[]");
        assert_eq!(dumps("[true,false,null]"), "[true, false, null]");
    }

    #[test]
    fn floats_use_python_repr() {
        for (text, python) in [
            ("1.0", "1.0"),
            ("1e16", "1e+16"),
            ("1E15", "1000000000000000.0"),
            ("1e-05", "1e-05"),
            ("0.0001", "0.0001"),
            ("0.1", "0.1"),
            ("-0.0", "-0.0"),
            ("1.5e300", "1.5e+300"),
            ("123456789.125", "123456789.125"),
            ("2.5e-7", "2.5e-07"),
            ("1.7976931348623157e308", "1.7976931348623157e+308"),
            ("5e-324", "5e-324"),
            ("12345678901234567.0", "1.2345678901234568e+16"),
            ("100.0", "100.0"),
            // A tie at 17 digits: Python rounds half to even.
            ("26755133183000.8125", "26755133183000.812"),
            // Found by fuzzing: the closest 16 digits would not round-trip.
            ("5.444517870735016e+39", "5.444517870735016e+39"),
            ("5.960464477539063e-08", "5.960464477539063e-08"),
        ] {
            assert_eq!(dumps(text), python, "{text}");
        }
    }

    #[test]
    fn integers_keep_every_digit() {
        assert_eq!(dumps("123456789012345678901234567890"), "123456789012345678901234567890");
        assert_eq!(dumps("-9223372036854775809"), "-9223372036854775809");
        assert_eq!(dumps("-0"), "0");
    }

    #[test]
    fn strings_are_ascii_with_python_escapes() {
        assert_eq!(dumps(r#""a\"b\\c\/d""#), r#""a\"b\\c/d""#);
        assert_eq!(dumps("\"\\n\\r\\t\\b\\f\\u0001\\u001f\\u007f\""), r#""\n\r\t\b\f\u0001\u001f\u007f""#);
        assert_eq!(dumps("\"žé日\""), r#""\u017e\u00e9\u65e5""#);
        assert_eq!(dumps("\"😀\""), r#""\ud83d\ude00""#);
        assert_eq!(dumps(r#"{"ключ": 1}"#), r#"{"\u043a\u043b\u044e\u0447": 1}"#);
    }

    fn python_eq_texts(a: &str, b: &str) -> bool {
        let (a, b) = (Document::parse(a).unwrap(), Document::parse(b).unwrap());
        Document::python_eq(&a, Document::ROOT, &b, Document::ROOT)
    }

    #[test]
    fn equality_is_pythons() {
        for (a, b) in [
            ("0", "-0"),
            ("1E-5", "1e-05"),
            ("1e23", "100000000000000000000000.0"),
            ("1e400", "1e401"),
            ("1e400", "Infinity"),
            ("-1e400", "-Infinity"),
            ("NaN", "NaN"),
            ("2e-324", "0.0"),
            ("-0.0", "0.0"),
            ("1", "1.0"),
            ("0", "0.0"),
            // bool is an int in Python: True == 1 == 1.0
            ("1", "true"),
            ("false", "-0.0"),
            ("[true]", "[1.0]"),
            (r#"{"a": 1, "b": [2]}"#, r#"{"b": [2.0], "a": 1}"#),
            (r#""\u00e9\ud800""#, r#""\u00E9\uD800""#),
            (r#"{"a": 1, "a": 2}"#, r#"{"a": 2}"#),
        ] {
            assert!(python_eq_texts(a, b), "{a} == {b}");
            assert!(python_eq_texts(b, a), "{b} == {a}");
        }
        for (a, b) in [
            ("9007199254740993", "9007199254740992.0"),
            ("1", "1.5"),
            ("2", "true"),
            ("null", "false"),
            ("Infinity", "-Infinity"),
            ("NaN", "1e400"),
            ("[1, 2]", "[2, 1]"),
            ("[1]", "[1, 1]"),
            ("[]", "{}"),
            (r#"{"a": 1}"#, r#"{"a": 1, "b": 2}"#),
            (r#"{"a": 1, "a": 2}"#, r#"{"a": 1}"#),
            (r#"{"a": 1}"#, r#"{"b": 1}"#),
            (r#""1""#, "1"),
            (r#""\ud800""#, r#""\udc00""#),
        ] {
            assert!(!python_eq_texts(a, b), "{a} != {b}");
            assert!(!python_eq_texts(b, a), "{b} != {a}");
        }
    }

    #[test]
    fn large_objects_compare_regardless_of_member_order() {
        let members: Vec<String> = (0..100).map(|i| format!("\"k{i}\": [{i}]")).collect();
        let forward = format!("{{{}}}", members.join(", "));
        let backward = format!("{{{}}}", members.iter().rev().cloned().collect::<Vec<_>>().join(", "));
        assert!(python_eq_texts(&forward, &backward));
        let changed = backward.replace("[42]", "[43]");
        assert!(!python_eq_texts(&forward, &changed));
        let renamed = backward.replace("\"k42\"", "\"k-42\"");
        assert!(!python_eq_texts(&forward, &renamed));
    }

    // Expected values are Python 3.11's json.dumps(json.loads(text)).
    #[test]
    fn lone_surrogate_escapes_are_kept_and_pairs_joined() {
        for (text, python) in [
            (r#""x\ud800y""#, r#""x\ud800y""#),
            (r#""\udc00""#, r#""\udc00""#),
            (r#""\ud800""#, r#""\ud800""#),
            (r#""\ud800\u0041""#, r#""\ud800A""#),
            (r#""\udc00\ud800""#, r#""\udc00\ud800""#),
            (r#""\ud800\ud800\udc00""#, r#""\ud800\ud800\udc00""#),
            (r#""\uD83D\uDE00""#, r#""\ud83d\ude00""#),
            (r#""\ud83d\uDE00""#, r#""\ud83d\ude00""#),
            (r#""\ud800\n""#, r#""\ud800\n""#),
            ("\"\u{1F600}\"", r#""\ud83d\ude00""#),
            (r#"["\udbff", {"\udfff": "\ud800\ud800"}]"#, r#"["\udbff", {"\udfff": "\ud800\ud800"}]"#),
        ] {
            assert_eq!(dumps(text), python, "{text}");
            let payload = JsonPayload::from_text(text).unwrap();
            assert_eq!(payload.text().unwrap(), python, "{text}");
            assert!(is_canonical(python.as_bytes()), "{python}");
            assert_eq!(payload, JsonPayload::from_text(python).unwrap());
        }
        // Rust strings cannot hold them: an error, not a replacement.
        let payload = JsonPayload::from_text(r#"["a\ud800"]"#).unwrap();
        let message = payload.value().unwrap_err().to_string();
        assert!(message.contains("lone surrogate \\ud800"), "{message}");
        assert_eq!(unescape(r#""\ud83d\ude00\u00e9\n""#), Ok("\u{1F600}\u{e9}\n".to_owned()));
        assert_eq!(unescape(r#""ab\udc00""#), Err(0xdc00));
        assert_eq!(unescape(r#""\ud800\u0041""#), Err(0xd800));
    }

    #[test]
    fn every_escape_is_read_as_python_reads_it() {
        assert_eq!(
            dumps(r#""\"\\\/\b\f\n\r\t\u0041\u00E9\u001F\u007f\u0022\u005C\u002F""#),
            r#""\"\\/\b\f\n\r\tA\u00e9\u001f\u007f\"\\/""#
        );
        assert_eq!(dumps("\"\u{7f}\u{e9}\u{1F600}\""), r#""\u007f\u00e9\ud83d\ude00""#);
        assert_eq!(dumps(" \t\r\n[ 1 ,\n{ \"a\" :\ttrue } ] \n"), r#"[1, {"a": true}]"#);
    }

    #[test]
    fn what_python_refuses_is_refused_with_the_byte_offset() {
        for (text, needle) in [
            (r#""\u12""#, "invalid \\uXXXX escape '\\u12\\\"' (four hexadecimal digits must follow \\u) at byte 1"),
            (
                r#""\ud800\u12G4""#,
                "invalid \\uXXXX escape '\\u12G4' (four hexadecimal digits must follow \\u) at byte 7",
            ),
            (r#""\ud800\u""#, "invalid \\uXXXX escape"),
            (r#""\x""#, "invalid escape '\\x' at byte 1"),
            ("\"a\nb\"", "invalid control character U+000A in a string at byte 2"),
            ("\"a\u{1}\"", "invalid control character U+0001"),
            ("\"abc", "unterminated string starting at byte 0"),
            ("[1,]", "expected a JSON value at byte 3"),
            ("[1 2]", "expected ',' or ']' after an array item at byte 3"),
            ("{\"a\" 1}", "expected ':' after a member name at byte 5"),
            ("{\"a\": 1,}", "expected a member name in double quotes at byte 8"),
            ("{1: 2}", "expected a member name"),
            ("{\"a\": 1 \"b\"}", "expected ',' or '}'"),
            ("1 2", "extra data after the JSON value at byte 2"),
            ("", "expected a JSON value at byte 0 (line 1, column 1; found the end of the text) of 0 bytes"),
            (" ", "expected a JSON value at byte 1"),
            ("[1,\n  ]", "at byte 6 (line 2, column 3; found ']') of 7 bytes"),
            ("nul", "expected a JSON value"),
            ("-", "expected a JSON value"),
            ("-NaN", "expected a JSON value"),
            ("01", "extra data after the JSON value at byte 1"),
            ("1.", "extra data after the JSON value at byte 1"),
            ("1e", "extra data"),
            ("1e+", "extra data"),
            (".5", "expected a JSON value"),
            ("+1", "expected a JSON value"),
            ("'a'", "expected a JSON value"),
            ("\u{feff}1", "expected a JSON value at byte 0 (line 1, column 1; found '\\u{feff}')"),
            ("\u{a0}1", "expected a JSON value"),
            ("[1]]", "extra data"),
            ("é", "found 'é'"),
        ] {
            let message = error(text);
            assert!(message.contains(needle), "{text:?}: {message}");
        }
    }

    #[test]
    fn error_messages_quote_at_most_64_bytes() {
        let long = format!("\"{}\"", "ž".repeat(1000));
        let quoted = bounded(&long);
        assert!(quoted.len() <= 64 + 20 && quoted.ends_with("... (2002 bytes)"), "{quoted}");
        let payload = JsonPayload::from_text(&format!("[1{}e400]", "0".repeat(1000))).unwrap();
        let message = payload.text().unwrap_err().to_string();
        assert!(message.len() < 220 && message.contains("(1005 bytes)"), "{message}");
        // Parse errors quote one character.
        let message = error(&format!("[{}x", "1, ".repeat(10_000)));
        assert!(message.len() < 120 && message.contains("at byte 30001"), "{message}");
    }

    #[test]
    fn duplicate_names_keep_the_first_position_and_the_last_value() {
        assert_eq!(dumps(r#"{"a": 1, "b": 2, "a": 3}"#), r#"{"a": 3, "b": 2}"#);
        assert_eq!(dumps(r#"{"a": {"x": 1, "x": [2]}, "a": {"y": 1}, "a": {"z": 1, "z": 2}}"#), r#"{"a": {"z": 2}}"#);
        assert_eq!(
            dumps(r#"[{"\u00e9": 1, "é": 2}, {"a": [{"b": 1, "b": 2}], "c": 0}]"#),
            r#"[{"\u00e9": 2}, {"a": [{"b": 2}], "c": 0}]"#
        );
        // Many members (names compared through a hash set), one duplicate.
        let members: Vec<String> = (0..40).map(|i| format!("\"k{}\": {i}", i % 39)).collect();
        let text = format!("{{{}}}", members.join(", "));
        let expected: Vec<String> = (0..39).map(|i| format!("\"k{i}\": {}", if i == 0 { 39 } else { i })).collect();
        assert_eq!(dumps(&text), format!("{{{}}}", expected.join(", ")));
        let doc = Document::parse(&text).unwrap();
        assert_eq!(doc.object_members(Document::ROOT).unwrap().len(), 39);
        assert!(!is_canonical(br#"{"a": 1, "a": 2}"#));
    }

    /// `n` arrays (or objects, or both) nested: the text and what
    /// `json.dumps` writes for it.
    fn nested(n: usize, kind: usize) -> (String, String) {
        let mut text = String::with_capacity(8 * n);
        let mut written = String::with_capacity(8 * n);
        for i in 0..n {
            let (t, w) = match (kind + i) % 3 {
                0 => ("[", "["),
                1 => ("{\"a\":", "{\"a\": "),
                _ => ("[0,", "[0, "),
            };
            text.push_str(t);
            written.push_str(w);
        }
        let inner = if n.is_multiple_of(2) { "\"\\ud800\"" } else { "1.50" };
        text.push_str(inner);
        written.push_str(if n.is_multiple_of(2) { inner } else { "1.5" });
        for i in (0..n).rev() {
            let close = if (kind + i) % 3 == 1 { "}" } else { "]" };
            text.push_str(close);
            written.push_str(close);
        }
        (text, written)
    }

    #[test]
    fn any_depth_up_to_a_thousand_reads_writes_and_compares() {
        for depth in 1..=1000 {
            for kind in [0, 1] {
                let (text, written) = nested(depth, kind);
                assert_eq!(dumps(&text), written, "depth {depth}");
                let payload = JsonPayload::from_text(&text).unwrap();
                assert_eq!(payload.text().unwrap(), written, "depth {depth}");
                let canonical = JsonPayload::from_text(&written).unwrap();
                assert_eq!(payload, canonical, "depth {depth}");
                let (other, _) = nested(depth, kind + 1);
                assert!(payload != JsonPayload::from_text(&other).unwrap(), "depth {depth}");
            }
        }
        // A serde_json::Value is only made as deep as it can be dropped.
        let (text, _) = nested(VALUE_MAX_DEPTH, 0);
        let text = text.replace("\"\\ud800\"", "1");
        assert!(JsonPayload::from_text(&text).unwrap().value().is_ok());
        let (text, _) = nested(VALUE_MAX_DEPTH + 1, 0);
        let message = JsonPayload::from_text(&text).unwrap().value().unwrap_err().to_string();
        assert!(message.contains("more than 128 nested"), "{message}");
    }

    /// Nesting of 10^5 to 10^6 levels: no stack overflow in parsing,
    /// writing, comparing, cloning or dropping, and memory within a small
    /// multiple of the text.
    #[test]
    fn a_million_levels_use_no_stack_and_bounded_memory() {
        for depth in [100_000, 1_000_000] {
            for kind in [0, 1] {
                let (text, written) = nested(depth, kind);
                let doc = Document::parse(&text).unwrap();
                let held = doc.nodes.capacity() * std::mem::size_of::<Node>() + doc.tokens.capacity();
                assert!(held <= 64 * text.len(), "depth {depth}: {held} bytes for {} bytes of text", text.len());
                let mut out = String::new();
                doc.write(Document::ROOT, &mut out).unwrap();
                assert!(out == written, "depth {depth}");
                let copy = doc.clone();
                assert!(Document::python_eq(&doc, Document::ROOT, &copy, Document::ROOT));
                let payload = JsonPayload::from_text(&text).unwrap();
                assert!(payload == JsonPayload::from_text(&written).unwrap());
                assert!(payload.clone().text().unwrap() == written);
                assert!(JsonPayload::from_document(&doc, 1).text().is_ok());
                drop((doc, copy, payload));
            }
        }
        assert_eq!(std::mem::size_of::<Node>(), 24);
    }

    #[test]
    fn values_python_reads_but_cannot_write_are_held() {
        for (text, needle) in [
            ("NaN", "NaN cannot be written as JSON"),
            ("Infinity", "Infinity cannot be written"),
            ("-Infinity", "-Infinity cannot be written"),
            ("1e400", "number 1e400 is out of the range of a double"),
            ("-1E+999", "number -1E+999 is out of the range"),
            (r#"[1, {"a": [NaN]}]"#, "NaN cannot be written"),
            (r#"{"a": 1, "a": Infinity}"#, "Infinity cannot"),
        ] {
            let payload = JsonPayload::from_text(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            let message = payload.text().unwrap_err().to_string();
            assert!(message.contains(needle), "{text}: {message}");
            assert!(payload == payload.clone(), "{text}");
        }
        // A name given twice whose last value is writable: writable.
        assert_eq!(dumps(r#"{"a": NaN, "a": 1}"#), r#"{"a": 1}"#);
        assert_eq!(dumps("1e-400"), "0.0");
        assert_eq!(dumps("-0e99999999999999999999"), "-0.0");
        assert_eq!(dumps("1e-99999999999999999999"), "0.0");
        assert!(JsonPayload::from_text("1e99999999999999999999").unwrap().text().is_err());
        assert_eq!(JsonPayload::from_text("1e400").unwrap(), JsonPayload::from_text("Infinity").unwrap());
        assert!(JsonPayload::from_text("1e400").unwrap() != JsonPayload::from_text("-Infinity").unwrap());
        assert!(JsonPayload::from_text("[NaN]").unwrap().value().is_err());
        assert!(JsonPayload::from_text("[1e400]").unwrap().value().unwrap()[0].is_number());
        // from_value with a number beyond a double: held, not writable.
        let held = JsonPayload::from_value(serde_json::from_str("[1e400]").unwrap());
        assert!(held.text().is_err() && held == JsonPayload::from_text("[Infinity]").unwrap());
        // A subtree keeps its own tokens.
        let doc = Document::parse(r#"["x", [1.5, "\ud800", -1e999], "y"]"#).unwrap();
        let inner = doc.subtree(2);
        let mut out = String::new();
        assert!(inner.write(Document::ROOT, &mut out).is_err());
        assert_eq!(out, r#"[1.5, "\ud800", "#);
        assert!(
            JsonPayload::from_document(&doc, 2) == JsonPayload::from_text(r#"[1.50, "\ud800", -Infinity]"#).unwrap()
        );
    }

    #[test]
    fn canonical_texts_are_recognised_by_hand() {
        for text in [
            "null",
            "true",
            "0",
            "-1",
            "123456789012345678901234567890",
            "1.0",
            "-0.0",
            "1e+16",
            "1e-05",
            "0.1",
            r#""""#,
            r#""a/b""#,
            r#""\u00e9""#,
            r#""\ud83d\ude00""#,
            r#""\u007f""#,
            r#""\u001f""#,
            r#""\n\t\"\\""#,
            r#""\ud83d""#,
            r#""\ude00""#,
            r#""\ud800\ud800\udc00""#,
            r#""\ud800\u00e9""#,
            r#""\udc00\ud800""#,
            "[]",
            "{}",
            "[1, [2, {}]]",
            r#"{"a": 1, "b": {"a": null}}"#,
        ] {
            assert!(is_canonical(text.as_bytes()), "{text}");
            assert_eq!(dumps(text), text);
        }
        for text in [
            "",
            " 1",
            "1 ",
            "-0",
            "01",
            "1.",
            "1e16",
            "1E+16",
            "1.50",
            "100000.0e0",
            "[1,2]",
            "[1,  2]",
            "{\"a\":1}",
            r#"{"a": 1, "a": 2}"#,
            r#""é""#,
            r#""\u0041""#,
            r#""\u000a""#,
            r#""\u00E9""#,
            r#""\ud83d\uDE00""#,
            r#""\ud800\u0041""#,
            r#""\ud800\u""#,
            r#""\/""#,
            "\"\u{7f}\"",
            "nul",
            "[",
            "{\"a\": }",
            "NaN",
            "1e400",
        ] {
            assert!(!is_canonical(text.as_bytes()), "{text}");
        }
    }

    /// Random values written as json.dumps writes them are canonical; random
    /// respellings are accepted only when they are exactly that text.
    #[test]
    fn canonical_check_agrees_with_writing_the_parsed_value() {
        use crate::test_rng::Rng;
        const PIECES: [&str; 24] = [
            "0",
            "-0",
            "7",
            "-12",
            "1.5",
            "1e+16",
            "1e16",
            "0.1",
            "2.50",
            "1E-5",
            "123456789012345678901",
            r#""a""#,
            r#""\u00e9""#,
            r#""é""#,
            r#""\u0041""#,
            r#""\ud83d\ude00""#,
            r#""\n""#,
            "true",
            "null",
            "[]",
            "{}",
            r#""\u001f""#,
            r#""x\/y""#,
            "false",
        ];
        fn build(rng: &mut Rng, depth: usize, out: &mut String) {
            let spaced = rng.below(8) != 0;
            let (comma, colon) = if spaced { (", ", ": ") } else { (",", ":") };
            match if depth > 3 { 0 } else { rng.below(4) } {
                0 | 1 => out.push_str(PIECES[rng.below(PIECES.len())]),
                2 => {
                    out.push('[');
                    for i in 0..rng.below(4) {
                        if i > 0 {
                            out.push_str(comma);
                        }
                        build(rng, depth + 1, out);
                    }
                    out.push(']');
                }
                _ => {
                    out.push('{');
                    for i in 0..rng.below(4) {
                        if i > 0 {
                            out.push_str(comma);
                        }
                        out.push_str(["\"k\"", "\"l\"", "\"\\u00e9\""][rng.below(3)]);
                        out.push_str(colon);
                        build(rng, depth + 1, out);
                    }
                    out.push('}');
                }
            }
        }
        let mut rng = Rng(0x15ca_0011_ca15_0001);
        let (mut canonical, mut other) = (0, 0);
        for _ in 0..20_000 {
            let mut text = String::new();
            build(&mut rng, 0, &mut text);
            let value: Value = serde_json::from_str(&text).unwrap();
            let written = to_python_json(&value).unwrap();
            // Two writers, one from serde_json's value, one from ours.
            assert_eq!(rewrite(&text).unwrap(), written, "{text}");
            assert!(is_canonical(written.as_bytes()), "{written}");
            if is_canonical(text.as_bytes()) {
                assert_eq!(written, text);
                canonical += 1;
            } else {
                assert_ne!(written, text, "canonical but refused: {text}");
                other += 1;
            }
        }
        assert!(canonical > 2_000 && other > 2_000, "{canonical} {other}");
    }

    /// The shortcut for floats decides as converting would, wherever it
    /// decides: on Python reprs of random doubles and respellings of them.
    #[test]
    fn float_shortcut_agrees_with_converting() {
        use crate::test_rng::Rng;
        let slow = |token: &str| {
            let f: f64 = token.parse().unwrap();
            let mut repr = String::new();
            write_float(&mut repr, f);
            f.is_finite() && repr == token
        };
        let mut rng = Rng(0xf10a_7000_0000_0001);
        let (mut decided, mut total) = (0, 0);
        for i in 0..50_000 {
            let f = match i % 3 {
                0 => f64::from_bits(rng.next()),
                1 => (rng.below(2_000_000) as f64 - 1e6) / 10f64.powi(rng.below(12) as i32),
                _ => (rng.next() >> 11) as f64 * 10f64.powi(rng.below(40) as i32 - 20),
            };
            if !f.is_finite() {
                continue;
            }
            let mut repr = String::new();
            write_float(&mut repr, f);
            let mantissa_exp = format!("{f:e}");
            let variants = [
                repr.clone(),
                format!("{repr}0"),
                repr.replace("e+", "e"),
                repr.replace('e', "E"),
                format!("{f}"),
                mantissa_exp.clone(),
                mantissa_exp.replace('e', ".0e"),
                format!("{f:.3}"),
            ];
            for token in variants {
                // only JSON number tokens with a fraction or exponent
                if !token.contains(['.', 'e', 'E'])
                    || token.ends_with('.')
                    || token.contains(".e")
                    || token.starts_with('.')
                {
                    continue;
                }
                if !token.parse::<f64>().is_ok_and(f64::is_finite) || token.matches('.').count() > 1 {
                    continue;
                }
                total += 1;
                if let Some(fast) = float_token_is_repr(token.as_bytes()) {
                    decided += 1;
                    assert_eq!(fast, slow(&token), "{token} (from {f:e})");
                }
            }
        }
        assert!(decided * 3 > total, "the shortcut decided {decided} of {total}");
    }

    #[test]
    fn numbers_beyond_a_double_are_refused() {
        let v: Value = serde_json::from_str("1e400").unwrap();
        assert!(matches!(to_python_json(&v), Err(Error::InvalidJson(_))));
    }
}
