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
        self.checked(key, required, |s| check_text(s, min, max))
    }

    /// A one-line name or title, stored trimmed ([`check_name`], [`NAME_PATTERN`] in the contract).
    pub fn name(&mut self, key: &'static str, required: bool, min: usize, max: usize) -> Option<String> {
        self.checked(key, required, |s| check_name(s, min, max))
    }

    /// A string value passed through `check`, whose error is reported against `key`.
    fn checked(
        &mut self,
        key: &'static str,
        required: bool,
        check: impl FnOnce(&str) -> Result<String, String>,
    ) -> Option<String> {
        match self.value(key) {
            None => {
                if required {
                    self.missing(key);
                }
                None
            }
            Some(Value::String(s)) => match check(s) {
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

/// Bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069): they make a
/// text read differently from what it contains ("Trojan Source", CVE-2021-42574), so no text takes them.
fn bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Invisible characters that make two names look alike: zero-width space, non-joiner and joiner,
/// word joiner, the byte-order mark and the Mongolian vowel separator.
fn zero_width(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{180E}')
}

/// Checks a one-line value (a name, a title) as sent and returns it trimmed: no control character
/// at all (no line break either), no bidirectional control and no zero-width character.
pub fn check_name(s: &str, min: usize, max: usize) -> Result<String, String> {
    if s.chars().any(char::is_control) {
        Err("must be one line without control characters".to_owned())
    } else if s.chars().any(zero_width) {
        Err("must not contain zero-width characters".to_owned())
    } else {
        check_text(s, min, max)
    }
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
    } else if s.chars().any(bidi_control) {
        Err("must not contain bidirectional control characters".to_owned())
    } else {
        Ok(t.to_owned())
    }
}

/// The contract's pattern for free text: no control characters but tab and line breaks, no
/// bidirectional controls.
pub const TEXT_PATTERN: &str = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]*$";
/// Free text that must not be blank: [`TEXT_PATTERN`] with at least one non-space character.
pub const LINE_PATTERN: &str = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]*[^\s\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]*$";
/// A name or title ([`check_name`]): one line, not blank, no control, bidirectional or zero-width
/// character.
pub const NAME_PATTERN: &str = r"^[^\u0000-\u001F\u007F-\u009F\u180E\u200B-\u200D\u202A-\u202E\u2060\u2066-\u2069\uFEFF]*[^\s\u0000-\u001F\u007F-\u009F\u180E\u200B-\u200D\u202A-\u202E\u2060\u2066-\u2069\uFEFF][^\u0000-\u001F\u007F-\u009F\u180E\u200B-\u200D\u202A-\u202E\u2060\u2066-\u2069\uFEFF]*$";
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

    /// Names and titles are one visible line; free text keeps its line breaks. Source: OWASP ASVS 5.0
    /// V1.2 (output encoding) and CVE-2021-42574 ("Trojan Source") for the bidirectional controls.
    #[test]
    fn names_are_one_visible_line_and_no_text_takes_bidirectional_controls() {
        // (input, accepted as a name, accepted as free text)
        let rows: &[(&str, bool, bool)] = &[
            ("火消総合病院", true, true),
            ("  Tokyo General  ", true, true),
            ("情報システム室\t佐藤", false, true),
            ("two\nlines", false, true),
            ("carriage\rreturn", false, true),
            ("bell\u{7}", false, false),
            ("del\u{7f}", false, false),
            ("c1\u{85}", false, false),
            ("evil\u{202E}txt.exe", false, false),
            ("isolate\u{2066}x\u{2069}", false, false),
            ("embed\u{202A}x", false, false),
            ("zero\u{200B}width", false, true),
            ("joiner\u{200D}", false, true),
            ("non\u{200C}joiner", false, true),
            ("word\u{2060}joiner", false, true),
            ("\u{FEFF}bom", false, true),
            ("mongolian\u{180E}", false, true),
        ];
        for (input, as_name, as_text) in rows {
            assert_eq!(check_name(input, 1, 200).is_ok(), *as_name, "name {input:?}");
            assert_eq!(check_text(input, 1, 200).is_ok(), *as_text, "text {input:?}");
        }
        assert_eq!(check_name("  Tokyo General  ", 1, 200).unwrap(), "Tokyo General");
        assert!(check_name("   ", 1, 200).is_err());
    }

    #[test]
    fn lists_longer_than_their_limit_are_refused_and_duplicates_merged() {
        let v = serde_json::json!({"few": ["emr", "pacs"], "many": ["emr", "pacs", "lab"], "twice": ["emr", "emr"],
            "s_few": ["a", "b"], "s_many": ["a", "b", "c"]});
        let mut errors = Vec::new();
        let mut r = Reader::new(v.as_object().unwrap(), "", &mut errors);
        let few: Vec<crate::domain::AffectedSystem> = r.enumerations("few", 2);
        let many: Vec<crate::domain::AffectedSystem> = r.enumerations("many", 2);
        let twice: Vec<crate::domain::AffectedSystem> = r.enumerations("twice", 2);
        let s_few = r.strings("s_few", 2, 10);
        let s_many = r.strings("s_many", 2, 10);
        r.finish();
        assert_eq!((few.len(), many.len(), twice.len(), s_few.len(), s_many.len()), (2, 0, 1, 2, 0));
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["many", "s_many"]);
    }

    #[test]
    fn text_lengths_are_checked_at_their_bounds() {
        // (input, min, max, the error, if any)
        let rows: &[(&str, usize, usize, Option<&str>)] = &[
            ("ab", 2, 3, None),
            ("abc", 2, 3, None),
            ("a", 2, 3, Some("must be at least 2 characters")),
            ("abcd", 2, 3, Some("must be at most 3 characters")),
            ("", 1, 3, Some("must not be empty")),
            ("   ", 1, 3, Some("must not be empty")),
            ("   ", 0, 3, None),
            ("", 0, 3, None),
        ];
        for (input, min, max, error) in rows {
            assert_eq!(check_text(input, *min, *max).err().as_deref(), *error, "{input:?} {min}..={max}");
        }
    }

    #[test]
    fn e_mail_addresses_are_recognised_as_people_write_them() {
        for (address, ok) in [
            ("it@hospital.example", true),
            ("a.b+c@sub.hospital.example", true),
            ("@hospital.example", false),
            ("it@hospital", false),
            ("it@.hospital.example", false),
            ("it@hospital.example.", false),
            ("it @hospital.example", false),
            ("<it@hospital.example>", false),
            ("a@b.example,c@d.example", false),
            ("no-at-sign.example", false),
        ] {
            assert_eq!(looks_like_email(address), ok, "{address}");
        }
        assert!(!looks_like_email(&format!("{}@h.example", "a".repeat(250))), "longer than 254");
    }

    #[test]
    fn times_objects_renamed_and_allowed_keys() {
        let limit: DateTime<Utc> = "2026-11-20T00:00:00Z".parse().unwrap();
        let v = serde_json::json!({
            "at_limit": "2026-11-20T09:00:00+09:00", "after": "2026-11-20T09:00:01+09:00",
            "few": [{"n": 1}, {"n": 2}], "many": [{"n": 1}, {"n": 2}, {"n": 3}], "mixed": [{"n": 1}, 7],
            "persons_estimate": 3, "hospital_id": "h"
        });
        let mut errors = Vec::new();
        let mut r = Reader::new(v.as_object().unwrap(), "", &mut errors);
        assert_eq!(r.time("at_limit", true, Some(limit)), Some(limit), "a time at the limit is not in the future");
        assert_eq!(r.time("after", true, Some(limit)), None);
        let read = |o: &mut Reader<'_>| o.integer("n", 0, 9);
        assert_eq!(r.objects("few", 2, read), [1, 2]);
        assert_eq!(r.objects("many", 2, read), Vec::<i64>::new());
        assert_eq!(r.objects("mixed", 2, read), [1]);
        r.renamed("persons_estimate", "persons");
        r.allow(&["hospital_id"]);
        r.finish();
        let found: Vec<(&str, &str)> = errors.iter().map(|e| (e.field.as_str(), e.message.as_str())).collect();
        assert_eq!(found.len(), 4, "{found:?}");
        assert_eq!(found[0].0, "after");
        assert_eq!(found[1], ("many", "must have at most 2 items"));
        assert_eq!(found[2], ("mixed[1]", "must be an object"));
        assert_eq!(found[3].0, "persons_estimate");
        assert!(found[3].1.contains("persons"), "the error names the replacement: {found:?}");
    }
}
