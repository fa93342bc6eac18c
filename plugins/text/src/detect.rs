//! Language detection for short messages.
//!
//! Chat messages are short («ya pagué y nada»): a character-trigram detector such as
//! whatlang has too little text to go on (it calls that one Tagalog), and it does not
//! know some languages a tenant's engine serves at all (Basque, Galician, Occitan,
//! Icelandic, Nynorsk …). [`rank`] weighs several kinds of evidence into one score
//! per language:
//!
//! - **words**: the share of the message's words that are frequent words of the
//!   language ([`WORDS`]: function words and the commonest words of support
//!   messages; a word of several languages counts for each a share);
//! - **letters**: letters and sequences only some languages write (`ñ`, `ã`, `ø`,
//!   `ð`, `ă`, `ĉ`, `l·l` …), and a penalty for a letter a language never writes;
//! - **whatlang**'s guess on the whole text, and its guess among the languages the
//!   tenant's engines reach, each weighted by its confidence;
//! - **hints**: a language an engine reaches weighs a little more than one none
//!   does, the language the ticket was in before more, the customer's locale more.
//!
//! A caller with an engine that can say more (Apertium's analysers give the share of
//! words a language knows, its *coverage*) adds that for the closest candidates
//! ([`Ranked::close`]); the translation plugin does.

use crate::lang;

/// Frequent words per language (ISO 639-1 or 639-3 code), lower case.
pub const WORDS: &[(&str, &str)] = &[
    (
        "en",
        "the a an and or but is are was were be been have has had do does did not no yes i you he she it we they my your our me us this that there here what when where why how can could would will should please thanks thank hello hi order still help got paid",
    ),
    (
        "es",
        "el la los las un una unos unas y o pero es son está están estoy fue ser de del al en con por para que qué como cómo cuando cuándo donde dónde mi mis tu su sus yo me te se nos lo le les no sí ya muy más hola gracias pedido todavía aún nada quiero tengo puedo pagué llegó ha han hay esto eso este esta buenos días",
    ),
    (
        "pt",
        "o a os as um uma uns umas e ou mas é são está estão estou foi ser de do da dos das no na nos nas em com por para que como quando onde meu minha meus seu sua eu me te se não sim já muito mais olá oi obrigado obrigada pedido encomenda ainda nada quero tenho posso paguei chegou tem isso este esta você bom dia",
    ),
    (
        "fr",
        "le la les un une des et ou mais est sont suis été être de du au aux en dans avec par pour que qui quoi comme quand où mon ma mes ton ta tes son sa ses je tu il elle nous vous ils me te se ne pas oui non déjà très plus bonjour merci commande toujours rien veux ai peux payé arrivé c ça cette ce",
    ),
    (
        "it",
        "il lo la i gli le un uno una e o ma è sono sta stato essere di del della dei in con per che chi come quando dove mio mia miei tuo suo io tu lui lei noi voi mi ti si ci non sì già molto più ciao grazie buongiorno ordine ancora niente voglio ho posso pagato arrivato questo questa",
    ),
    (
        "ca",
        "el la els les un una i o però és són està estic ha han de del dels en amb per que com quan on meu meva seu jo em et es ens no sí ja molt més hola gràcies bon dia comanda encara res vull tinc puc pagat arribat això aquest aquesta",
    ),
    (
        "gl",
        "o a os as un unha e ou pero é son está estou foi ser de do da dos das no na en con por para que como cando onde meu miña seu súa eu me te se nos non si xa moito máis ola grazas bos días pedido aínda nada quero teño podo paguei chegou isto este esta",
    ),
    (
        "ro",
        "și sau dar este sunt am ai a au fost fi de la în cu pentru că ce cum când unde meu mea tău său eu tu el ea noi voi mă te se ne nu da deja foarte mai bună ziua mulțumesc comanda comandă încă nimic vreau pot plătit sosit acest această",
    ),
    (
        "eu",
        "eta edo baina da dira dut duzu du dugu naiz zara gara ez bai ere oso gehiago kaixo eskerrik asko egun on nire zure bere gure ni zu hau hori zer nola noiz non eskaera oraindik ezer nahi ordaindu iritsi",
    ),
    (
        "oc",
        "lo la los las un una e o mas es son soi èra de del dels en amb per que coma quand ont mon ma mos ton son ieu tu el ela nosautres vosautres me te se nos pas non òc ja fòrt mai bonjorn mercés comanda encara res vòli ai pòdi pagat arribat aquò aqueste aquesta",
    ),
    (
        "an",
        "o a os as un una e u pero ye son está yera de en con por ta que como cuan an mío mía tuyo suyo yo tu el ella nusatros vusatros me te se nos no sí ya muito más hola grazias comanda encara cosa quiero tiengo puedo pagau plegau isto iste ista",
    ),
    (
        "ast",
        "el la los les un una y o pero ye son ta taba de del al en con por pa que cómo cuándo ónde mio mi to so yo tu él ella nós vós me te se nos non sí yá mui más hola gracies pidíu entá nada quiero tengo puedo paguéi llegó esto esti esta",
    ),
    (
        "sc",
        "su sa sos sas unu una e o ma est sunt fiat de in cun pro chi comente cando inue meu mia tuo suo deo tue issu issa nois bois mi ti si nos no eja giai meda prus salude gràtzias ordine galu nudda cherjo tenzo potzo pagadu arribadu custu custa",
    ),
    (
        "frp",
        "lo la los les un una et ou mas est sont de du en avouéc por que coment quand yô mon ma ton son mè tè sè ne pas ouè nan ja mé bonjorn grant marci",
    ),
    (
        "br",
        "ar an al ur un hag ha pe met eo int zo on oa da eus e gant evit petra penaos pelec'h va ma he hon ho o me te eñ hi ni c'hwi ket ya nann bremañ kalz muioc'h demat trugarez",
    ),
    (
        "eo",
        "la kaj aŭ sed estas estis esti de en kun por ke kio kiel kiam kie mia via lia ŝia nia mi vi li ŝi ni ili min vin sin ne jes jam tre pli saluton dankon mendo ankoraŭ nenio volas havas povas pagis alvenis ĉi tiu",
    ),
    (
        "sv",
        "och eller men är var vara har hade av på i med för att som vad hur när min mitt mina din ditt hans hennes vår jag du han hon vi ni de mig dig sig inte ja nej redan mycket mer hej tack beställning fortfarande ingenting vill kan betalat kommit det den denna",
    ),
    (
        "da",
        "og eller men er var være har havde af på i med for at som hvad hvordan hvornår hvor min mit mine din dit hans hendes vores jeg du han hun vi de mig dig sig ikke ja nej allerede meget mere hej tak bestilling stadig ingenting vil kan betalt kommet det den denne",
    ),
    (
        "nb",
        "og eller men er var være har hadde av på i med for at som hva hvordan når hvor min mitt mine din ditt hans hennes vår jeg du han hun vi dere de meg deg seg ikke ja nei allerede veldig mer hei takk bestilling fortsatt ingenting vil kan betalt kommet det den denne",
    ),
    (
        "nn",
        "og eller men er var vere har hadde av på i med for at som kva korleis når kvar min mitt mine din ditt hans hennar vår eg du han ho vi de dei meg deg seg ikkje ja nei allereie veldig meir hei takk bestilling framleis ingenting vil kan betalt kome det den denne",
    ),
    (
        "is",
        "og eða en er var vera hef hafði af á í með fyrir að sem hvað hvernig hvenær hvar minn mín mitt þinn þín ég þú hann hún við þið þeir mig þig sig ekki já nei þegar mjög meira halló takk pöntun enn ekkert vil get borgað komið það þetta",
    ),
    (
        "sh",
        "i ili ali je su sam bio biti od na u s sa za da što šta kako kada gdje gde moj moja tvoj njegov ja ti on ona mi vi oni me te se nas ne već vrlo više zdravo hvala narudžba još ništa želim mogu platio stigla ovo ova",
    ),
    (
        "sl",
        "in ali a je so sem bil biti od na v z s za da kaj kako kdaj kje moj moja tvoj njegov jaz ti on ona mi vi oni me te se nas ne ja že zelo več zdravo hvala naročilo še nič želim lahko plačal prispelo to ta",
    ),
    (
        "mk",
        "и или но е се сум беше од на во со за да што како кога каде мој моја твој јас ти тој таа ние вие тие ме те не веќе многу повеќе здраво благодарам нарачка уште ништо сакам можам платив стигна ова оваа",
    ),
    (
        "bg",
        "и или но е са съм беше от на в с за да какво как кога къде мой моя твой аз ти той тя ние вие те ме не вече много повече здравей благодаря поръчка още нищо искам мога платих пристигна това тази",
    ),
    (
        "de",
        "der die das ein eine und oder aber ist sind war bin sein von zu mit für dass was wie wann wo mein meine dein ich du er sie wir ihr mich dich sich nicht nein ja schon sehr mehr hallo danke bestellung noch nichts will habe kann bezahlt angekommen",
    ),
    (
        "nl",
        "de het een en of maar is zijn was ben van op in met voor dat wat hoe wanneer waar mijn jouw ik jij hij zij wij jullie mij je zich niet nee ja al heel meer hallo bedankt bestelling nog niets wil heb kan betaald aangekomen",
    ),
];

/// Letters (or sequences) only some languages write, with the languages.
const MARKS: &[(&str, &[&str])] = &[
    ("ñ", &["es", "gl", "ast", "an", "br"]),
    ("¿", &["es", "gl", "ast", "an"]),
    ("ã", &["pt"]),
    ("õ", &["pt"]),
    ("ç", &["pt", "fr", "ca", "oc"]),
    ("l·l", &["ca"]),
    ("ò", &["ca", "oc", "it", "sc"]),
    ("ă", &["ro"]),
    ("ș", &["ro"]),
    ("ş", &["ro"]),
    ("ț", &["ro"]),
    ("ţ", &["ro"]),
    ("î", &["ro", "fr"]),
    ("ĉ", &["eo"]),
    ("ĝ", &["eo"]),
    ("ĵ", &["eo"]),
    ("ŝ", &["eo"]),
    ("ŭ", &["eo"]),
    ("ø", &["da", "nb", "nn"]),
    ("æ", &["da", "nb", "nn", "is"]),
    ("å", &["sv", "da", "nb", "nn"]),
    ("ä", &["sv", "de"]),
    ("ö", &["sv", "de", "is"]),
    ("ü", &["de"]),
    ("ß", &["de"]),
    ("ð", &["is"]),
    ("þ", &["is"]),
    ("č", &["sh", "sl"]),
    ("ć", &["sh"]),
    ("đ", &["sh"]),
    ("š", &["sh", "sl"]),
    ("ž", &["sh", "sl"]),
    ("c'h", &["br"]),
    ("tx", &["eu"]),
    ("tz", &["eu"]),
    ("ѓ", &["mk"]),
    ("ќ", &["mk"]),
    ("ѕ", &["mk"]),
    ("ј", &["mk", "sr"]),
    ("љ", &["mk", "sr"]),
    ("њ", &["mk", "sr"]),
    ("ъ", &["bg", "ru"]),
    ("щ", &["bg", "ru", "uk"]),
    ("œ", &["fr"]),
    ("ë", &["fr", "nl"]),
];

/// Letters outside plain ASCII each language writes: a message with a letter
/// its language never writes is unlikely to be in it. Languages not listed are not
/// penalised.
const ALPHABETS: &[(&str, &str)] = &[
    ("en", ""),
    ("es", "áéíóúüñ"),
    ("pt", "áàâãéêíóôõúüç"),
    ("fr", "àâæçéèêëîïôœùûüÿ"),
    ("it", "àèéìíîòóùú"),
    ("ca", "àçèéíïòóúü·"),
    ("gl", "áéíóúüñ"),
    ("ro", "ăâîșşțţ"),
    ("oc", "àáçèéíïòóúü·"),
    ("an", "áéíóúüñ"),
    ("ast", "áéíóúüñḥḷ"),
    ("eo", "ĉĝĥĵŝŭ"),
    ("sv", "åäöé"),
    ("da", "æøåé"),
    ("nb", "æøåéêòô"),
    ("nn", "æøåéêòô"),
    ("is", "áðéíóúýþæö"),
    ("de", "äöüß"),
    ("nl", "éëïóöüè"),
    ("eu", "ñ"),
    ("sh", "čćđšž"),
    ("sl", "čšž"),
];

/// Languages close enough to be told apart by little more than their vocabulary
/// (Ibero-Romance, Gallo- and Italo-Romance, North Germanic, South Slavic).
const FAMILIES: &[&[&str]] = &[
    &["es", "gl", "pt", "ast", "an", "ca", "oc"],
    &["fr", "frp", "oc", "ca"],
    &["it", "sc"],
    &["sv", "da", "nb", "nn", "is"],
    &["sh", "hr", "sr", "bs", "sl", "mk", "bg"],
];

/// The languages of `language`'s families, itself first.
///
/// ```
/// let near = crossdesk_text::detect::relatives("gl");
/// assert_eq!(near[0], "gl");
/// assert!(near.contains(&"pt") && near.contains(&"es"));
/// ```
pub fn relatives(language: &str) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = lang::from_code(language).into_iter().collect();
    for family in FAMILIES.iter().filter(|f| f.contains(&language)) {
        for member in family.iter().filter_map(|l| lang::from_code(l)) {
            if !out.contains(&member) {
                out.push(member);
            }
        }
    }
    out
}

/// What the caller knows besides the text.
#[derive(Debug, Clone, Copy, Default)]
pub struct Hints<'a> {
    /// Languages the tenant's engines reach (canonical codes): the likelier ones.
    pub reachable: &'a [&'a str],
    /// The language of the customer's locale, if given.
    pub locale: Option<&'a str>,
    /// The language the ticket was in before, if known.
    pub ticket: Option<&'a str>,
}

/// Evidence weights (see the module doc).
const WORDS_WEIGHT: f64 = 1.5;
const MARK_WEIGHT: f64 = 0.3;
const FOREIGN_LETTER_PENALTY: f64 = 0.6;
const WHATLANG_WEIGHT: f64 = 0.6;
const WHATLANG_AMONG_REACHABLE_WEIGHT: f64 = 0.4;
const REACHABLE_HINT: f64 = 0.15;
const TICKET_HINT: f64 = 0.3;
const LOCALE_HINT: f64 = 0.4;

/// Scores per language, best first.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranked {
    /// (canonical code, score), best first; only languages with some evidence.
    pub scores: Vec<(&'static str, f64)>,
}

impl Ranked {
    /// The best language.
    pub fn best(&self) -> Option<&'static str> {
        self.scores.first().map(|(l, _)| *l)
    }

    /// The best score minus the second's (the whole best score when alone).
    pub fn margin(&self) -> f64 {
        match self.scores.as_slice() {
            [] => 0.0,
            [(_, only)] => *only,
            [(_, a), (_, b), ..] => a - b,
        }
    }

    /// The languages within `within` of the best, best first (at most `at_most`).
    pub fn close(&self, within: f64, at_most: usize) -> Vec<&'static str> {
        let Some((_, top)) = self.scores.first() else {
            return Vec::new();
        };
        self.scores
            .iter()
            .take_while(|(_, s)| top - s <= within)
            .take(at_most)
            .map(|(l, _)| *l)
            .collect()
    }

    /// The candidates worth asking an engine about: those within `within` of the
    /// best (at most `at_most`), then the best's relatives among `reachable`.
    pub fn candidates(&self, within: f64, at_most: usize, reachable: &[&str]) -> Vec<&'static str> {
        let mut out = self.close(within, at_most);
        if let Some(best) = self.best() {
            for relative in relatives(best) {
                if !out.contains(&relative) && reachable.contains(&relative) {
                    out.push(relative);
                }
            }
        }
        out
    }

    /// Adds `bonus` to `language`'s score and sorts again.
    pub fn add(&mut self, language: &'static str, bonus: f64) {
        match self.scores.iter_mut().find(|(l, _)| *l == language) {
            Some((_, s)) => *s += bonus,
            None => self.scores.push((language, bonus)),
        }
        sort(&mut self.scores);
    }
}

fn sort(scores: &mut [(&'static str, f64)]) {
    scores.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
}

/// The words of `text`, lower case (letters, and `'` inside a word: `c'h`).
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_alphabetic() || c == '\'' || c == '’' || c == '·'))
        .map(|w| w.trim_matches(['\'', '’', '·']).to_lowercase())
        .filter(|w| !w.is_empty())
        .collect()
}

/// Ranks the languages `text` may be in.
///
/// ```
/// use crossdesk_text::detect::{rank, Hints};
/// let reachable = ["en", "es", "pt", "fr", "it", "ca", "eu"];
/// let hints = Hints { reachable: &reachable, ..Hints::default() };
/// assert_eq!(rank("ya pagué y nada", &hints).best(), Some("es"));
/// assert_eq!(rank("Egun on, nire eskaera ez da iritsi", &hints).best(), Some("eu"));
/// assert_eq!(rank("Hallo, meine Bestellung ist noch nicht da", &hints).best(), Some("de"));
/// ```
pub fn rank(text: &str, hints: &Hints) -> Ranked {
    let mut scores: Vec<(&'static str, f64)> = Vec::new();
    let mut add =
        |language: &'static str, points: f64| match scores.iter_mut().find(|(l, _)| *l == language)
        {
            Some((_, s)) => *s += points,
            None => scores.push((language, points)),
        };
    let tokens = words(text);
    let lower = text.to_lowercase();
    // Words: each token shares one point among the languages listing it.
    if !tokens.is_empty() {
        let share = WORDS_WEIGHT / tokens.len() as f64;
        for token in &tokens {
            let owners: Vec<&'static str> = WORDS
                .iter()
                .filter(|(_, list)| list.split(' ').any(|w| w == token))
                .filter_map(|(l, _)| lang::from_code(l))
                .collect();
            for owner in &owners {
                add(owner, share / owners.len() as f64);
            }
        }
    }
    // Letters.
    for (mark, owners) in MARKS {
        if lower.contains(mark) {
            for owner in owners.iter().filter_map(|l| lang::from_code(l)) {
                add(owner, MARK_WEIGHT / owners.len() as f64);
            }
        }
    }
    let foreign: Vec<char> = lower
        .chars()
        .filter(|c| c.is_alphabetic() && !c.is_ascii())
        .collect();
    // whatlang, on the whole text and among the reachable languages.
    if let Some(d) = lang::detect(text) {
        add(d.language, WHATLANG_WEIGHT * d.confidence);
    }
    if let Some(d) = lang::detect_among(text, hints.reachable) {
        add(d.language, WHATLANG_AMONG_REACHABLE_WEIGHT * d.confidence);
    }
    // Hints.
    for reachable in hints.reachable.iter().filter_map(|l| lang::from_code(l)) {
        add(reachable, REACHABLE_HINT);
    }
    if let Some(l) = hints.ticket.and_then(lang::from_code) {
        add(l, TICKET_HINT);
    }
    if let Some(l) = hints.locale.and_then(lang::from_code) {
        add(l, LOCALE_HINT);
    }
    // A letter the language never writes.
    for (language, score) in scores.iter_mut() {
        let Some((_, alphabet)) = ALPHABETS.iter().find(|(l, _)| l == language) else {
            continue;
        };
        if foreign.iter().any(|c| !alphabet.contains(*c)) {
            *score -= FOREIGN_LETTER_PENALTY;
        }
    }
    // Only what the evidence points to: the reachable hint alone is no evidence.
    let floor = REACHABLE_HINT + 1e-9;
    scores.retain(|(_, s)| *s > floor);
    sort(&mut scores);
    Ranked { scores }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn best(text: &str, reachable: &[&str]) -> Option<&'static str> {
        rank(
            text,
            &Hints {
                reachable,
                ..Hints::default()
            },
        )
        .best()
    }

    const DEMO: &[&str] = &[
        "en", "es", "pt", "fr", "it", "ca", "gl", "ro", "eu", "oc", "an", "ast", "eo", "sv", "da",
        "nb", "nn", "is", "sh", "hr", "sr", "bs", "sl", "mk", "bg", "br", "sc", "frp",
    ];

    #[test]
    fn short_messages_of_the_issue() {
        assert_eq!(
            best(
                "Hola, mi pedido #4471 no ha llegado y quiero un reembolso.",
                DEMO
            ),
            Some("es")
        );
        assert_eq!(best("ya pagué y nada", DEMO), Some("es"));
        assert_eq!(best("ya pagué y nada", &[]), Some("es"));
        assert_eq!(
            best("Ciao, il mio ordine non è ancora arrivato", DEMO),
            Some("it")
        );
        assert_eq!(best("Hallo, wo bleibt meine Bestellung?", DEMO), Some("de"));
    }

    #[test]
    fn every_word_list_is_of_a_known_language() {
        for (code, list) in WORDS {
            assert!(lang::from_code(code).is_some(), "{code}");
            assert!(list.split(' ').count() >= 20, "{code}");
        }
    }

    #[test]
    fn hints_decide_between_close_languages() {
        let text = "obrigado";
        let with = |ticket| {
            rank(
                text,
                &Hints {
                    reachable: DEMO,
                    ticket,
                    locale: None,
                },
            )
            .best()
        };
        assert_eq!(with(Some("pt")), Some("pt"));
    }

    #[test]
    fn close_lists_the_candidates_near_the_best() {
        let ranked = Ranked {
            scores: vec![("es", 1.0), ("gl", 0.9), ("pt", 0.2)],
        };
        assert_eq!(ranked.close(0.3, 3), vec!["es", "gl"]);
        assert!((ranked.margin() - 0.1).abs() < 1e-9);
    }
}
