//! The streaming `methodResponse` / `methodCall` decoder on `quick-xml` (pure).
//!
//! One pass over borrowed events, an explicit stack instead of recursion (nesting is bounded by
//! [`MAX_DEPTH`]), element names mapped to a small enum, and text collected into one reused buffer.

use base64::Engine as _;
use quick_xml::Reader;
use quick_xml::events::Event;

use super::{Call, DecodeError, Fault, Struct, Value};

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
pub(super) const MAX_DEPTH: usize = 1000;

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
        // Every end tag is checked against the expected element by the parser itself.
        cfg.check_end_names = false;
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
