//! The seed corpora of the fuzz targets, generated from the repository's
//! fixtures: sample events (`examples/events/`, ...), the embedded configuration,
//! the bridge examples and the TOML examples of the READMEs, the shipped mapping
//! files and the mapping format's reference, the helpdesk payloads of
//! `tests/fixtures/` (signed as each helpdesk signs), the first-party plugins'
//! manifests, and the example catalog, knowledge base and roster (also written as
//! CSV). `cargo run -p crossdesk-fuzzing --bin fuzz-seeds` writes them to
//! `fuzz/seeds/<target>/`, where cargo-fuzz starts from; `tests/replay.rs` runs
//! the targets on the committed copies and on what the fixtures give now.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crossdesk_proto::{json, pb};
use crossdesk_sdk::{Manifest, Plugin};
use crossdesk_sidecar::config::{Config, EMBEDDED_DEFAULT};
use crossdesk_sidecar::signing;
use prost::Message;

use crate::helpdesk;
use crate::manifest::{ManifestInput, TEST_SECRET_KEY};

/// One seed: the target it feeds and its file name there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seed {
    pub target: &'static str,
    pub name: String,
    pub bytes: Vec<u8>,
}

/// Why the seeds could not be made from the fixtures.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("fixture {path}: {message}")]
    Fixture { path: PathBuf, message: String },
}

/// The repository this crate is part of.
pub fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from(".."), Path::to_path_buf)
}

/// Where the committed seeds of `target` are.
pub fn seed_dir(repo: &Path, target: &str) -> PathBuf {
    repo.join("fuzz").join("seeds").join(target)
}

/// Where the inputs that once failed `target` are kept as regression tests.
pub fn regression_dir(repo: &Path, target: &str) -> PathBuf {
    repo.join("fuzz").join("regressions").join(target)
}

/// Every seed of every target, from the fixtures under `repo`.
pub fn generate(repo: &Path) -> Result<Vec<Seed>, SeedError> {
    let mut seeds = Seeds {
        repo,
        out: Vec::new(),
    };
    seeds.events()?;
    seeds.configs()?;
    seeds.plugins()?;
    seeds.helpdesks()?;
    seeds.translation()?;
    seeds.recommend()?;
    seeds.roster()?;
    Ok(seeds.out)
}

/// A TMX file as translation vendors send them: a header's source language,
/// inline markup, CDATA, entities and a unit with three languages.
const VENDOR_TMX: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<tmx version="1.4">
  <header srclang="en-US" adminlang="en" datatype="plaintext" segtype="sentence" o-tmf="x" creationtool="x" creationtoolversion="1"/>
  <body>
    <tu tuid="1">
      <tuv xml:lang="en-US"><seg>Your order <ph x="1">{{order}}</ph> has shipped &amp; is on its way.</seg></tuv>
      <tuv xml:lang="es-MX"><seg>Tu pedido <ph x="1">{{order}}</ph> ya fue enviado y está en camino.</seg></tuv>
      <tuv xml:lang="pt-BR"><seg><![CDATA[Seu pedido {{order}} foi enviado & está a caminho.]]></seg></tuv>
    </tu>
    <tu srclang="ja">
      <prop type="x-crossdesk-origin">correction:agent-7</prop>
      <tuv lang="ja"><seg>ご連絡ありがとうございます。</seg></tuv>
      <tuv lang="en"><seg>Thank you for reaching out.</seg></tuv>
    </tu>
  </body>
</tmx>
"#;

struct Seeds<'r> {
    repo: &'r Path,
    out: Vec<Seed>,
}

impl Seeds<'_> {
    fn add(&mut self, target: &'static str, name: impl Into<String>, bytes: impl Into<Vec<u8>>) {
        self.out.push(Seed {
            target,
            name: name.into(),
            bytes: bytes.into(),
        });
    }

    fn read(&self, relative: &str) -> Result<String, SeedError> {
        let path = self.repo.join(relative);
        std::fs::read_to_string(&path).map_err(|source| SeedError::Read { path, source })
    }

    fn fail(&self, relative: &str, message: impl std::fmt::Display) -> SeedError {
        SeedError::Fixture {
            path: self.repo.join(relative),
            message: message.to_string(),
        }
    }

    /// The files of a folder of the repository with this extension, sorted.
    fn files(&self, folder: &str, extension: &str) -> Result<Vec<String>, SeedError> {
        let path = self.repo.join(folder);
        let entries = std::fs::read_dir(&path).map_err(|source| SeedError::Read {
            path: path.clone(),
            source,
        })?;
        let mut names = BTreeSet::new();
        for entry in entries {
            let entry = entry.map_err(|source| SeedError::Read {
                path: path.clone(),
                source,
            })?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(extension) {
                names.insert(format!("{folder}/{name}"));
            }
        }
        Ok(names.into_iter().collect())
    }

    /// The sample events, in proto3 JSON as written and in protobuf.
    fn events(&mut self) -> Result<(), SeedError> {
        for folder in [
            "examples/events",
            "examples/recommend/events",
            "examples/schedule/events",
        ] {
            for file in self.files(folder, ".json")? {
                let text = self.read(&file)?;
                let event = json::event_from_json(&text).map_err(|e| self.fail(&file, e))?;
                let name = file_stem(&file, folder);
                self.add("event_proto", format!("{name}.pb"), event.encode_to_vec());
                self.add("event_json", format!("{name}.json"), text);
            }
        }
        Ok(())
    }

    /// The embedded configuration, the bridge's examples, the shipped mapping
    /// files, and the TOML examples of the READMEs (the main one's together too,
    /// as one file with every section they show).
    fn configs(&mut self) -> Result<(), SeedError> {
        self.add("config", "default-config.toml", EMBEDDED_DEFAULT);
        for helpdesk in ["zendesk", "freshdesk", "chatwoot"] {
            let file = format!("examples/{helpdesk}/bridge.toml");
            let text = self.read(&file)?;
            self.add("config", format!("bridge-{helpdesk}.toml"), text);
        }
        let readme = toml_blocks(&self.read("README.md")?);
        self.add("config", "readme-all.toml", readme.concat());
        for (i, block) in readme.into_iter().enumerate() {
            self.add("config", format!("readme-{}.toml", i + 1), block);
        }
        for plugin in ["recommend", "schedule", "tone", "translation"] {
            let blocks = toml_blocks(&self.read(&format!("plugins/{plugin}/README.md"))?);
            for (i, block) in blocks.into_iter().enumerate() {
                self.add("config", format!("{plugin}-readme-{}.toml", i + 1), block);
            }
        }
        for file in self.files("bridge/src/mappings", ".toml")? {
            let text = self.read(&file)?;
            let name = file_stem(&file, "bridge/src/mappings") + ".toml";
            self.add("mapping", name, text);
        }
        let blocks = toml_blocks(&self.read("examples/freshdesk/README.md")?);
        for (i, block) in blocks.into_iter().enumerate() {
            self.add("mapping", format!("format-reference-{}.toml", i + 1), block);
        }
        Ok(())
    }

    /// The first-party plugins' manifests and their settings in the embedded
    /// configuration; a signed stand-in for a component.
    fn plugins(&mut self) -> Result<(), SeedError> {
        let config = Config::parse(EMBEDDED_DEFAULT)
            .map_err(|e| self.fail("sidecar/src/default-config.toml", e))?;
        let grants: BTreeMap<String, crossdesk_sidecar::grant::GrantDoc> = config
            .tenants
            .iter()
            .flat_map(|t| t.plugins.iter().rev())
            .map(|g| (g.name.clone(), g.clone()))
            .collect();
        let manifests: [Manifest; 3] = [
            translation::Translation::manifest(),
            recommend::Recommend::manifest(),
            schedule::Schedule::manifest(),
        ];
        for manifest in manifests {
            let grant = grants.get(&manifest.name).cloned();
            let mut schema = manifest.settings.join("\n");
            schema.push_str("\n\n");
            for (key, value) in grant.iter().flat_map(|g| &g.settings) {
                schema.push_str(&format!("{key}={value}\n"));
            }
            self.add("settings", format!("{}.txt", manifest.name), schema);
            let input = ManifestInput {
                name: manifest.name.clone(),
                version: manifest.version.clone(),
                events: manifest
                    .events
                    .iter()
                    .map(|e| e.name().to_owned())
                    .collect(),
                kv: manifest.kv,
                outbound_hosts: manifest.outbound_hosts.clone(),
                settings: manifest.settings.clone(),
                cacheable: manifest.cacheable,
                grant,
            };
            let json = serde_json::to_vec_pretty(&input)
                .map_err(|e| self.fail("plugins/", format!("{}: {e}", manifest.name)))?;
            self.add("manifest", format!("{}.json", manifest.name), json);
        }

        let file = "examples/hello-plugin/src/lib.rs";
        let component = self.read(file)?;
        let key_error = |e: signing::SigningError| self.fail(file, e);
        let public = signing::public_key_of(TEST_SECRET_KEY).map_err(key_error)?;
        let signed = signing::sign(TEST_SECRET_KEY, component.as_bytes()).map_err(key_error)?;
        self.add(
            "signature",
            "hello-plugin-signed.txt",
            format!("{public}\n\n{signed}\n{component}"),
        );
        Ok(())
    }

    /// The helpdesks' payloads, each signed as its helpdesk signs.
    fn helpdesks(&mut self) -> Result<(), SeedError> {
        for target in ["zendesk", "freshdesk", "chatwoot"] {
            let folder = format!("tests/fixtures/{target}");
            for file in self.files(&folder, ".json")? {
                let body = self.read(&file)?;
                let delivery = helpdesk::signed_delivery(target, body.as_bytes());
                self.add(target, file_stem(&file, &folder) + ".txt", delivery);
            }
        }
        Ok(())
    }

    /// The correction of the sample events, as a TMX export and a term list; a
    /// vendor's TMX file.
    fn translation(&mut self) -> Result<(), SeedError> {
        let file = "examples/events/translation-corrected.json";
        let event: pb::Event =
            json::event_from_json(&self.read(file)?).map_err(|e| self.fail(file, e))?;
        let attribute = |key: &str| event.attributes.get(key).cloned().unwrap_or_default();
        let record = translation::exchange::TmRecord {
            source_language: attribute("source_language"),
            target_language: attribute("target_language"),
            source: attribute("source_text"),
            target: event.text.clone(),
            origin: format!(
                "correction:{}",
                event.agent.as_ref().map_or("", |a| a.id.as_str())
            ),
        };
        self.add(
            "tmx",
            "translation-corrected.tmx",
            translation::exchange::write_tmx(&[record]),
        );
        self.add("tmx", "vendor.tmx", VENDOR_TMX);
        let mut rows =
            vec![["source_language", "target_language", "source", "target"].map(str::to_owned)];
        for pair in attribute("terms").split(',') {
            if let Some((term, target)) = pair.split_once('=') {
                rows.push([
                    attribute("source_language"),
                    attribute("target_language"),
                    term.to_owned(),
                    target.to_owned(),
                ]);
            }
        }
        rows.push(["", "", "Crossdesk", ""].map(str::to_owned));
        let csv = write_csv(&rows).map_err(|e| self.fail(file, e))?;
        self.add("terms", "translation-corrected.csv", csv);
        Ok(())
    }

    /// The example catalog and knowledge base, as given (JSON) and as CSV.
    fn recommend(&mut self) -> Result<(), SeedError> {
        let file = "examples/recommend/catalog.json";
        let text = self.read(file)?;
        let products = recommend::parse_catalog_json(&text).map_err(|e| self.fail(file, e))?;
        self.add("catalog", "catalog.json", text);
        let languages: BTreeSet<&String> = products.iter().flat_map(|p| p.names.keys()).collect();
        let mut header: Vec<String> = ["id", "category", "price", "currency", "tags"]
            .map(str::to_owned)
            .to_vec();
        header.extend(languages.iter().map(|l| format!("name.{l}")));
        let mut rows = vec![header];
        for p in &products {
            let mut row = vec![
                p.id.clone(),
                p.category.clone(),
                p.price.to_string(),
                p.currency.clone(),
                p.tags.join(";"),
            ];
            row.extend(
                languages
                    .iter()
                    .map(|l| p.names.get(*l).cloned().unwrap_or_default()),
            );
            rows.push(row);
        }
        self.add(
            "catalog",
            "catalog.csv",
            write_csv(&rows).map_err(|e| self.fail(file, e))?,
        );

        let file = "examples/recommend/kb.json";
        let text = self.read(file)?;
        let articles = recommend::parse_kb_json(&text).map_err(|e| self.fail(file, e))?;
        self.add("kb", "kb.json", text);
        let mut rows = vec![["id", "title", "body", "language", "category"].map(str::to_owned)];
        for a in &articles {
            rows.push([
                a.id.clone(),
                a.title.clone(),
                a.body.clone(),
                a.language.clone(),
                a.category.clone(),
            ]);
        }
        self.add(
            "kb",
            "kb.csv",
            write_csv(&rows).map_err(|e| self.fail(file, e))?,
        );
        Ok(())
    }

    /// The example roster, as given (JSON) and as CSV.
    fn roster(&mut self) -> Result<(), SeedError> {
        let file = "examples/schedule/roster.json";
        let text = self.read(file)?;
        let roster = schedule::Roster::from_json(&text).map_err(|e| self.fail(file, e))?;
        self.add("roster", "roster.json", text);
        let mut rows = vec![
            [
                "id",
                "name",
                "languages",
                "time_zone",
                "availability",
                "max_hours_per_week",
                "skills",
                "group",
            ]
            .map(str::to_owned),
        ];
        for r in &roster.records {
            rows.push([
                r.id.clone(),
                r.name.clone(),
                r.languages.join(";"),
                r.time_zone.clone(),
                r.availability.join(";"),
                r.max_hours_per_week
                    .map(|h| h.to_string())
                    .unwrap_or_default(),
                r.skills.join(";"),
                r.group.clone().unwrap_or_default(),
            ]);
        }
        self.add(
            "roster",
            "roster.csv",
            write_csv(&rows).map_err(|e| self.fail(file, e))?,
        );
        Ok(())
    }
}

/// `folder/name.ext` → `name`, prefixed with the folder's last part when it is
/// not the only folder of its kind (`recommend-1-purchase-by-a-pro`).
fn file_stem(file: &str, folder: &str) -> String {
    let name = file
        .strip_prefix(folder)
        .unwrap_or(file)
        .trim_start_matches('/');
    let stem = name.rsplit_once('.').map_or(name, |(stem, _)| stem);
    match folder {
        "examples/recommend/events" => format!("recommend-{stem}"),
        "examples/schedule/events" => format!("schedule-{stem}"),
        _ => stem.to_owned(),
    }
}

/// The contents of the ```` ```toml ```` blocks of a Markdown text.
fn toml_blocks(markdown: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut block: Option<String> = None;
    for line in markdown.lines() {
        match block.as_mut() {
            None if line.trim_start().starts_with("```toml") => block = Some(String::new()),
            None => {}
            Some(_) if line.trim_start().starts_with("```") => blocks.extend(block.take()),
            Some(text) => {
                text.push_str(line);
                text.push('\n');
            }
        }
    }
    blocks
}

fn write_csv<R: AsRef<[String]>>(rows: &[R]) -> Result<Vec<u8>, csv::Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    for row in rows {
        writer.write_record(row.as_ref())?;
    }
    writer
        .into_inner()
        .map_err(|e| csv::Error::from(e.into_error()))
}
