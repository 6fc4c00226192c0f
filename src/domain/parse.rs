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

    /// A string, stored trimmed. Its length in characters (as sent) must be within `min..=max`,
    /// it must not be blank when `min > 0`, and it must not contain control characters other
    /// than tab and line breaks: exactly what [`TEXT_PATTERN`] / [`LINE_PATTERN`] say in the contract.
    pub fn string(&mut self, key: &'static str, required: bool, min: usize, max: usize) -> Option<String> {
        match self.value(key) {
            None => {
                if required {
                    self.missing(key);
                }
                None
            }
            Some(Value::String(s)) => match check_text(s, min, max) {
                Ok(t) => Some(t),
                Err(m) => {
                    self.error(key, m);
                    None
                }
            },
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

    /// A list of short strings (each as [`Reader::string`] with `min` 1).
    pub fn strings(&mut self, key: &'static str, max_items: usize, max_len: usize) -> Vec<String> {
        let mut out = Vec::new();
        match self.value(key) {
            None => {}
            Some(Value::Array(items)) if items.len() <= max_items => {
                for (i, item) in items.iter().enumerate() {
                    match item.as_str().map(|s| check_text(s, 1, max_len)) {
                        Some(Ok(s)) => out.push(s),
                        Some(Err(m)) => self.error(&format!("{key}[{i}]"), m),
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

    /// Refuses a field that version 2 of the contract renamed, naming its replacement (DESIGN.md
    /// "Changed names are clean breaks").
    pub fn renamed(&mut self, old: &'static str, replacement: &str) {
        if self.map.contains_key(old) {
            self.known.insert(old);
            let path = self.path(replacement);
            self.error(old, format!("was replaced by `{path}`"));
        }
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

/// Control characters other than tab, line feed and carriage return (Unicode Cc).
fn forbidden_control(c: char) -> bool {
    c.is_control() && c != '\n' && c != '\r' && c != '\t'
}

/// Checks a text value as sent and returns it trimmed.
pub fn check_text(s: &str, min: usize, max: usize) -> Result<String, String> {
    let n = s.chars().count();
    let t = s.trim();
    if n < min || (min > 0 && t.is_empty()) {
        Err(if min <= 1 { "must not be empty".to_owned() } else { format!("must be at least {min} characters") })
    } else if n > max {
        Err(format!("must be at most {max} characters"))
    } else if s.chars().any(forbidden_control) {
        Err("must not contain control characters".to_owned())
    } else {
        Ok(t.to_owned())
    }
}

/// The contract's pattern for free text: no control characters but tab and line breaks.
pub const TEXT_PATTERN: &str = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$";
/// Free text that must not be blank: [`TEXT_PATTERN`] with at least one non-space character.
pub const LINE_PATTERN: &str = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$";
/// [`looks_like_phone`] as a pattern (white space around it is trimmed).
pub const PHONE_PATTERN: &str = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*\+?[ ()-]*(?:[0-9][ ()-]*){9,15}[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*$";

/// [`looks_like_email`] as a pattern, or empty (white space around it is trimmed).
pub const EMAIL_PATTERN: &str = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*(?:[^@\s<>,\u0000-\u001F\u007F-\u009F]+@[^\s<>,.\u0000-\u001F\u007F-\u009F][^\s<>,\u0000-\u001F\u007F-\u009F]*\.[^\s<>,\u0000-\u001F\u007F-\u009F]*[^\s<>,.\u0000-\u001F\u007F-\u009F])?[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*$";

/// A phone number as people write it: an optional leading `+`, then digits with spaces, hyphens
/// and parentheses, 9 to 15 digits.
pub fn looks_like_phone(s: &str) -> bool {
    let rest = s.strip_prefix('+').unwrap_or(s);
    let allowed = rest.chars().all(|c| c.is_ascii_digit() || " -()".contains(c));
    let digits = rest.chars().filter(char::is_ascii_digit).count();
    allowed && (9..=15).contains(&digits)
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
                && s.chars().count() <= 254
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
