//! Which health authority (衛生主管部局) oversees a hospital under 医療法第25条: the prefecture, or
//! the city where the city runs its own public health centre (保健所設置市), or the ward in Tokyo's
//! special wards (特別区). Selected by the hospital's JIS X 0402 municipality code.
//!
//! The list is data with its source: 地域保健法施行令 第1条 (1号 政令指定都市, 2号 中核市, 3号 the
//! cities named there) and 地域保健法 第5条 (特別区), as of 2025-04 (UNCONFIRMED against the e-Gov
//! text on that date: a city missing here is told as "the prefecture, or the city if it runs its
//! own centre", never silently as the prefecture alone).

/// `(code, name)` of every city that runs its own public health centre, and of the 23 special wards.
pub const HEALTH_CENTRE_MUNICIPALITIES: &[(&str, &str)] = &[
    // 政令指定都市 (地域保健法施行令1条1号)
    ("01100", "札幌市"),
    ("04100", "仙台市"),
    ("11100", "さいたま市"),
    ("12100", "千葉市"),
    ("14100", "横浜市"),
    ("14130", "川崎市"),
    ("14150", "相模原市"),
    ("15100", "新潟市"),
    ("22100", "静岡市"),
    ("22130", "浜松市"),
    ("23100", "名古屋市"),
    ("26100", "京都市"),
    ("27100", "大阪市"),
    ("27140", "堺市"),
    ("28100", "神戸市"),
    ("33100", "岡山市"),
    ("34100", "広島市"),
    ("40100", "北九州市"),
    ("40130", "福岡市"),
    ("43100", "熊本市"),
    // 中核市 (同2号)
    ("01202", "函館市"),
    ("01204", "旭川市"),
    ("02201", "青森市"),
    ("02203", "八戸市"),
    ("03201", "盛岡市"),
    ("05201", "秋田市"),
    ("06201", "山形市"),
    ("07201", "福島市"),
    ("07203", "郡山市"),
    ("07204", "いわき市"),
    ("08201", "水戸市"),
    ("09201", "宇都宮市"),
    ("10201", "前橋市"),
    ("10202", "高崎市"),
    ("11201", "川越市"),
    ("11203", "川口市"),
    ("11222", "越谷市"),
    ("12204", "船橋市"),
    ("12217", "柏市"),
    ("13201", "八王子市"),
    ("14201", "横須賀市"),
    ("16201", "富山市"),
    ("17201", "金沢市"),
    ("18201", "福井市"),
    ("19201", "甲府市"),
    ("20201", "長野市"),
    ("20202", "松本市"),
    ("21201", "岐阜市"),
    ("23201", "豊橋市"),
    ("23202", "岡崎市"),
    ("23203", "一宮市"),
    ("23211", "豊田市"),
    ("25201", "大津市"),
    ("27203", "豊中市"),
    ("27205", "吹田市"),
    ("27207", "高槻市"),
    ("27210", "枚方市"),
    ("27212", "八尾市"),
    ("27215", "寝屋川市"),
    ("27227", "東大阪市"),
    ("28201", "姫路市"),
    ("28202", "尼崎市"),
    ("28203", "明石市"),
    ("28204", "西宮市"),
    ("29201", "奈良市"),
    ("30201", "和歌山市"),
    ("31201", "鳥取市"),
    ("32201", "松江市"),
    ("33202", "倉敷市"),
    ("34202", "呉市"),
    ("34207", "福山市"),
    ("35201", "下関市"),
    ("37201", "高松市"),
    ("38201", "松山市"),
    ("39201", "高知市"),
    ("40203", "久留米市"),
    ("42201", "長崎市"),
    ("42202", "佐世保市"),
    ("44201", "大分市"),
    ("45201", "宮崎市"),
    ("46201", "鹿児島市"),
    ("47201", "那覇市"),
    // 同3号
    ("01203", "小樽市"),
    ("13209", "町田市"),
    ("14205", "藤沢市"),
    ("14207", "茅ヶ崎市"),
    ("24202", "四日市市"),
    // 特別区 (地域保健法5条1項)
    ("13101", "千代田区"),
    ("13102", "中央区"),
    ("13103", "港区"),
    ("13104", "新宿区"),
    ("13105", "文京区"),
    ("13106", "台東区"),
    ("13107", "墨田区"),
    ("13108", "江東区"),
    ("13109", "品川区"),
    ("13110", "目黒区"),
    ("13111", "大田区"),
    ("13112", "世田谷区"),
    ("13113", "渋谷区"),
    ("13114", "中野区"),
    ("13115", "杉並区"),
    ("13116", "豊島区"),
    ("13117", "北区"),
    ("13118", "荒川区"),
    ("13119", "板橋区"),
    ("13120", "練馬区"),
    ("13121", "足立区"),
    ("13122", "葛飾区"),
    ("13123", "江戸川区"),
];

/// The health authority of a hospital.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HealthAuthority {
    /// The city or ward that runs its own public health centre: its name.
    Municipality(&'static str),
    /// The prefecture (the municipality is on record and runs no centre of its own).
    Prefecture,
    /// No municipality on record: the prefecture, or the city or ward if it runs its own centre.
    PrefectureOrCity,
}

/// The health authority for a hospital in `municipality` (a JIS X 0402 code).
pub fn health_authority(municipality: Option<&str>) -> HealthAuthority {
    match municipality {
        None => HealthAuthority::PrefectureOrCity,
        Some(code) => HEALTH_CENTRE_MUNICIPALITIES
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(_, name)| HealthAuthority::Municipality(name))
            .unwrap_or(HealthAuthority::Prefecture),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_health_authority_follows_the_municipality() {
        // Source: 地域保健法 第5条, 同施行令 第1条; 医療法 第25条 (知事, 保健所を設置する市の市長, 特別区の区長).
        #[rustfmt::skip]
        let rows = [
            (Some("27100"), HealthAuthority::Municipality("大阪市"), "a designated city (政令指定都市)"),
            (Some("33100"), HealthAuthority::Municipality("岡山市"), "a designated city"),
            (Some("34202"), HealthAuthority::Municipality("呉市"), "a core city (中核市)"),
            (Some("14207"), HealthAuthority::Municipality("茅ヶ崎市"), "a city named in 施行令1条3号"),
            (Some("13101"), HealthAuthority::Municipality("千代田区"), "a special ward"),
            (Some("13123"), HealthAuthority::Municipality("江戸川区"), "the last special ward"),
            (Some("36489"), HealthAuthority::Prefecture, "a town: the prefecture (徳島県)"),
            (Some("40202"), HealthAuthority::Prefecture, "大牟田市 left the list on 2020-03-31"),
            (None, HealthAuthority::PrefectureOrCity, "nothing on record: both are named"),
        ];
        for (code, expected, why) in rows {
            assert_eq!(health_authority(code), expected, "{why}");
        }
    }

    #[test]
    fn the_list_has_20_designated_cities_62_core_cities_5_named_cities_and_23_wards() {
        assert_eq!(HEALTH_CENTRE_MUNICIPALITIES.len(), 20 + 62 + 5 + 23);
        let mut codes: Vec<&str> = HEALTH_CENTRE_MUNICIPALITIES.iter().map(|(c, _)| *c).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), HEALTH_CENTRE_MUNICIPALITIES.len(), "no code twice");
        assert!(codes.iter().all(|c| c.len() == 5 && c.bytes().all(|b| b.is_ascii_digit())));
    }
}
