//! The XML-RPC wire codec as Koji speaks it (pure: no I/O).
//!
//! [`Value`] is the dynamic value type.
//! [`encode_call`] writes a `methodCall` with keyword arguments as the trailing `__starstar` struct,
//! [`decode_response`] is a streaming decoder on `quick-xml` that turns a `methodResponse` into a value or a
//! [`Fault`], and [`decode_call`] / [`encode_response`] / [`encode_fault`] are the server side used by the fake
//! hub and the tests.
//!
//! Integers of every width (`int`, `i4`, `i8`) decode to [`Value::Int`]; untyped `<value>text</value>` is a
//! string; whitespace between elements is ignored while whitespace inside strings is data.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use base64::Engine as _;
use quick_xml::Reader;
use quick_xml::events::Event;

/// The members of an XML-RPC struct, ordered by name.
pub type Struct = BTreeMap<String, Value>;

/// An XML-RPC value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `<int>`, `<i4>` or `<i8>`.
    Int(i64),
    /// `<boolean>`.
    Bool(bool),
    /// `<string>` or an untyped `<value>`.
    String(String),
    /// `<double>`.
    Double(f64),
    /// `<dateTime.iso8601>`, kept as the text on the wire (Koji sends dates as strings instead).
    DateTime(String),
    /// `<base64>`, decoded.
    Base64(Vec<u8>),
    /// `<struct>`.
    Struct(Struct),
    /// `<array>`.
    Array(Vec<Value>),
    /// `<nil/>` (Python `None`).
    Nil,
}

impl Value {
    /// The XML-RPC type name of this value, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Int(_) => "int",
            Value::Bool(_) => "boolean",
            Value::String(_) => "string",
            Value::Double(_) => "double",
            Value::DateTime(_) => "dateTime.iso8601",
            Value::Base64(_) => "base64",
            Value::Struct(_) => "struct",
            Value::Array(_) => "array",
            Value::Nil => "nil",
        }
    }

    /// The integer, if this is one.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The struct members, if this is a struct.
    pub fn as_struct(&self) -> Option<&Struct> {
        match self {
            Value::Struct(s) => Some(s),
            _ => None,
        }
    }

    /// The array items, if this is an array.
    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    /// Whether this is `<nil/>`.
    pub fn is_nil(&self) -> bool {
        matches!(self, Value::Nil)
    }

    /// Looks up a struct member; `None` for a missing member or a non-struct.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_struct().and_then(|s| s.get(key))
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<i32> for Value {
    fn from(v: i32) -> Self {
        Value::Int(i64::from(v))
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::String(v.to_owned())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::String(v)
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Double(v)
    }
}
impl From<Struct> for Value {
    fn from(v: Struct) -> Self {
        Value::Struct(v)
    }
}
impl<T: Into<Value>> From<Vec<T>> for Value {
    fn from(v: Vec<T>) -> Self {
        Value::Array(v.into_iter().map(Into::into).collect())
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Nil, Into::into)
    }
}

/// An XML-RPC fault: what the hub raised instead of returning a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// `faultCode` (Koji's exception classes use 1000-1024).
    pub code: i64,
    /// `faultString`.
    pub string: String,
}

impl Fault {
    /// A fault with the given code and text.
    pub fn new(code: i64, string: impl Into<String>) -> Self {
        Fault {
            code,
            string: string.into(),
        }
    }

    /// The fault as the `{faultCode, faultString}` struct used on the wire and inside multicall results.
    pub fn to_value(&self) -> Value {
        let mut s = Struct::new();
        s.insert("faultCode".to_owned(), Value::Int(self.code));
        s.insert("faultString".to_owned(), Value::String(self.string.clone()));
        Value::Struct(s)
    }

    /// Reads a `{faultCode, faultString}` struct; `None` when `value` is not one.
    pub fn from_value(value: &Value) -> Option<Fault> {
        let s = value.as_struct()?;
        let code = s.get("faultCode")?.as_i64()?;
        let string = match s.get("faultString") {
            Some(Value::String(t)) => t.clone(),
            _ => String::new(),
        };
        Some(Fault { code, string })
    }
}

/// A method call: name, positional parameters and keyword arguments.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Call {
    /// The method name, e.g. `getRepo`.
    pub method: String,
    /// Positional parameters.
    pub params: Vec<Value>,
    /// Keyword arguments, sent as the trailing `__starstar` struct (in this order of insertion, sorted on the wire).
    pub kwargs: Vec<(String, Value)>,
}

impl Call {
    /// A call without parameters.
    pub fn new(method: impl Into<String>) -> Self {
        Call {
            method: method.into(),
            params: Vec::new(),
            kwargs: Vec::new(),
        }
    }

    /// Adds a positional parameter.
    pub fn arg(mut self, value: impl Into<Value>) -> Self {
        self.params.push(value.into());
        self
    }

    /// Adds a keyword argument.
    pub fn kwarg(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.kwargs.push((name.into(), value.into()));
        self
    }

    /// The parameters as sent on the wire: positional ones plus, if there are keyword arguments, the
    /// `__starstar` struct.
    pub fn wire_params(&self) -> Vec<Value> {
        let mut params = self.params.clone();
        if !self.kwargs.is_empty() {
            let mut s: Struct = self.kwargs.iter().cloned().collect();
            s.insert(STARSTAR.to_owned(), Value::Bool(true));
            params.push(Value::Struct(s));
        }
        params
    }

    /// Splits wire parameters into positional and keyword arguments (what the hub does).
    pub fn from_wire(method: impl Into<String>, mut params: Vec<Value>) -> Self {
        let mut kwargs = Vec::new();
        let is_kw = matches!(params.last(), Some(Value::Struct(s)) if matches!(s.get(STARSTAR), Some(Value::Bool(true))));
        if is_kw && let Some(Value::Struct(mut s)) = params.pop() {
            s.remove(STARSTAR);
            kwargs = s.into_iter().collect();
        }
        Call {
            method: method.into(),
            params,
            kwargs,
        }
    }

    /// Looks up a keyword argument.
    pub fn kwarg_value(&self, name: &str) -> Option<&Value> {
        self.kwargs.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    /// The argument named `name` at position `pos`: positional if given there, else the keyword.
    pub fn param(&self, pos: usize, name: &str) -> Option<&Value> {
        self.params.get(pos).or_else(|| self.kwarg_value(name))
    }
}

/// The keyword-argument marker member.
pub const STARSTAR: &str = "__starstar";

/// Why a response body could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed XML-RPC at byte {position}: {message}")]
pub struct DecodeError {
    /// Byte offset in the body where the problem was seen.
    pub position: u64,
    /// What was wrong.
    pub message: String,
}

/// Encodes a `methodCall`.
pub fn encode_call(call: &Call) -> Vec<u8> {
    let mut out = String::with_capacity(256);
    out.push_str("<?xml version='1.0'?>\n<methodCall>\n<methodName>");
    escape_into(&mut out, &call.method);
    out.push_str("</methodName>\n<params>\n");
    for p in &call.params {
        out.push_str("<param>\n");
        encode_value_into(&mut out, p);
        out.push_str("\n</param>\n");
    }
    if !call.kwargs.is_empty() {
        // Keyword arguments in the caller's order, the marker last (as Python's marshaller writes them).
        out.push_str("<param>\n<value><struct>\n");
        for (k, v) in &call.kwargs {
            out.push_str("<member>\n<name>");
            escape_into(&mut out, k);
            out.push_str("</name>\n");
            encode_value_into(&mut out, v);
            out.push_str("\n</member>\n");
        }
        out.push_str(
            "<member>\n<name>__starstar</name>\n<value><boolean>1</boolean></value>\n</member>\n",
        );
        out.push_str("</struct></value>\n</param>\n");
    }
    out.push_str("</params>\n</methodCall>\n");
    out.into_bytes()
}

/// Encodes a successful `methodResponse`.
pub fn encode_response(value: &Value) -> Vec<u8> {
    let mut out = String::with_capacity(256);
    out.push_str("<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n");
    encode_value_into(&mut out, value);
    out.push_str("\n</param>\n</params>\n</methodResponse>\n");
    out.into_bytes()
}

/// Encodes a fault `methodResponse`.
pub fn encode_fault(fault: &Fault) -> Vec<u8> {
    let mut out = String::with_capacity(256);
    out.push_str("<?xml version='1.0'?>\n<methodResponse>\n<fault>\n");
    encode_value_into(&mut out, &fault.to_value());
    out.push_str("\n</fault>\n</methodResponse>\n");
    out.into_bytes()
}

/// Appends one `<value>` element.
pub fn encode_value_into(out: &mut String, value: &Value) {
    out.push_str("<value>");
    match value {
        Value::Int(i) => {
            if i32::try_from(*i).is_ok() {
                let _ = write!(out, "<int>{i}</int>");
            } else {
                let _ = write!(out, "<i8>{i}</i8>");
            }
        }
        Value::Bool(b) => {
            out.push_str(if *b {
                "<boolean>1</boolean>"
            } else {
                "<boolean>0</boolean>"
            });
        }
        Value::String(s) => {
            out.push_str("<string>");
            escape_into(out, s);
            out.push_str("</string>");
        }
        Value::Double(d) => {
            let _ = write!(out, "<double>{d:?}</double>");
        }
        Value::DateTime(s) => {
            out.push_str("<dateTime.iso8601>");
            escape_into(out, s);
            out.push_str("</dateTime.iso8601>");
        }
        Value::Base64(b) => {
            out.push_str("<base64>");
            out.push_str(&base64::engine::general_purpose::STANDARD.encode(b));
            out.push_str("</base64>");
        }
        Value::Struct(s) => {
            out.push_str("<struct>\n");
            for (k, v) in s {
                out.push_str("<member>\n<name>");
                escape_into(out, k);
                out.push_str("</name>\n");
                encode_value_into(out, v);
                out.push_str("\n</member>\n");
            }
            out.push_str("</struct>");
        }
        Value::Array(a) => {
            out.push_str("<array><data>\n");
            for v in a {
                encode_value_into(out, v);
                out.push('\n');
            }
            out.push_str("</data></array>");
        }
        Value::Nil => out.push_str("<nil/>"),
    }
    out.push_str("</value>");
}

fn escape_into(out: &mut String, s: &str) {
    let mut last = 0;
    for (i, b) in s.bytes().enumerate() {
        let rep = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            _ => continue,
        };
        out.push_str(&s[last..i]);
        out.push_str(rep);
        last = i + 1;
    }
    out.push_str(&s[last..]);
}

/// Decodes a `methodResponse`: `Ok(Ok(value))`, `Ok(Err(fault))`, or a [`DecodeError`].
pub fn decode_response(body: &[u8]) -> Result<Result<Value, Fault>, DecodeError> {
    let mut p = Parser::new(body);
    p.expect_start(N::MethodResponse)?;
    let result = match p.next_tag()? {
        Tag::Start(N::Params) => {
            p.expect_start(N::Param)?;
            p.expect_start(N::Value)?;
            let v = p.parse_value()?;
            p.expect_end(N::Param)?;
            p.expect_end(N::Params)?;
            Ok(v)
        }
        Tag::Start(N::Fault) => {
            p.expect_start(N::Value)?;
            let v = p.parse_value()?;
            p.expect_end(N::Fault)?;
            match Fault::from_value(&v) {
                Some(f) => Err(f),
                None => return Err(p.error("fault without an integer faultCode")),
            }
        }
        other => return Err(p.unexpected(other, "<params> or <fault>")),
    };
    p.expect_end(N::MethodResponse)?;
    p.expect_eof()?;
    Ok(result)
}

/// Decodes a `methodCall` (the hub side), splitting keyword arguments off.
pub fn decode_call(body: &[u8]) -> Result<Call, DecodeError> {
    let mut p = Parser::new(body);
    p.expect_start(N::MethodCall)?;
    p.expect_start(N::MethodName)?;
    let method = p.read_text(N::MethodName)?;
    let mut params = Vec::new();
    match p.next_tag()? {
        Tag::Start(N::Params) => loop {
            match p.next_tag()? {
                Tag::Start(N::Param) => {
                    p.expect_start(N::Value)?;
                    params.push(p.parse_value()?);
                    p.expect_end(N::Param)?;
                }
                Tag::End(N::Params) => break,
                other => return Err(p.unexpected(other, "<param> or </params>")),
            }
        },
        Tag::Empty(N::Params) => {}
        Tag::End(N::MethodCall) => {
            p.expect_eof()?;
            return Ok(Call::from_wire(method, params));
        }
        other => return Err(p.unexpected(other, "<params>")),
    }
    p.expect_end(N::MethodCall)?;
    p.expect_eof()?;
    Ok(Call::from_wire(method, params))
}

/// Encodes a call list as one `multiCall` call (one array param of `{methodName, params}` structs).
pub fn multicall_request(calls: &[Call]) -> Call {
    let items = calls
        .iter()
        .map(|c| {
            let mut s = Struct::new();
            s.insert("methodName".to_owned(), Value::String(c.method.clone()));
            s.insert("params".to_owned(), Value::Array(c.wire_params()));
            Value::Struct(s)
        })
        .collect();
    Call::new("multiCall").arg(Value::Array(items))
}

/// Splits a multicall result into one entry per call: `[value]` is a success, a fault struct a failure.
pub fn multicall_results(value: Value) -> Result<Vec<Result<Value, Fault>>, String> {
    let Value::Array(items) = value else {
        return Err(format!(
            "multicall result is a {}, not an array",
            value.type_name()
        ));
    };
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| match item {
            Value::Array(mut a) if a.len() == 1 => Ok(Ok(a.pop().unwrap_or(Value::Nil))),
            ref s @ Value::Struct(_) => Fault::from_value(s)
                .map(Err)
                .ok_or_else(|| format!("multicall entry {i} is a struct without faultCode")),
            other => Err(format!(
                "multicall entry {i} is a {}, not a one-element array or a fault",
                other.type_name()
            )),
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The streaming decoder.

/// The element names of XML-RPC, so the decoder compares small integers instead of byte strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum N {
    MethodResponse,
    MethodCall,
    MethodName,
    Params,
    Param,
    Fault,
    Value,
    Array,
    Data,
    Struct,
    Member,
    Name,
    String,
    Int,
    I4,
    I8,
    Boolean,
    Double,
    DateTime,
    Base64,
    Nil,
    Other,
}

impl N {
    fn of(name: &[u8]) -> N {
        match name {
            b"value" => N::Value,
            b"string" => N::String,
            b"member" => N::Member,
            b"name" => N::Name,
            b"int" => N::Int,
            b"struct" => N::Struct,
            b"array" => N::Array,
            b"data" => N::Data,
            b"nil" => N::Nil,
            b"i4" => N::I4,
            b"i8" => N::I8,
            b"boolean" => N::Boolean,
            b"double" => N::Double,
            b"dateTime.iso8601" => N::DateTime,
            b"base64" => N::Base64,
            b"methodResponse" => N::MethodResponse,
            b"methodCall" => N::MethodCall,
            b"methodName" => N::MethodName,
            b"params" => N::Params,
            b"param" => N::Param,
            b"fault" => N::Fault,
            _ => N::Other,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            N::MethodResponse => "methodResponse",
            N::MethodCall => "methodCall",
            N::MethodName => "methodName",
            N::Params => "params",
            N::Param => "param",
            N::Fault => "fault",
            N::Value => "value",
            N::Array => "array",
            N::Data => "data",
            N::Struct => "struct",
            N::Member => "member",
            N::Name => "name",
            N::String => "string",
            N::Int => "int",
            N::I4 => "i4",
            N::I8 => "i8",
            N::Boolean => "boolean",
            N::Double => "double",
            N::DateTime => "dateTime.iso8601",
            N::Base64 => "base64",
            N::Nil => "nil",
            N::Other => "(unknown element)",
        }
    }
}

/// One significant markup event (text between elements is handled by the caller).
#[derive(Debug, Clone, Copy)]
enum Tag {
    Start(N),
    End(N),
    Empty(N),
    Text,
    Eof,
}

impl Tag {
    fn describe(self) -> String {
        match self {
            Tag::Start(n) => format!("<{}>", n.as_str()),
            Tag::End(n) => format!("</{}>", n.as_str()),
            Tag::Empty(n) => format!("<{}/>", n.as_str()),
            Tag::Text => "text".to_owned(),
            Tag::Eof => "end of input".to_owned(),
        }
    }
}

/// A container being filled while parsing.
enum Frame {
    Array(Vec<Value>),
    /// A struct and the name of the member whose value is being parsed.
    Struct(Struct, String),
}

impl Frame {
    fn into_value(self) -> Value {
        match self {
            Frame::Array(items) => Value::Array(items),
            Frame::Struct(s, _) => Value::Struct(s),
        }
    }
}

/// How deeply values may nest before the decoder gives up (protects against pathological input).
const MAX_DEPTH: usize = 1000;

struct Parser<'a> {
    reader: Reader<&'a [u8]>,
    /// The last event read but not yet consumed.
    peeked: Option<Event<'a>>,
    /// Scratch buffer for text assembled from several events.
    text: String,
}

enum Content {
    Scalar(Value),
    OpenArray,
    OpenStruct,
}

impl<'a> Parser<'a> {
    fn new(body: &'a [u8]) -> Self {
        let mut reader = Reader::from_reader(body);
        let cfg = reader.config_mut();
        cfg.trim_text(false);
        cfg.check_end_names = true;
        cfg.expand_empty_elements = false;
        Parser {
            reader,
            peeked: None,
            text: String::new(),
        }
    }

    fn error(&self, message: impl Into<String>) -> DecodeError {
        DecodeError {
            position: self.reader.buffer_position(),
            message: message.into(),
        }
    }

    fn unexpected(&self, got: Tag, expected: &str) -> DecodeError {
        self.error(format!("expected {expected}, found {}", got.describe()))
    }

    fn raw_event(&mut self) -> Result<Event<'a>, DecodeError> {
        if let Some(e) = self.peeked.take() {
            return Ok(e);
        }
        self.reader.read_event().map_err(|e| DecodeError {
            position: self.reader.error_position(),
            message: e.to_string(),
        })
    }

    /// The next start/end/empty tag, skipping whitespace, comments, declarations and processing instructions.
    /// Non-whitespace text is reported as [`Tag::Text`].
    fn next_tag(&mut self) -> Result<Tag, DecodeError> {
        loop {
            let ev = self.raw_event()?;
            return Ok(match ev {
                Event::Start(e) => Tag::Start(N::of(e.name().into_inner())),
                Event::End(e) => Tag::End(N::of(e.name().into_inner())),
                Event::Empty(e) => Tag::Empty(N::of(e.name().into_inner())),
                Event::Text(t) => {
                    if t.iter().all(u8::is_ascii_whitespace) {
                        continue;
                    }
                    Tag::Text
                }
                Event::CData(_) | Event::GeneralRef(_) => Tag::Text,
                Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => continue,
                Event::Eof => Tag::Eof,
            });
        }
    }

    fn expect_start(&mut self, name: N) -> Result<(), DecodeError> {
        match self.next_tag()? {
            Tag::Start(n) if n == name => Ok(()),
            other => Err(self.unexpected(other, &format!("<{}>", name.as_str()))),
        }
    }

    fn expect_end(&mut self, name: N) -> Result<(), DecodeError> {
        match self.next_tag()? {
            Tag::End(n) if n == name => Ok(()),
            other => Err(self.unexpected(other, &format!("</{}>", name.as_str()))),
        }
    }

    fn expect_eof(&mut self) -> Result<(), DecodeError> {
        match self.next_tag()? {
            Tag::Eof => Ok(()),
            other => Err(self.unexpected(other, "end of input")),
        }
    }

    /// Reads character data up to the end tag `end` into `self.text` (appending).
    fn collect_text(&mut self, end: N) -> Result<(), DecodeError> {
        loop {
            match self.raw_event()? {
                Event::Text(t) => push_utf8(&mut self.text, &t),
                Event::CData(t) => push_utf8(&mut self.text, &t),
                Event::GeneralRef(r) => {
                    let ch = match &*r {
                        b"amp" => '&',
                        b"lt" => '<',
                        b"gt" => '>',
                        b"quot" => '"',
                        b"apos" => '\'',
                        _ => match r.resolve_char_ref() {
                            Ok(Some(c)) => c,
                            _ => {
                                return Err(self.error(format!(
                                    "unknown entity &{};",
                                    String::from_utf8_lossy(&r)
                                )));
                            }
                        },
                    };
                    self.text.push(ch);
                }
                Event::Comment(_) | Event::PI(_) => {}
                Event::End(e) if N::of(e.name().into_inner()) == end => return Ok(()),
                Event::Eof => return Err(self.error("unexpected end of input inside text")),
                _ => {
                    return Err(self.error(format!("unexpected markup inside <{}>", end.as_str())));
                }
            }
        }
    }

    fn read_text(&mut self, end: N) -> Result<String, DecodeError> {
        self.text.clear();
        self.collect_text(end)?;
        Ok(std::mem::take(&mut self.text))
    }

    /// Parses one value; the opening `<value>` has been consumed, the closing `</value>` is consumed here.
    fn parse_value(&mut self) -> Result<Value, DecodeError> {
        let mut stack: Vec<Frame> = Vec::new();
        loop {
            // Parse the content of one <value> (opening tag already consumed).
            let mut value = match self.value_content()? {
                Content::Scalar(v) => Some(v),
                Content::OpenArray | Content::OpenStruct if stack.len() >= MAX_DEPTH => {
                    return Err(self.error("values nested too deeply"));
                }
                Content::OpenArray => {
                    stack.push(Frame::Array(Vec::new()));
                    None
                }
                Content::OpenStruct => {
                    stack.push(Frame::Struct(Struct::new(), String::new()));
                    None
                }
            };
            // Attach completed values to their containers and close containers that end, until the next
            // <value> opens.
            loop {
                let Some(top) = stack.last_mut() else {
                    return value.ok_or_else(|| self.error("value missing"));
                };
                let is_array = match top {
                    Frame::Array(items) => {
                        if let Some(v) = value.take() {
                            items.push(v);
                        }
                        true
                    }
                    Frame::Struct(members, name) => {
                        if let Some(v) = value.take() {
                            members.insert(std::mem::take(name), v);
                            self.expect_end(N::Member)?;
                        }
                        false
                    }
                };
                match self.next_tag()? {
                    Tag::Start(N::Value) if is_array => break,
                    Tag::Empty(N::Value) if is_array => value = Some(Value::String(String::new())),
                    Tag::End(N::Data) if is_array => {
                        self.expect_end(N::Array)?;
                        self.expect_end(N::Value)?;
                        value = stack.pop().map(Frame::into_value);
                    }
                    Tag::Start(N::Member) if !is_array => {
                        self.expect_start(N::Name)?;
                        let name = self.read_text(N::Name)?;
                        if let Some(Frame::Struct(_, slot)) = stack.last_mut() {
                            *slot = name;
                        }
                        match self.next_tag()? {
                            Tag::Start(N::Value) => break,
                            Tag::Empty(N::Value) => value = Some(Value::String(String::new())),
                            other => return Err(self.unexpected(other, "<value> in <member>")),
                        }
                    }
                    Tag::End(N::Struct) if !is_array => {
                        self.expect_end(N::Value)?;
                        value = stack.pop().map(Frame::into_value);
                    }
                    other => {
                        let expected = if is_array {
                            "<value> or </data>"
                        } else {
                            "<member> or </struct>"
                        };
                        return Err(self.unexpected(other, expected));
                    }
                }
            }
        }
    }

    /// Reads what follows `<value>`: a complete scalar (closing `</value>` consumed) or the opening of a
    /// container (`<array><data>` or `<struct>` consumed).
    fn value_content(&mut self) -> Result<Content, DecodeError> {
        // Leading text: either the untyped string itself or whitespace before the type tag.
        self.text.clear();
        loop {
            let ev = self.raw_event()?;
            match ev {
                Event::Text(t) => push_utf8(&mut self.text, &t),
                Event::CData(t) => push_utf8(&mut self.text, &t),
                Event::GeneralRef(_) => {
                    // An untyped string with entities: the text collector reads the rest.
                    self.peeked = Some(ev);
                    self.collect_text(N::Value)?;
                    return Ok(Content::Scalar(Value::String(std::mem::take(
                        &mut self.text,
                    ))));
                }
                Event::Comment(_) | Event::PI(_) => {}
                Event::End(e) => {
                    if N::of(e.name().into_inner()) != N::Value {
                        return Err(self.error("mismatched end tag inside <value>"));
                    }
                    return Ok(Content::Scalar(Value::String(std::mem::take(
                        &mut self.text,
                    ))));
                }
                Event::Start(e) => {
                    if !self.text.bytes().all(|b| b.is_ascii_whitespace()) {
                        return Err(self.error("text before a type element in <value>"));
                    }
                    let name = N::of(e.name().into_inner());
                    return self.typed_content(name);
                }
                Event::Empty(e) => {
                    let v = match N::of(e.name().into_inner()) {
                        N::Nil => Value::Nil,
                        N::String => Value::String(String::new()),
                        N::Base64 => Value::Base64(Vec::new()),
                        N::Struct => Value::Struct(Struct::new()),
                        N::Array => Value::Array(Vec::new()),
                        other => {
                            return Err(
                                self.error(format!("empty <{}/> is not a value", other.as_str()))
                            );
                        }
                    };
                    self.expect_end(N::Value)?;
                    return Ok(Content::Scalar(v));
                }
                Event::Eof => return Err(self.error("unexpected end of input inside <value>")),
                Event::Decl(_) | Event::DocType(_) => {
                    return Err(self.error("declaration inside <value>"));
                }
            }
        }
    }

    fn typed_content(&mut self, name: N) -> Result<Content, DecodeError> {
        let v = match name {
            N::String => {
                self.text.clear();
                self.collect_text(N::String)?;
                Value::String(std::mem::take(&mut self.text))
            }
            N::Int | N::I4 | N::I8 => {
                self.text.clear();
                self.collect_text(name)?;
                let t = self.text.trim();
                match t.parse::<i64>() {
                    Ok(i) => Value::Int(i),
                    Err(_) => return Err(self.error(format!("bad integer {t:?}"))),
                }
            }
            N::Boolean => {
                self.text.clear();
                self.collect_text(N::Boolean)?;
                match self.text.trim() {
                    "1" => Value::Bool(true),
                    "0" => Value::Bool(false),
                    t => return Err(self.error(format!("bad boolean {t:?}"))),
                }
            }
            N::Double => {
                self.text.clear();
                self.collect_text(N::Double)?;
                let t = self.text.trim();
                match t.parse::<f64>() {
                    Ok(d) => Value::Double(d),
                    Err(_) => return Err(self.error(format!("bad double {t:?}"))),
                }
            }
            N::DateTime => {
                self.text.clear();
                self.collect_text(N::DateTime)?;
                Value::DateTime(self.text.trim().to_owned())
            }
            N::Base64 => {
                self.text.clear();
                self.collect_text(N::Base64)?;
                let cleaned: Vec<u8> = self
                    .text
                    .bytes()
                    .filter(|b| !b.is_ascii_whitespace())
                    .collect();
                match base64::engine::general_purpose::STANDARD.decode(&cleaned) {
                    Ok(b) => Value::Base64(b),
                    Err(e) => return Err(self.error(format!("bad base64: {e}"))),
                }
            }
            N::Nil => {
                self.expect_end(N::Nil)?;
                Value::Nil
            }
            N::Array => {
                match self.next_tag()? {
                    Tag::Start(N::Data) => {}
                    Tag::Empty(N::Data) => {
                        self.expect_end(N::Array)?;
                        self.expect_end(N::Value)?;
                        return Ok(Content::Scalar(Value::Array(Vec::new())));
                    }
                    other => return Err(self.unexpected(other, "<data>")),
                }
                return Ok(Content::OpenArray);
            }
            N::Struct => return Ok(Content::OpenStruct),
            other => {
                return Err(self.error(format!("unknown value type <{}>", other.as_str())));
            }
        };
        self.expect_end(N::Value)?;
        Ok(Content::Scalar(v))
    }
}

fn push_utf8(out: &mut String, bytes: &[u8]) {
    match std::str::from_utf8(bytes) {
        Ok(s) => out.push_str(s),
        // Parse leniently: strings from RPM headers may carry stray bytes.
        Err(_) => out.push_str(&String::from_utf8_lossy(bytes)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(body: &str) -> Value {
        decode_response(body.as_bytes())
            .expect("decodes")
            .expect("no fault")
    }

    fn resp(inner: &str) -> String {
        format!(
            "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n{inner}\n</param>\n</params>\n</methodResponse>\n"
        )
    }

    #[test]
    fn scalars_decode() {
        let cases: &[(&str, Value)] = &[
            ("<value><int>5</int></value>", Value::Int(5)),
            ("<value><i4>-5</i4></value>", Value::Int(-5)),
            (
                "<value><i8>9007199254740993</i8></value>",
                Value::Int(9007199254740993),
            ),
            ("<value><nil/></value>", Value::Nil),
            ("<value>untyped</value>", Value::from("untyped")),
            ("<value></value>", Value::from("")),
            ("<value><string/></value>", Value::from("")),
            (
                "<value><string> a &amp; b &lt;c&gt; </string></value>",
                Value::from(" a & b <c> "),
            ),
            ("<value>x &amp; y</value>", Value::from("x & y")),
            (
                "<value><string>&#233;t&#xe9;</string></value>",
                Value::from("été"),
            ),
            ("<value><double>1.5</double></value>", Value::Double(1.5)),
            ("<value><boolean>1</boolean></value>", Value::Bool(true)),
            ("<value><boolean>0</boolean></value>", Value::Bool(false)),
            (
                "<value><base64>aGVsbG8=</base64></value>",
                Value::Base64(b"hello".to_vec()),
            ),
            (
                "<value><dateTime.iso8601>20240101T00:00:00</dateTime.iso8601></value>",
                Value::DateTime("20240101T00:00:00".into()),
            ),
            (
                "<value><array><data></data></array></value>",
                Value::Array(vec![]),
            ),
            (
                "<value><array><data/></array></value>",
                Value::Array(vec![]),
            ),
            (
                "<value><struct></struct></value>",
                Value::Struct(Struct::new()),
            ),
        ];
        for (xml, want) in cases {
            assert_eq!(&ok(&resp(xml)), want, "{xml}");
        }
    }

    #[test]
    fn nested_containers_decode() {
        let xml = resp(
            "<value><array><data>\n<value><struct>\n<member>\n<name>a</name>\n<value><array><data><value><int>1</int></value><value><nil/></value></data></array></value>\n</member>\n<member><name>b</name><value><struct></struct></value></member></struct></value>\n<value>x</value></data></array></value>",
        );
        let mut inner = Struct::new();
        inner.insert("a".into(), Value::Array(vec![Value::Int(1), Value::Nil]));
        inner.insert("b".into(), Value::Struct(Struct::new()));
        assert_eq!(
            ok(&xml),
            Value::Array(vec![Value::Struct(inner), Value::from("x")])
        );
    }

    #[test]
    fn values_roundtrip_through_encode() {
        let mut s = Struct::new();
        s.insert("x<&>".into(), Value::from("a&b<c>"));
        s.insert("big".into(), Value::Int(1 << 40));
        s.insert("neg".into(), Value::Int(-3));
        s.insert("d".into(), Value::Double(0.1));
        s.insert("n".into(), Value::Nil);
        s.insert("b".into(), Value::Base64(vec![0, 1, 255]));
        s.insert("dt".into(), Value::DateTime("20240101T00:00:00".into()));
        s.insert(
            "arr".into(),
            Value::Array(vec![Value::Bool(true), Value::from(" sp ")]),
        );
        let v = Value::Struct(s);
        let body = encode_response(&v);
        assert_eq!(ok(std::str::from_utf8(&body).expect("utf8")), v);
    }

    #[test]
    fn kwargs_become_starstar_struct_and_back() {
        let call = Call::new("getRepo").arg("f40-build").kwarg("state", 1);
        let body = encode_call(&call);
        let text = String::from_utf8(body.clone()).expect("utf8");
        assert!(text.contains("<name>__starstar</name>\n<value><boolean>1</boolean></value>"));
        assert_eq!(decode_call(&body).expect("decodes"), call);
    }

    #[test]
    fn faults_decode() {
        let f = Fault::new(1007, "session \"5\" has expired");
        let back = decode_response(&encode_fault(&f)).expect("decodes");
        assert_eq!(back, Err(f));
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        let cases = [
            "",
            "Method Not Allowed",
            "<methodResponse>",
            "<methodResponse><params><param><value><int>x</int></value></param></params></methodResponse>",
            "<methodResponse><params><param><value><boolean>2</boolean></value></param></params></methodResponse>",
            "<methodResponse><params><param><value><foo>1</foo></value></param></params></methodResponse>",
            "<methodResponse><params><param><value><array><data><value>1</value>",
            "<methodResponse><params><param><value><struct><member><name>a</name></member></struct></value></param></params></methodResponse>",
            "<methodResponse><fault><value><string>x</string></value></fault></methodResponse>",
            "<methodResponse><params><param><value><string>&bogus;</string></value></param></params></methodResponse>",
            "<methodResponse><params><param><value><int>1</int></value></param></params></methodResponse><extra/>",
        ];
        for c in cases {
            assert!(decode_response(c.as_bytes()).is_err(), "{c:?} should fail");
        }
    }

    #[test]
    fn deep_nesting_is_refused() {
        let depth = MAX_DEPTH + 5;
        let mut xml = String::from("<methodResponse><params><param><value>");
        for _ in 0..depth {
            xml.push_str("<array><data><value>");
        }
        xml.push_str("<int>1</int></value>");
        for _ in 0..depth {
            xml.push_str("</data></array></value>");
        }
        xml.push_str("</param></params></methodResponse>");
        let err = decode_response(xml.as_bytes()).expect_err("too deep");
        assert!(err.message.contains("nested too deeply"), "{err}");
    }

    #[test]
    fn multicall_results_split_by_type() {
        let v = Value::Array(vec![
            Value::Array(vec![Value::Nil]),
            Fault::new(1000, "No such task").to_value(),
        ]);
        let r = multicall_results(v).expect("valid");
        assert_eq!(
            r,
            vec![Ok(Value::Nil), Err(Fault::new(1000, "No such task"))]
        );
        assert!(multicall_results(Value::Int(1)).is_err());
        assert!(multicall_results(Value::Array(vec![Value::Int(1)])).is_err());
    }
}
