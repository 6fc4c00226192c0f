//! Prefectures as two-digit JIS X 0401 codes ("01"–"47"), with names, regions and land neighbours.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Static facts about one prefecture.
#[derive(Debug)]
pub struct PrefectureInfo {
    pub code: u8,
    pub name_ja: &'static str,
    pub name_en: &'static str,
    pub region: &'static str,
    pub land_neighbours: &'static [u8],
}

/// A valid prefecture code. The field is private: the only way to get one is `parse` or `from_number`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Prefecture(u8);

impl Prefecture {
    /// Parses a two-digit code `"01"`–`"47"`.
    pub fn parse(s: &str) -> Option<Self> {
        if s.len() != 2 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse::<u8>().ok().and_then(Self::from_number)
    }

    /// From the number 1–47.
    pub fn from_number(n: u8) -> Option<Self> {
        (1..=47).contains(&n).then_some(Prefecture(n))
    }

    /// Every prefecture, in code order.
    pub fn all() -> impl Iterator<Item = Prefecture> {
        (1..=47).map(Prefecture)
    }

    pub fn number(self) -> u8 {
        self.0
    }

    /// The two-digit code.
    pub fn code(self) -> String {
        format!("{:02}", self.0)
    }

    pub fn info(self) -> &'static PrefectureInfo {
        &super::prefecture_data::PREFECTURES[usize::from(self.0) - 1]
    }

    pub fn name_ja(self) -> &'static str {
        self.info().name_ja
    }

    pub fn name_en(self) -> &'static str {
        self.info().name_en
    }

    /// Prefectures sharing a land border.
    pub fn neighbours(self) -> impl Iterator<Item = Prefecture> {
        self.info().land_neighbours.iter().map(|n| Prefecture(*n))
    }

    pub fn is_neighbour_of(self, other: Prefecture) -> bool {
        self.info().land_neighbours.contains(&other.0)
    }
}

impl std::fmt::Display for Prefecture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:02}", self.0)
    }
}

impl Serialize for Prefecture {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.code())
    }
}

impl<'de> Deserialize<'de> for Prefecture {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Prefecture::parse(&s)
            .ok_or_else(|| serde::de::Error::custom("must be a two-digit JIS X 0401 code \"01\"–\"47\""))
    }
}

impl utoipa::PartialSchema for Prefecture {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some("^(0[1-9]|[1-3][0-9]|4[0-7])$"))
            .min_length(Some(2))
            .max_length(Some(2))
            .description(Some("JIS X 0401 prefecture code"))
            .examples([serde_json::json!("13")])
            .into()
    }
}
impl utoipa::ToSchema for Prefecture {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_parse_only_in_range_and_two_digits() {
        assert_eq!(Prefecture::parse("01").map(|p| p.name_en()), Some("Hokkaido"));
        assert_eq!(Prefecture::parse("47").map(|p| p.name_en()), Some("Okinawa"));
        for bad in ["00", "48", "1", "001", "ab", "", "-1"] {
            assert!(Prefecture::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn neighbours_are_symmetric() {
        for p in Prefecture::all() {
            for n in p.neighbours() {
                assert!(n.is_neighbour_of(p), "{p} -> {n}");
            }
        }
    }

    #[test]
    fn all_47_have_their_number_code_and_display_and_land_neighbours() {
        let all: Vec<Prefecture> = Prefecture::all().collect();
        assert_eq!(all.len(), 47);
        for (i, p) in all.iter().enumerate() {
            let n = u8::try_from(i + 1).unwrap();
            assert_eq!(p.number(), n);
            assert_eq!(p.code(), format!("{n:02}"));
            assert_eq!(p.to_string(), p.code());
            assert_eq!(Prefecture::parse(&p.code()), Some(*p));
        }
        let tokyo = Prefecture::parse("13").unwrap();
        let names: Vec<&str> = tokyo.neighbours().map(Prefecture::name_ja).collect();
        for n in ["埼玉県", "神奈川県", "山梨県"] {
            assert!(names.contains(&n), "{n} borders Tokyo: {names:?}");
        }
        assert_eq!(Prefecture::parse("47").unwrap().neighbours().count(), 0, "Okinawa has no land border");
    }
}
