//! Reading a JSON object field by field into domain types, collecting every error at once so that
//! a client learns about all its bad fields in one answer.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::FieldError;

/// Reads fields of one JSON object; every problem is pushed to `errors` with its full path.
pub struct Reader<'a> {
    map: &'a Map<String, Value>,
    prefix: String,
    errors: &'a mut Vec<FieldError>,
    known: BTreeSet<&'static str>,
}

impl<'a> Reader<'a> {
    pub fn new(map: &'a Map<String, Value>, prefix: &str, errors: &'a mut Vec<FieldError>) -> Self {
        Reader { map, prefix: prefix.to_owned(), errors, known: BTreeSet::new() }
    }

    pub fn path(&self, key: &str) -> String {
        if self.prefix.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.prefix)
        }
    }

    pub fn error(&mut self, key: &str, message: impl Into<String>) {
        let path = self.path(key);
        self.errors.push(FieldError::new(path, message));
    }

    /// The raw value, `None` when absent or null.
    pub fn value(&mut self, key: &'static str) -> Option<&'a Value> {
        self.known.insert(key);
        self.map.get(key).filter(|v| !v.is_null())
    }

    fn missing(&mut self, key: &str) {
        self.error(key, "is required");
    }

    /// A string trimmed, with a length range in characters.
    pub fn string(&mut self, key: &'static str, required: bool, min: usize, max: usize) -> Option<String> {
        match self.value(key) {
            None => {
                if required {
                    self.missing(key);
                }
                None
            }
            Some(Value::String(s)) => {
                let s = s.trim();
                let n = s.chars().count();
                if n < min {
                    self.error(
                        key,
                        if min == 1 {
                            "must not be empty".to_owned()
                        } else {
                            format!("must be at least {min} characters")
                        },
                    );
                    None
                } else if n > max {
                    self.error(key, format!("must be at most {max} characters"));
                    None
                } else if s.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t') {
                    self.error(key, "must not contain control characters");
                    None
                } else {
                    Some(s.to_owned())
                }
            }
            Some(_) => {
                self.error(key, "must be a string");
                None
            }
        }
    }

    /// One value of a closed vocabulary.
    pub fn enumeration<T: std::str::FromStr<Err = String>>(&mut self, key: &'static str, required: bool) -> Option<T> {
        match self.value(key) {
            None => {
                if required {
                    self.missing(key);
                }
                None
            }
            Some(Value::String(s)) => match s.parse::<T>() {
                Ok(v) => Some(v),
                Err(e) => {
                    self.error(key, e);
                    None
                }
            },
            Some(_) => {
                self.error(key, "must be a string");
                None
            }
        }
    }

    /// A list of values of a closed vocabulary, without duplicates, at most `max` long.
    pub fn enumerations<T: std::str::FromStr<Err = String> + PartialEq>(
        &mut self,
        key: &'static str,
        max: usize,
    ) -> Vec<T> {
        let mut out = Vec::new();
        match self.value(key) {
            None => {}
            Some(Value::Array(items)) if items.len() <= max => {
                for (i, item) in items.iter().enumerate() {
                    match item.as_str().map(str::parse::<T>) {
                        Some(Ok(v)) => {
                            if !out.contains(&v) {
                                out.push(v)
                            }
                        }
                        Some(Err(e)) => self.error(&format!("{key}[{i}]"), e),
                        None => self.error(&format!("{key}[{i}]"), "must be a string"),
                    }
                }
            }
            Some(Value::Array(_)) => self.error(key, format!("must have at most {max} items")),
            Some(_) => self.error(key, "must be an array"),
        }
        out
    }

    /// A list of short strings.
    pub fn strings(&mut self, key: &'static str, max_items: usize, max_len: usize) -> Vec<String> {
        let mut out = Vec::new();
        match self.value(key) {
            None => {}
            Some(Value::Array(items)) if items.len() <= max_items => {
                for (i, item) in items.iter().enumerate() {
                    match item.as_str().map(str::trim) {
                        Some(s) if !s.is_empty() && s.chars().count() <= max_len => out.push(s.to_owned()),
                        Some(_) => self.error(&format!("{key}[{i}]"), format!("must be 1 to {max_len} characters")),
                        None => self.error(&format!("{key}[{i}]"), "must be a string"),
                    }
                }
            }
            Some(Value::Array(_)) => self.error(key, format!("must have at most {max_items} items")),
            Some(_) => self.error(key, "must be an array"),
        }
        out
    }

    pub fn boolean(&mut self, key: &'static str, default: bool) -> bool {
        match self.value(key) {
            None => default,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                self.error(key, "must be true or false");
                default
            }
        }
    }

    pub fn integer(&mut self, key: &'static str, min: i64, max: i64) -> Option<i64> {
        match self.value(key) {
            None => None,
            Some(Value::Number(n)) => match n.as_i64() {
                Some(v) if (min..=max).contains(&v) => Some(v),
                _ => {
                    self.error(key, format!("must be a whole number from {min} to {max}"));
                    None
                }
            },
            Some(_) => {
                self.error(key, "must be a number");
                None
            }
        }
    }

    /// An RFC 3339 time with offset, not later than `not_after` (when given).
    pub fn time(
        &mut self,
        key: &'static str,
        required: bool,
        not_after: Option<DateTime<Utc>>,
    ) -> Option<DateTime<Utc>> {
        match self.value(key) {
            None => {
                if required {
                    self.missing(key);
                }
                None
            }
            Some(Value::String(s)) => match DateTime::parse_from_rfc3339(s) {
                Ok(t) => {
                    let t = t.with_timezone(&Utc);
                    match not_after {
                        Some(limit) if t > limit => {
                            self.error(key, "must not be in the future");
                            None
                        }
                        _ => Some(chrono::SubsecRound::trunc_subsecs(t, 6)),
                    }
                }
                Err(_) => {
                    self.error(key, "must be an RFC 3339 time with offset, e.g. 2026-11-20T09:30:00+09:00");
                    None
                }
            },
            Some(_) => {
                self.error(key, "must be a string");
                None
            }
        }
    }

    /// A nested object, read by `f` with paths under `key`.
    pub fn object<T>(&mut self, key: &'static str, f: impl FnOnce(&mut Reader<'_>) -> T) -> Option<T> {
        match self.value(key) {
            None => None,
            Some(Value::Object(m)) => {
                let path = self.path(key);
                let mut inner = Reader::new(m, &path, self.errors);
                let v = f(&mut inner);
                inner.finish();
                Some(v)
            }
            Some(_) => {
                self.error(key, "must be an object");
                None
            }
        }
    }

    /// Items of an array of objects, each read by `f`.
    pub fn objects<T>(
        &mut self,
        key: &'static str,
        max: usize,
        mut f: impl FnMut(&mut Reader<'_>) -> Option<T>,
    ) -> Vec<T> {
        let mut out = Vec::new();
        match self.value(key) {
            None => {}
            Some(Value::Array(items)) if items.len() <= max => {
                for (i, item) in items.iter().enumerate() {
                    let path = self.path(&format!("{key}[{i}]"));
                    match item {
                        Value::Object(m) => {
                            let mut inner = Reader::new(m, &path, self.errors);
                            let v = f(&mut inner);
                            inner.finish();
                            out.extend(v);
                        }
                        _ => self.errors.push(FieldError::new(path, "must be an object")),
                    }
                }
            }
            Some(Value::Array(_)) => self.error(key, format!("must have at most {max} items")),
            Some(_) => self.error(key, "must be an array"),
        }
        out
    }

    /// Declares keys that the caller reads itself (so they are not reported as unknown).
    pub fn allow(&mut self, keys: &[&'static str]) {
        self.known.extend(keys);
    }

    /// Reports every key that no reader asked for: unknown fields are refused, not ignored, so a
    /// misspelt field never silently loses what a hospital typed.
    pub fn finish(self) {
        let unknown: Vec<String> = self.map.keys().filter(|k| !self.known.contains(k.as_str())).cloned().collect();
        for k in unknown {
            let path = if self.prefix.is_empty() { k } else { format!("{}.{k}", self.prefix) };
            self.errors.push(FieldError::new(path, "is not a known field"));
        }
    }
}

/// A phone number as people write it: digits with optional `+`, spaces, hyphens and parentheses,
/// 9 to 15 digits.
pub fn looks_like_phone(s: &str) -> bool {
    let allowed = s.chars().all(|c| c.is_ascii_digit() || " -+()".contains(c));
    let digits = s.chars().filter(char::is_ascii_digit).count();
    let plus_ok = s.trim_start().starts_with('+') || !s.contains('+');
    allowed && plus_ok && (9..=15).contains(&digits)
}

/// A plausible e-mail address (the mail server is the real judge).
pub fn looks_like_email(s: &str) -> bool {
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !s.chars().any(|c| c.is_whitespace() || c == '<' || c == '>' || c == ',')
                && s.len() <= 254
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers_are_recognised_as_people_write_them() {
        for ok in ["03-1234-5678", "+81 3 1234 5678", "0120-000-000", "(03) 1234-5678", "09012345678"] {
            assert!(looks_like_phone(ok), "{ok}");
        }
        for bad in ["", "call me", "123", "03-1234-5678 ext", "1+2345678901", "1234567890123456"] {
            assert!(!looks_like_phone(bad), "{bad}");
        }
    }

    #[test]
    fn every_bad_field_is_reported_once_with_its_path() {
        let v = serde_json::json!({"a": 1, "b": "x", "nested": {"c": "y", "zz": 1}, "extra": true});
        let mut errors = Vec::new();
        let mut r = Reader::new(v.as_object().unwrap(), "", &mut errors);
        r.string("a", true, 1, 10);
        r.integer("b", 0, 5);
        r.object("nested", |n| n.boolean("c", false));
        r.string("missing", true, 1, 10);
        r.finish();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["a", "b", "nested.c", "nested.zz", "missing", "extra"]);
    }
}
