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

mod decode;

pub use decode::{decode_call, decode_response};

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

#[cfg(test)]
mod tests {
    use super::decode::MAX_DEPTH;
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
            "<methodResponse><params><param><value><string>x</int></value></param></params></methodResponse>",
            "<methodResponse><params><param><value><int>1</int></foo></param></params></methodResponse>",
            "<methodResponse><params><param><value><array><data></struct></array></value></param></params></methodResponse>",
            "<methodResponse><params><param><value><struct><member><name>a</value></member></struct></value></param></params></methodResponse>",
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
