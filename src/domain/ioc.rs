//! Indicators of compromise in the terms of STIX 2.1 (DESIGN.md version 2): the cyber-observable
//! type names, each value checked and written in one canonical spelling, and the aliases MISP and
//! everyday use give them accepted and stored under the STIX name.
//!
//! Sources: STIX 2.1 (OASIS Standard, 2021-06-10) §6 "STIX Cyber-observable Objects" (the names and
//! what each value is); MISP `describeTypes.json` (the aliases `ip-src`, `ip-dst`, `hostname`,
//! `email-src`, `filename`, `regkey`, `AS`, `x509-fingerprint-sha256`, ...).
//!
//! Values arriving "defanged" (`hxxp://evil[.]example`, `user[@]example.jp`), as they do in the
//! advisories hospitals copy from, are refanged: the stored value is the indicator itself.

use std::net::{Ipv4Addr, Ipv6Addr};

crate::text_enum! {
    /// Kind of an indicator of compromise: a STIX 2.1 cyber-observable type (and, for a file, the
    /// property that holds the value). `other` keeps what no STIX type describes (MISP `other`).
    pub enum IocType {
        Ipv4 = "ipv4-addr",
        Ipv6 = "ipv6-addr",
        DomainName = "domain-name",
        Url = "url",
        EmailAddr = "email-addr",
        MacAddr = "mac-addr",
        AutonomousSystem = "autonomous-system",
        FileSha256 = "file:sha256",
        FileSha1 = "file:sha1",
        FileMd5 = "file:md5",
        FileName = "file:name",
        WindowsRegistryKey = "windows-registry-key",
        X509Certificate = "x509-certificate",
        Other = "other",
    }
}

/// What a type name given by a client stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Named {
    Type(IocType),
    /// An IP address of either family (`ip`, `ip-src`, ...): the value decides.
    AnyIp,
    /// A file hash of unstated algorithm (`hash`, hikeshi's first vocabulary): the length decides.
    AnyHash,
}

/// The aliases accepted for each type (compared without case).
const ALIASES: &[(&str, Named)] = &[
    ("ip", Named::AnyIp),
    ("ip-src", Named::AnyIp),
    ("ip-dst", Named::AnyIp),
    ("ip-addr", Named::AnyIp),
    ("ipv4", Named::Type(IocType::Ipv4)),
    ("ipv6", Named::Type(IocType::Ipv6)),
    ("domain", Named::Type(IocType::DomainName)),
    ("hostname", Named::Type(IocType::DomainName)),
    ("fqdn", Named::Type(IocType::DomainName)),
    ("uri", Named::Type(IocType::Url)),
    ("link", Named::Type(IocType::Url)),
    ("email", Named::Type(IocType::EmailAddr)),
    ("email-src", Named::Type(IocType::EmailAddr)),
    ("email-dst", Named::Type(IocType::EmailAddr)),
    ("mac", Named::Type(IocType::MacAddr)),
    ("mac-address", Named::Type(IocType::MacAddr)),
    ("as", Named::Type(IocType::AutonomousSystem)),
    ("asn", Named::Type(IocType::AutonomousSystem)),
    ("sha256", Named::Type(IocType::FileSha256)),
    ("sha-256", Named::Type(IocType::FileSha256)),
    ("sha1", Named::Type(IocType::FileSha1)),
    ("sha-1", Named::Type(IocType::FileSha1)),
    ("md5", Named::Type(IocType::FileMd5)),
    ("hash", Named::AnyHash),
    ("filename", Named::Type(IocType::FileName)),
    ("file", Named::Type(IocType::FileName)),
    ("regkey", Named::Type(IocType::WindowsRegistryKey)),
    ("registry-key", Named::Type(IocType::WindowsRegistryKey)),
    ("x509-fingerprint-sha256", Named::Type(IocType::X509Certificate)),
    ("x509-fingerprint-sha1", Named::Type(IocType::X509Certificate)),
    ("x509", Named::Type(IocType::X509Certificate)),
];

fn named(type_name: &str) -> Option<Named> {
    let t = type_name.trim().to_ascii_lowercase();
    IocType::parse(&t).map(Named::Type).or_else(|| ALIASES.iter().find(|(alias, _)| *alias == t).map(|(_, n)| *n))
}

/// Why a type name is not known, naming the accepted ones.
pub fn unknown_type_message() -> String {
    let all: Vec<&str> = IocType::ALL.iter().map(|t| t.as_str()).collect();
    format!(
        "must be a STIX 2.1 cyber-observable type: {} (aliases such as ip, ipv4, ip-dst, domain, hostname, sha256, md5, email are accepted)",
        all.join(", ")
    )
}

/// An indicator as stored: its STIX type and canonical value.
pub type Normalized = (IocType, String);

/// Resolves a client's type name and value to the stored type and canonical value, or says what is
/// wrong with the value (the error is about `value`; an unknown type is `Err(None)`).
pub fn normalize(type_name: &str, value: &str) -> Result<Normalized, Option<String>> {
    let named = named(type_name).ok_or(None)?;
    let v = value.trim();
    let resolved = match named {
        Named::Type(t) => t,
        Named::AnyIp => match refang(v).split('/').next().unwrap_or_default() {
            s if s.parse::<Ipv4Addr>().is_ok() => IocType::Ipv4,
            s if s.parse::<Ipv6Addr>().is_ok() => IocType::Ipv6,
            _ => return Err(Some("must be an IPv4 or IPv6 address, e.g. 203.0.113.7".into())),
        },
        Named::AnyHash => match v.len() {
            64 => IocType::FileSha256,
            40 => IocType::FileSha1,
            32 => IocType::FileMd5,
            _ => return Err(Some("must be an MD5, SHA-1 or SHA-256 hash (32, 40 or 64 hexadecimal digits)".into())),
        },
    };
    canonical(resolved, v).map(|c| (resolved, c)).map_err(Some)
}

/// Undoes the usual defanging of indicators in advisories and mail.
fn refang(v: &str) -> String {
    let mut s = v.replace("[.]", ".").replace("(.)", ".").replace("{.}", ".").replace("[dot]", ".");
    s = s.replace("[@]", "@").replace("[at]", "@").replace("[:]", ":").replace("[://]", "://");
    let lower = s.to_ascii_lowercase();
    for (fanged, real) in [("hxxps", "https"), ("hxxp", "http"), ("fxp", "ftp")] {
        if lower.starts_with(fanged) {
            s = format!("{real}{}", &s[fanged.len()..]);
            break;
        }
    }
    s
}

fn hex_of(v: &str, digits: usize, what: &str) -> Result<String, String> {
    let h: String = v.chars().filter(|c| *c != ':').collect::<String>().to_ascii_lowercase();
    if h.len() == digits && h.chars().all(|c| c.is_ascii_hexdigit()) {
        Ok(h)
    } else {
        Err(format!("must be {what} ({digits} hexadecimal digits)"))
    }
}

/// An address, or a CIDR block when a prefix length up to `bits` follows a `/` (STIX 2.1 §6.4, §6.5).
fn address<A: std::str::FromStr + std::fmt::Display>(
    v: &str,
    bits: u8,
    family: &str,
    example: &str,
    block: &str,
) -> Result<String, String> {
    let (addr, prefix) = v.split_once('/').map_or((v, None), |(a, p)| (a, Some(p)));
    let ip: A = addr.parse().map_err(|_| format!("must be an {family} address, e.g. {example}"))?;
    match prefix.map(str::parse::<u8>) {
        None => Ok(ip.to_string()),
        Some(Ok(n)) if n <= bits => Ok(format!("{ip}/{n}")),
        Some(_) => Err(format!("must be an {family} address or CIDR block, e.g. {block}")),
    }
}

fn domain(v: &str) -> Result<String, String> {
    let d = v.trim_end_matches('.').to_lowercase();
    let bad = || "must be a domain name, e.g. evil.example".to_string();
    if d.is_empty() || d.len() > 253 || d.parse::<Ipv4Addr>().is_ok() || !d.contains('.') {
        return Err(bad());
    }
    match url::Host::parse(&d) {
        Ok(url::Host::Domain(ascii)) => {
            let labels_ok = ascii.split('.').all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            });
            if labels_ok {
                Ok(ascii)
            } else {
                Err(bad())
            }
        }
        _ => Err(bad()),
    }
}

/// The canonical spelling of a value of type `t` (STIX 2.1 §6), or why it is not one.
fn canonical(t: IocType, v: &str) -> Result<String, String> {
    if v.is_empty() {
        return Err("must not be empty".into());
    }
    if v.chars().any(char::is_control) {
        return Err("must be one line without control characters".into());
    }
    match t {
        IocType::Ipv4 => address::<Ipv4Addr>(&refang(v), 32, "IPv4", "203.0.113.7", "203.0.113.0/24"),
        IocType::Ipv6 => address::<Ipv6Addr>(&refang(v), 128, "IPv6", "2001:db8::7", "2001:db8::/32"),
        IocType::DomainName => domain(&refang(v)),
        IocType::Url => {
            let v = refang(v);
            match url::Url::parse(&v) {
                Ok(u) if u.host().is_some() => Ok(u.to_string()),
                _ => Err("must be an absolute URL with a host, e.g. http://evil.example/x".into()),
            }
        }
        IocType::EmailAddr => {
            let v = refang(v);
            let bad = || "must be an e-mail address, e.g. attacker@evil.example".to_string();
            let (local, host) = v.rsplit_once('@').ok_or_else(bad)?;
            if local.is_empty() || local.len() > 64 || local.chars().any(|c| c.is_whitespace() || c == '@') {
                return Err(bad());
            }
            Ok(format!("{local}@{}", domain(host).map_err(|_| bad())?))
        }
        IocType::MacAddr => {
            let hex: String = v.chars().filter(|c| !matches!(c, ':' | '-' | '.')).collect();
            if hex.len() != 12 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err("must be a MAC address, e.g. 00:1a:2b:3c:4d:5e".into());
            }
            let hex = hex.to_ascii_lowercase();
            Ok(hex.as_bytes().chunks(2).map(|p| String::from_utf8_lossy(p).into_owned()).collect::<Vec<_>>().join(":"))
        }
        IocType::AutonomousSystem => {
            let digits = v.trim_start_matches(|c: char| c.eq_ignore_ascii_case(&'a') || c.eq_ignore_ascii_case(&'s'));
            match digits.trim().parse::<u32>() {
                Ok(n) => Ok(n.to_string()),
                Err(_) => Err("must be an autonomous system number, e.g. AS64500 or 64500".into()),
            }
        }
        IocType::FileSha256 => hex_of(v, 64, "a SHA-256 hash"),
        IocType::FileSha1 => hex_of(v, 40, "a SHA-1 hash"),
        IocType::FileMd5 => hex_of(v, 32, "an MD5 hash"),
        IocType::FileName => {
            if v.chars().count() > 255 {
                Err("must be a file name of at most 255 characters".into())
            } else {
                Ok(v.to_string())
            }
        }
        IocType::WindowsRegistryKey => {
            const HIVES: &[(&str, &str)] = &[
                ("HKLM", "HKEY_LOCAL_MACHINE"),
                ("HKCU", "HKEY_CURRENT_USER"),
                ("HKCR", "HKEY_CLASSES_ROOT"),
                ("HKU", "HKEY_USERS"),
                ("HKCC", "HKEY_CURRENT_CONFIG"),
            ];
            let (hive, rest) = v.split_once('\\').unwrap_or((v, ""));
            let up = hive.to_ascii_uppercase();
            let full = HIVES.iter().find(|(short, long)| up == *short || up == *long).map(|(_, long)| *long);
            match full {
                Some(h) if rest.is_empty() => Ok(h.to_string()),
                Some(h) => Ok(format!("{h}\\{rest}")),
                None => Err(
                    "must be a registry key under a hive, e.g. HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Run"
                        .into(),
                ),
            }
        }
        IocType::X509Certificate => match v.chars().filter(|c| *c != ':').count() {
            40 => hex_of(v, 40, "a certificate's SHA-1 fingerprint"),
            _ => hex_of(v, 64, "a certificate's SHA-256 (or SHA-1) fingerprint"),
        },
        IocType::Other => Ok(v.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// STIX 2.1 §6 (what each value is) and MISP describeTypes (the aliases): (type given, value
    /// given, stored type, stored value).
    #[test]
    fn each_type_and_alias_is_stored_under_its_stix_name_in_one_spelling() {
        let cases: &[(&str, &str, &str, &str)] = &[
            ("ipv4-addr", "203.0.113.7", "ipv4-addr", "203.0.113.7"),
            ("ipv4", " 203.0.113.7 ", "ipv4-addr", "203.0.113.7"),
            ("ip-dst", "203.0.113[.]7", "ipv4-addr", "203.0.113.7"),
            ("ip", "203.0.113.0/24", "ipv4-addr", "203.0.113.0/24"),
            ("ip-src", "2001:DB8:0:0::7", "ipv6-addr", "2001:db8::7"),
            ("IPv6", "2001:db8::/32", "ipv6-addr", "2001:db8::/32"),
            ("domain", "Evil.Example.", "domain-name", "evil.example"),
            ("hostname", "vpn.evil[.]example", "domain-name", "vpn.evil.example"),
            ("domain-name", "病院.example", "domain-name", "xn--0rys90e.example"),
            ("url", "hxxp://evil[.]example/x", "url", "http://evil.example/x"),
            ("link", "https://EVIL.example", "url", "https://evil.example/"),
            ("email", "attacker[@]evil.example", "email-addr", "attacker@evil.example"),
            ("email-src", "a@Evil.Example", "email-addr", "a@evil.example"),
            ("mac", "00-1A-2B-3C-4D-5E", "mac-addr", "00:1a:2b:3c:4d:5e"),
            ("AS", "AS64500", "autonomous-system", "64500"),
            ("asn", "64500", "autonomous-system", "64500"),
            ("sha256", &"AB".repeat(32), "file:sha256", &"ab".repeat(32)),
            ("hash", &"c".repeat(64), "file:sha256", &"c".repeat(64)),
            ("hash", &"c".repeat(40), "file:sha1", &"c".repeat(40)),
            ("hash", &"c".repeat(32), "file:md5", &"c".repeat(32)),
            ("md5", &"0".repeat(32), "file:md5", &"0".repeat(32)),
            ("filename", "LockBit_Ransomware.hta", "file:name", "LockBit_Ransomware.hta"),
            ("regkey", "hklm\\Software\\Run", "windows-registry-key", "HKEY_LOCAL_MACHINE\\Software\\Run"),
            ("x509-fingerprint-sha256", &"AA:".repeat(31), "", ""),
            ("x509-fingerprint-sha1", &format!("{}AA", "AA:".repeat(19)), "x509-certificate", &"aa".repeat(20)),
            ("other", "Tor onion of the leak site", "other", "Tor onion of the leak site"),
        ];
        for (given, value, stored, canonical) in cases {
            let got = normalize(given, value);
            if stored.is_empty() {
                assert!(matches!(got, Err(Some(_))), "{given} {value}: {got:?}");
                continue;
            }
            let (t, v) = got.unwrap_or_else(|e| panic!("{given} {value}: {e:?}"));
            assert_eq!((t.as_str(), v.as_str()), (*stored, *canonical), "{given} {value}");
        }
    }

    #[test]
    fn a_value_that_is_not_of_its_type_is_refused_saying_what_it_should_be() {
        for (given, value, says) in [
            ("ipv4-addr", "203.0.113.700", "IPv4"),
            ("ipv4-addr", "2001:db8::7", "IPv4"),
            ("ip", "evil.example", "IPv4 or IPv6"),
            ("file:sha256", "abc", "SHA-256"),
            ("hash", "abc", "MD5, SHA-1 or SHA-256"),
            ("url", "evil.example/x", "absolute URL"),
            ("domain-name", "no_dots", "domain name"),
            ("domain-name", "203.0.113.7", "domain name"),
            ("email-addr", "nobody", "e-mail"),
            ("mac-addr", "00:1a:2b", "MAC"),
            ("autonomous-system", "ASX", "autonomous system"),
            ("windows-registry-key", "Software\\Run", "hive"),
            ("file:name", "a\nb", "one line"),
        ] {
            match normalize(given, value) {
                Err(Some(m)) => assert!(m.contains(says), "{given} {value}: {m}"),
                other => panic!("{given} {value} was accepted: {other:?}"),
            }
        }
        assert_eq!(normalize("ipaddress", "203.0.113.7"), Err(None));
        assert!(unknown_type_message().contains("ipv4-addr"));
    }
}
