//! `serde` deserialisation from a decoded [`Value`] into typed structs (pure).
//!
//! Unknown struct members are ignored (field sets differ across hub versions); `<nil/>` maps to `None`.

use serde::de::{self, DeserializeOwned, IntoDeserializer, Visitor};
use serde::forward_to_deserialize_any;

use super::xmlrpc::Value;

/// Why a value did not fit the expected type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DeError(String);

impl de::Error for DeError {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        DeError(msg.to_string())
    }
}

/// Deserialises a typed value from an XML-RPC value.
pub fn from_value<T: DeserializeOwned>(value: &Value) -> Result<T, DeError> {
    T::deserialize(value)
}

impl<'de> IntoDeserializer<'de, DeError> for &'de Value {
    type Deserializer = Self;
    fn into_deserializer(self) -> Self {
        self
    }
}

impl<'de> de::Deserializer<'de> for &'de Value {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self {
            Value::Int(i) => visitor.visit_i64(*i),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::String(s) | Value::DateTime(s) => visitor.visit_borrowed_str(s),
            Value::Double(d) => visitor.visit_f64(*d),
            Value::Base64(b) => visitor.visit_borrowed_bytes(b),
            Value::Nil => visitor.visit_unit(),
            Value::Array(items) => {
                let mut seq = de::value::SeqDeserializer::new(items.iter());
                let v = visitor.visit_seq(&mut seq)?;
                seq.end()?;
                Ok(v)
            }
            Value::Struct(members) => {
                let mut map =
                    de::value::MapDeserializer::new(members.iter().map(|(k, v)| (k.as_str(), v)));
                let v = visitor.visit_map(&mut map)?;
                map.end()?;
                Ok(v)
            }
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self {
            Value::Nil => visitor.visit_none(),
            other => visitor.visit_some(other),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        match self {
            Value::String(s) => visitor.visit_enum(s.as_str().into_deserializer()),
            other => Err(de::Error::custom(format!(
                "expected a string for an enum, found {}",
                other.type_name()
            ))),
        }
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple
        tuple_struct map struct identifier ignored_any
    }
}

/// Any value deserialises into a [`Value`] (so typed structs can keep dynamic members).
impl<'de> de::Deserialize<'de> for Value {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an XML-RPC value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        i64::try_from(v)
            .map(Value::Int)
            .map_err(|_| E::custom(format!("integer {v} out of range")))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Double(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_bytes<E>(self, v: &[u8]) -> Result<Value, E> {
        Ok(Value::Base64(v.to_vec()))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Nil)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Nil)
    }
    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        de::Deserialize::deserialize(d)
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(v) = seq.next_element()? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut s = crate::koji::xmlrpc::Struct::new();
        while let Some((k, v)) = map.next_entry::<String, Value>()? {
            s.insert(k, v);
        }
        Ok(Value::Struct(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::koji::xmlrpc::Struct;

    #[derive(Debug, serde::Deserialize, PartialEq)]
    struct T {
        id: i64,
        name: String,
        epoch: Option<i64>,
        #[serde(default)]
        missing: Option<String>,
        ts: f64,
        tags: Vec<String>,
    }

    #[test]
    fn struct_with_nil_unknown_and_missing_members() {
        let mut s = Struct::new();
        s.insert("id".into(), Value::Int(2));
        s.insert("name".into(), Value::from("foo"));
        s.insert("epoch".into(), Value::Nil);
        s.insert("ts".into(), Value::Int(3));
        s.insert("tags".into(), Value::from(vec!["a", "b"]));
        s.insert("unknown".into(), Value::Struct(Struct::new()));
        let t: T = from_value(&Value::Struct(s)).expect("fits");
        assert_eq!(
            t,
            T {
                id: 2,
                name: "foo".into(),
                epoch: None,
                missing: None,
                ts: 3.0,
                tags: vec!["a".into(), "b".into()],
            }
        );
    }

    #[test]
    fn wrong_types_are_errors() {
        let mut s = Struct::new();
        s.insert("id".into(), Value::from("two"));
        let e = from_value::<T>(&Value::Struct(s)).expect_err("id is a string");
        assert!(e.to_string().contains("invalid type"), "{e}");
        assert!(from_value::<T>(&Value::Int(1)).is_err());
        assert!(from_value::<u8>(&Value::Int(300)).is_err());
    }
}
