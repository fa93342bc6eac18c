//! The region a country (ISO 3166-1 alpha-2) is in, after the United Nations'
//! geoscheme (M49): Africa, Asia, Europe, Oceania, and the Americas split into
//! Latin America and the Caribbean and Northern America, as sales regions
//! usually are. Reports slice by it without storing it: a country's region is
//! read when the report is made.

/// The regions, each with its countries.
const REGIONS: [(&str, &str); 6] = [
    (
        "africa",
        "DZ AO BJ BW BF BI CV CM CF TD KM CG CD CI DJ EG GQ ER SZ ET GA GM GH GN GW KE LS LR \
         LY MG MW ML MR MU YT MA MZ NA NE NG RE RW SH ST SN SC SL SO ZA SS SD TZ TG TN UG EH \
         ZM ZW IO TF",
    ),
    (
        "asia",
        "AF AM AZ BH BD BT BN KH CN CY GE HK IN ID IR IQ IL JP JO KZ KW KG LA LB MO MY MV MN \
         MM NP KP OM PK PS PH QA SA SG KR LK SY TW TJ TH TL TR TM AE UZ VN YE",
    ),
    (
        "europe",
        "AL AD AT BY BE BA BG HR CZ DK EE FO FI FR DE GI GR GG VA HU IS IE IM IT JE LV LI LT \
         LU MT MD MC ME NL MK NO PL PT RO RU SM RS SK SI ES SJ SE CH UA GB AX",
    ),
    (
        "latin-america",
        "MX GT BZ SV HN NI CR PA CU DO HT JM PR TT BS BB AG DM GD KN LC VC AW CW SX BQ KY TC \
         VG VI AI MS BL MF GP MQ AR BO BR CL CO EC GY PY PE SR UY VE FK GF GS BV",
    ),
    ("northern-america", "US CA BM GL PM"),
    (
        "oceania",
        "AS AU CK FJ PF GU KI MH FM NR NC NZ NU NF MP PW PG PN WS SB TK TO TV UM VU WF CX CC HM",
    ),
];

/// The region of a country code (any case); empty when unknown.
pub fn region_of(country: &str) -> &'static str {
    let code = country.trim();
    if code.len() != 2 {
        return "";
    }
    REGIONS
        .iter()
        .find(|(_, countries)| {
            countries
                .split_whitespace()
                .any(|c| c.eq_ignore_ascii_case(code))
        })
        .map_or("", |(region, _)| region)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn countries_fall_in_their_regions() {
        for (country, region) in [
            ("MX", "latin-america"),
            ("br", "latin-america"),
            ("US", "northern-america"),
            ("DE", "europe"),
            ("JP", "asia"),
            ("CN", "asia"),
            ("NG", "africa"),
            ("AU", "oceania"),
            ("", ""),
            ("ZZ", ""),
            ("USA", ""),
        ] {
            assert_eq!(region_of(country), region, "{country}");
        }
    }

    #[test]
    fn no_country_is_in_two_regions() {
        let mut seen = std::collections::HashSet::new();
        for (_, countries) in REGIONS {
            for country in countries.split_whitespace() {
                assert!(seen.insert(country), "{country} twice");
            }
        }
    }
}
