//! Routing: which authorities an incident goes to, why, and which reporting duties follow
//! (DOMAIN.md §2).
//!
//! Owns the routing table as one pure function from incident facts to routes. Each route carries its
//! reasons in Japanese and English, because the hospital sees them before it submits and in e-mails,
//! and the obligations (with deadlines in days) that the caller turns into tracked tasks. Contacts are
//! not chosen here: they are data with effective dates, looked up by authority and prefecture elsewhere.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::deadlines::DeadlineConfig;
use super::enums::{Authority, CareImpact, Category, LegalForm, ObligationKind, PersonalDataStatus, Requirement};

/// Persons above which a private hospital's breach is reportable to the PPC on numbers alone.
const PPC_PERSONS_THRESHOLD_PRIVATE: i64 = 1000;
/// The same threshold for public bodies (行政機関等).
const PPC_PERSONS_THRESHOLD_PUBLIC_BODY: i64 = 100;

/// The facts of an incident that routing depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutingFacts {
    pub category: Category,
    pub care_impact: CareImpact,
    pub personal_data: PersonalDataStatus,
    /// Estimated number of persons whose data is affected, when known.
    pub persons_estimate: Option<i64>,
    /// 要配慮個人情報 (all medical records are).
    pub sensitive: bool,
    /// Risk of financial damage (e.g. card or bank data).
    pub financial_risk: bool,
    /// The data was protected by strong encryption (高度な暗号化), which removes the PPC duty.
    pub encrypted: bool,
    pub legal_form: LegalForm,
}

/// One authority an incident is routed to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Route {
    pub authority: Authority,
    pub requirement: Requirement,
    /// Every rule that applied, in words.
    pub reasons: Vec<Reason>,
    /// Reporting duties this route creates (none for advisory contacts).
    pub obligations: Vec<ObligationSpec>,
}

/// Why a route applies: a stable code plus the explanation in Japanese and English.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Reason {
    /// Stable snake_case code, e.g. `cyber_category`.
    pub code: String,
    pub ja: String,
    pub en: String,
}

/// A reporting duty to create, with its deadline counted in days from awareness (see `deadlines`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ObligationSpec {
    pub kind: ObligationKind,
    /// Due at the end of this day (JST); `None` when the rule only says "promptly".
    pub due_days: Option<u32>,
    /// Day on which to remind the hospital, if any.
    pub reminder_day: Option<u32>,
}

impl ObligationSpec {
    fn undated(kind: ObligationKind) -> Self {
        Self { kind, due_days: None, reminder_day: None }
    }
}

/// Routes an incident. The result is ordered MHLW, PPC, police, IPA, vendor, prefecture.
pub fn route(facts: &RoutingFacts, cfg: &DeadlineConfig) -> Vec<Route> {
    let mhlw = mhlw_route(facts);
    let prefecture = mhlw.as_ref().map(|_| prefecture_route());
    [mhlw, ppc_route(facts, cfg), police_route(facts), ipa_route(facts), vendor_route(facts), prefecture]
        .into_iter()
        .flatten()
        .collect()
}

fn reason(code: &'static str, ja: impl Into<String>, en: impl Into<String>) -> Reason {
    Reason { code: code.to_owned(), ja: ja.into(), en: en.into() }
}

fn mhlw_route(facts: &RoutingFacts) -> Option<Route> {
    let reason = if facts.category.is_cyber() {
        reason(
            "cyber_category",
            "サイバー攻撃（疑いを含む）は厚生労働省へ報告します",
            "Cyber attacks (including suspected ones) are reported to MHLW",
        )
    } else if facts.category == Category::SystemFailure && facts.care_impact != CareImpact::None {
        reason(
            "system_failure_care_impact",
            "診療に影響が出ているシステム障害は厚生労働省へ報告します",
            "System failures that affect patient care are reported to MHLW",
        )
    } else {
        return None;
    };
    Some(Route {
        authority: Authority::Mhlw,
        requirement: Requirement::Required,
        reasons: vec![reason],
        obligations: vec![ObligationSpec::undated(ObligationKind::MhlwInitial)],
    })
}

fn ppc_route(facts: &RoutingFacts, cfg: &DeadlineConfig) -> Option<Route> {
    let status = match facts.personal_data {
        PersonalDataStatus::None => return None,
        PersonalDataStatus::Suspected => reason(
            "personal_data_suspected",
            "個人データの漏えい等のおそれがあります",
            "Personal data may have been leaked, lost or damaged",
        ),
        PersonalDataStatus::Confirmed => reason(
            "personal_data_confirmed",
            "個人データの漏えい等が発生しました",
            "Personal data has been leaked, lost or damaged",
        ),
    };
    // Strong encryption means the data is not readable by whoever holds it: no report is due.
    if facts.encrypted {
        return None;
    }

    let mut triggers = Vec::new();
    if facts.sensitive {
        triggers.push(reason(
            "sensitive_data",
            "要配慮個人情報（診療情報等）が含まれます",
            "The data includes sensitive personal information (such as medical records)",
        ));
    }
    if facts.financial_risk {
        triggers.push(reason(
            "financial_risk",
            "不正に利用されることにより財産的被害が生じるおそれがあります",
            "Misuse of the data could cause financial damage",
        ));
    }
    if facts.category.is_malicious() {
        let label = category_label(facts.category);
        triggers.push(reason(
            "malicious_purpose",
            format!("{}は不正の目的によるおそれがある事態です", label.ja),
            format!("{} may have been done for a malicious purpose", label.en),
        ));
    }
    let (threshold, body_ja, body_en) = match facts.legal_form {
        LegalForm::Private => (PPC_PERSONS_THRESHOLD_PRIVATE, "", ""),
        LegalForm::PublicBody => {
            (PPC_PERSONS_THRESHOLD_PUBLIC_BODY, "行政機関等の基準である", " (the threshold for public bodies)")
        }
    };
    if let Some(persons) = facts.persons_estimate.filter(|n| *n > threshold) {
        triggers.push(reason(
            "persons_over_threshold",
            format!("本人の数（推定{persons}人）が{body_ja}{threshold}人を超えています"),
            format!("The number of persons affected (estimated {persons}) exceeds {threshold}{body_en}"),
        ));
    }
    if triggers.is_empty() {
        return None;
    }

    let mut reasons = vec![status];
    reasons.append(&mut triggers);
    Some(Route {
        authority: Authority::Ppc,
        requirement: Requirement::Required,
        reasons,
        obligations: vec![
            ObligationSpec {
                kind: ObligationKind::PpcPreliminary,
                due_days: Some(cfg.ppc_preliminary_days),
                reminder_day: Some(cfg.ppc_preliminary_reminder_day),
            },
            ObligationSpec {
                kind: ObligationKind::PpcFinal,
                due_days: Some(cfg.ppc_final_days_for(facts.category.is_malicious())),
                reminder_day: None,
            },
            ObligationSpec::undated(ObligationKind::PatientNotice),
        ],
    })
}

fn police_route(facts: &RoutingFacts) -> Option<Route> {
    let reason = match facts.category {
        c if c.is_cyber() => reason(
            "cyber_crime",
            "サイバー攻撃は犯罪に当たる可能性があるため、都道府県警察のサイバー犯罪相談窓口への通報・相談をお勧めします",
            "Cyber attacks may be crimes; reporting to the prefectural police cyber desk is recommended",
        ),
        Category::Theft => reason(
            "theft",
            "盗難は犯罪のため、警察への届出をお勧めします",
            "Theft is a crime; reporting it to the police is recommended",
        ),
        Category::InsiderMisuse => reason(
            "insider_misuse",
            "職員等による不正な持ち出し・利用は犯罪に当たる可能性があるため、警察への相談をお勧めします",
            "Misuse by staff or other insiders may be a crime; consulting the police is recommended",
        ),
        _ => return None,
    };
    Some(Route {
        authority: Authority::Police,
        requirement: Requirement::Recommended,
        reasons: vec![reason],
        obligations: vec![ObligationSpec::undated(ObligationKind::PoliceReport)],
    })
}

fn ipa_route(facts: &RoutingFacts) -> Option<Route> {
    let reportable = matches!(
        facts.category,
        Category::Ransomware
            | Category::Malware
            | Category::UnauthorizedAccess
            | Category::AccountCompromise
            | Category::SupplyChain
    );
    if !reportable {
        return None;
    }
    let label = category_label(facts.category);
    Some(Route {
        authority: Authority::Ipa,
        requirement: Requirement::Recommended,
        reasons: vec![reason(
            "ipa_reportable_category",
            format!("{}は情報処理推進機構（IPA）へのコンピュータウイルス・不正アクセスの届出をお勧めします", label.ja),
            format!("{} should be reported to IPA (computer virus and unauthorized access reporting)", label.en),
        )],
        obligations: vec![ObligationSpec::undated(ObligationKind::IpaReport)],
    })
}

fn vendor_route(facts: &RoutingFacts) -> Option<Route> {
    facts.category.is_cyber().then(|| Route {
        authority: Authority::Vendor,
        requirement: Requirement::Recommended,
        reasons: vec![reason(
            "contact_vendor",
            "サイバー攻撃が疑われる場合は、直ちにシステムの保守会社（ベンダー）へ連絡してください（平成30年厚生労働省通知）",
            "When a cyber attack is suspected, contact the system vendor immediately (2018 MHLW notice)",
        )],
        obligations: Vec::new(),
    })
}

fn prefecture_route() -> Route {
    Route {
        authority: Authority::Prefecture,
        requirement: Requirement::Recommended,
        reasons: vec![reason(
            "prefecture_oversight",
            "都道府県（衛生主管部局）は医療法第25条に基づき調査を行い厚生労働省へ報告するため、連絡をお勧めします",
            "The prefecture's health department investigates under Article 25 of the Medical Care Act and reports to MHLW; informing it is recommended",
        )],
        obligations: Vec::new(),
    }
}

/// How a category reads inside a reason sentence.
struct Label {
    ja: &'static str,
    en: &'static str,
}

fn category_label(category: Category) -> Label {
    let (ja, en) = match category {
        Category::Ransomware => ("ランサムウェア被害", "A ransomware attack"),
        Category::UnauthorizedAccess => ("不正アクセス", "Unauthorized access"),
        Category::Malware => ("マルウェア感染", "A malware infection"),
        Category::Dos => ("DoS攻撃", "A denial-of-service attack"),
        Category::SupplyChain => ("委託先等を経由した攻撃", "An attack through a vendor or contractor"),
        Category::WebDefacement => ("Webサイトの改ざん", "Website defacement"),
        Category::AccountCompromise => ("アカウントの乗っ取り", "An account compromise"),
        Category::Misdelivery => ("誤送付", "Misdelivery"),
        Category::LostMedia => ("記録媒体等の紛失", "Loss of media"),
        Category::Theft => ("盗難", "Theft"),
        Category::InsiderMisuse => ("内部不正", "Insider misuse"),
        Category::SystemFailure => ("システム障害", "A system failure"),
        Category::Other => ("その他の事案", "The incident"),
    };
    Label { ja, en }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Authority::*;
    use Requirement::*;

    /// Facts with nothing reportable except the category: no care impact, no personal data, private.
    fn base(category: Category) -> RoutingFacts {
        RoutingFacts {
            category,
            care_impact: CareImpact::None,
            personal_data: PersonalDataStatus::None,
            persons_estimate: None,
            sensitive: false,
            financial_risk: false,
            encrypted: false,
            legal_form: LegalForm::Private,
        }
    }

    /// A leak of patients' records (always sensitive) of `n` persons.
    fn patient_data(category: Category, status: PersonalDataStatus, n: i64) -> RoutingFacts {
        RoutingFacts { personal_data: status, persons_estimate: Some(n), sensitive: true, ..base(category) }
    }

    /// A leak of non-sensitive data (e.g. names and addresses) of `n` persons.
    fn plain_data(category: Category, legal_form: LegalForm, n: i64) -> RoutingFacts {
        RoutingFacts {
            personal_data: PersonalDataStatus::Confirmed,
            persons_estimate: Some(n),
            legal_form,
            ..base(category)
        }
    }

    struct Row {
        case: &'static str,
        facts: RoutingFacts,
        routes: &'static [(Authority, Requirement)],
        /// The PPC final report's due day, when the PPC is routed.
        ppc_final_day: Option<u32>,
    }

    #[rustfmt::skip]
    fn rows() -> Vec<Row> {
        use Category as C;
        use PersonalDataStatus as P;
        vec![
            Row {
                case: "ransomware with a suspected patient-data leak at a private hospital goes everywhere, PPC final at day 60",
                facts: RoutingFacts {
                    care_impact: CareImpact::FullSuspension,
                    ..patient_data(C::Ransomware, P::Suspected, 40_000)
                },
                routes: &[(Mhlw, Required), (Ppc, Required), (Police, Recommended), (Ipa, Recommended), (Vendor, Recommended), (Prefecture, Recommended)],
                ppc_final_day: Some(60),
            },
            Row {
                case: "a misdirected FAX with one patient's record goes to the PPC only, final at day 30",
                facts: patient_data(C::Misdelivery, P::Confirmed, 1),
                routes: &[(Ppc, Required)],
                ppc_final_day: Some(30),
            },
            Row {
                case: "lost media protected by strong encryption goes nowhere, however many persons",
                facts: RoutingFacts {
                    encrypted: true,
                    ..patient_data(C::LostMedia, P::Confirmed, 5000)
                },
                routes: &[],
                ppc_final_day: None,
            },
            Row {
                case: "a public body's non-sensitive leak of 101 persons goes to the PPC",
                facts: plain_data(C::Misdelivery, LegalForm::PublicBody, 101),
                routes: &[(Ppc, Required)],
                ppc_final_day: Some(30),
            },
            Row {
                case: "a public body's non-sensitive leak of 100 persons goes nowhere",
                facts: plain_data(C::Misdelivery, LegalForm::PublicBody, 100),
                routes: &[],
                ppc_final_day: None,
            },
            Row {
                case: "a private hospital's non-sensitive leak of 1001 persons goes to the PPC",
                facts: plain_data(C::Misdelivery, LegalForm::Private, 1001),
                routes: &[(Ppc, Required)],
                ppc_final_day: Some(30),
            },
            Row {
                case: "a private hospital's non-sensitive leak of 1000 persons goes nowhere",
                facts: plain_data(C::Misdelivery, LegalForm::Private, 1000),
                routes: &[],
                ppc_final_day: None,
            },
            Row {
                case: "a non-sensitive leak of unknown size goes nowhere",
                facts: RoutingFacts { persons_estimate: None, ..plain_data(C::Misdelivery, LegalForm::Private, 0) },
                routes: &[],
                ppc_final_day: None,
            },
            Row {
                case: "a non-sensitive leak with a risk of financial damage goes to the PPC",
                facts: RoutingFacts { financial_risk: true, ..plain_data(C::Misdelivery, LegalForm::Private, 3) },
                routes: &[(Ppc, Required)],
                ppc_final_day: Some(30),
            },
            Row {
                case: "a system failure without care impact goes nowhere",
                facts: base(C::SystemFailure),
                routes: &[],
                ppc_final_day: None,
            },
            Row {
                case: "a system failure with partial care impact goes to MHLW (and the prefecture that follows MHLW)",
                facts: RoutingFacts { care_impact: CareImpact::Partial, ..base(C::SystemFailure) },
                routes: &[(Mhlw, Required), (Prefecture, Recommended)],
                ppc_final_day: None,
            },
            Row {
                case: "a DoS attack without personal data goes to MHLW and the police, not to IPA or the PPC",
                facts: base(C::Dos),
                routes: &[(Mhlw, Required), (Police, Recommended), (Vendor, Recommended), (Prefecture, Recommended)],
                ppc_final_day: None,
            },
            Row {
                case: "website defacement is not an IPA category",
                facts: base(C::WebDefacement),
                routes: &[(Mhlw, Required), (Police, Recommended), (Vendor, Recommended), (Prefecture, Recommended)],
                ppc_final_day: None,
            },
            Row {
                case: "an attack through a vendor connection is reported to IPA",
                facts: base(C::SupplyChain),
                routes: &[(Mhlw, Required), (Police, Recommended), (Ipa, Recommended), (Vendor, Recommended), (Prefecture, Recommended)],
                ppc_final_day: None,
            },
            Row {
                case: "a stolen laptop with a few non-sensitive records goes to the police and the PPC (malicious purpose), final at day 60",
                facts: plain_data(C::Theft, LegalForm::Private, 5),
                routes: &[(Ppc, Required), (Police, Recommended)],
                ppc_final_day: Some(60),
            },
            Row {
                case: "insider misuse of patient records goes to the PPC and the police",
                facts: patient_data(C::InsiderMisuse, P::Suspected, 20),
                routes: &[(Ppc, Required), (Police, Recommended)],
                ppc_final_day: Some(60),
            },
            Row {
                case: "theft without personal data goes to the police only",
                facts: base(C::Theft),
                routes: &[(Police, Recommended)],
                ppc_final_day: None,
            },
            Row {
                case: "sensitive flags without any personal data involved go nowhere",
                facts: RoutingFacts { sensitive: true, financial_risk: true, persons_estimate: Some(5000), ..base(C::Other) },
                routes: &[],
                ppc_final_day: None,
            },
            Row {
                case: "an encrypted leak in a ransomware attack still goes to MHLW, police, IPA, vendor and prefecture",
                facts: RoutingFacts { encrypted: true, ..patient_data(C::Ransomware, P::Confirmed, 5000) },
                routes: &[(Mhlw, Required), (Police, Recommended), (Ipa, Recommended), (Vendor, Recommended), (Prefecture, Recommended)],
                ppc_final_day: None,
            },
        ]
    }

    #[test]
    fn incidents_are_routed_as_the_domain_table_says() {
        let cfg = DeadlineConfig::default();
        for row in rows() {
            let routes = route(&row.facts, &cfg);
            let got: Vec<(Authority, Requirement)> = routes.iter().map(|r| (r.authority, r.requirement)).collect();
            assert_eq!(got, row.routes, "{}", row.case);
            let final_day = routes
                .iter()
                .flat_map(|r| &r.obligations)
                .find(|o| o.kind == ObligationKind::PpcFinal)
                .and_then(|o| o.due_days);
            assert_eq!(final_day, row.ppc_final_day, "{}", row.case);
        }
    }

    #[test]
    fn every_route_explains_itself_in_japanese_and_english() {
        let cfg = DeadlineConfig::default();
        for row in rows() {
            for r in route(&row.facts, &cfg) {
                assert!(!r.reasons.is_empty(), "{}: {}", row.case, r.authority);
                for reason in &r.reasons {
                    assert!(!reason.code.is_empty() && !reason.ja.is_empty() && !reason.en.is_empty());
                }
            }
        }
    }

    #[test]
    fn the_ppc_route_lists_every_trigger_that_applied() {
        let facts = RoutingFacts {
            financial_risk: true,
            ..patient_data(Category::Ransomware, PersonalDataStatus::Suspected, 2000)
        };
        let routes = route(&facts, &DeadlineConfig::default());
        let ppc = routes.iter().find(|r| r.authority == Ppc).expect("PPC routed");
        let codes: Vec<&str> = ppc.reasons.iter().map(|r| r.code.as_str()).collect();
        assert_eq!(
            codes,
            [
                "personal_data_suspected",
                "sensitive_data",
                "financial_risk",
                "malicious_purpose",
                "persons_over_threshold"
            ]
        );
        let persons = &ppc.reasons[4];
        assert!(persons.ja.contains("2000") && persons.ja.contains("1000"), "{}", persons.ja);
    }

    #[test]
    fn the_public_body_threshold_is_named_in_the_reason() {
        let routes = route(&plain_data(Category::Misdelivery, LegalForm::PublicBody, 150), &DeadlineConfig::default());
        let reason = &routes[0].reasons[1];
        assert_eq!(reason.code.as_str(), "persons_over_threshold");
        assert!(reason.ja.contains("行政機関等") && reason.ja.contains("100人"), "{}", reason.ja);
        assert!(reason.en.contains("public bodies"), "{}", reason.en);
    }

    #[test]
    fn ppc_obligations_take_their_days_from_the_configuration() {
        let cfg = DeadlineConfig {
            ppc_preliminary_days: 4,
            ppc_preliminary_reminder_day: 2,
            ppc_final_days: 20,
            ppc_final_malicious_days: 40,
            reminder_hour_jst: 9,
        };
        let spec = |kind, due_days, reminder_day| ObligationSpec { kind, due_days, reminder_day };
        // (facts, expected PPC obligations)
        let rows = [
            (
                patient_data(Category::Misdelivery, PersonalDataStatus::Confirmed, 1),
                [
                    spec(ObligationKind::PpcPreliminary, Some(4), Some(2)),
                    spec(ObligationKind::PpcFinal, Some(20), None),
                    spec(ObligationKind::PatientNotice, None, None),
                ],
            ),
            (
                patient_data(Category::Malware, PersonalDataStatus::Confirmed, 1),
                [
                    spec(ObligationKind::PpcPreliminary, Some(4), Some(2)),
                    spec(ObligationKind::PpcFinal, Some(40), None),
                    spec(ObligationKind::PatientNotice, None, None),
                ],
            ),
        ];
        for (facts, expected) in rows {
            let routes = route(&facts, &cfg);
            let ppc = routes.iter().find(|r| r.authority == Ppc).expect("PPC routed");
            assert_eq!(ppc.obligations, expected, "{:?}", facts.category);
        }
    }

    #[test]
    fn advisory_routes_carry_no_obligation_and_reporting_routes_carry_theirs() {
        let facts = patient_data(Category::Ransomware, PersonalDataStatus::Confirmed, 10);
        let routes = route(&facts, &DeadlineConfig::default());
        let kinds: Vec<(Authority, Vec<ObligationKind>)> =
            routes.iter().map(|r| (r.authority, r.obligations.iter().map(|o| o.kind).collect())).collect();
        use ObligationKind as O;
        assert_eq!(
            kinds,
            [
                (Mhlw, vec![O::MhlwInitial]),
                (Ppc, vec![O::PpcPreliminary, O::PpcFinal, O::PatientNotice]),
                (Police, vec![O::PoliceReport]),
                (Ipa, vec![O::IpaReport]),
                (Vendor, vec![]),
                (Prefecture, vec![]),
            ]
        );
    }

    #[test]
    fn a_route_serializes_with_snake_case_codes_and_both_languages() {
        let routes = route(&base(Category::Dos), &DeadlineConfig::default());
        let json = serde_json::to_value(&routes[0]).expect("serializable");
        assert_eq!(
            json,
            serde_json::json!({
                "authority": "mhlw",
                "requirement": "required",
                "reasons": [{
                    "code": "cyber_category",
                    "ja": "サイバー攻撃（疑いを含む）は厚生労働省へ報告します",
                    "en": "Cyber attacks (including suspected ones) are reported to MHLW"
                }],
                "obligations": [{"kind": "mhlw_initial", "due_days": null, "reminder_day": null}]
            })
        );
    }
}
