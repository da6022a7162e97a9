//! A component's own description of itself — name, version, description, licence, source,
//! revision, homepage, authors — in the standard custom sections `wasm-tools metadata show`
//! reads (the OCI annotation set of the component model tooling). A vendor embeds them when
//! packaging; a host reads them to say which connector, of which build, it runs or refuses.

use anyhow::Context;
use serde::Serialize;
use wasm_metadata::{
    AddMetadata, AddMetadataField, Authors, Description, Homepage, Licenses, Payload, Revision,
    Source, Version,
};

/// The outermost component's metadata; every field is optional in the format.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ComponentMetadata {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// An SPDX licence expression.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub licenses: Option<String>,
    /// A URL of the source repository.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The source revision (a commit) the component was built from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub homepage: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authors: Option<String>,
}

impl ComponentMetadata {
    /// Read the outermost component's (or module's) sections; nested modules are the
    /// toolchain's business, not the connector's identity.
    pub fn read(wasm: &[u8]) -> anyhow::Result<ComponentMetadata> {
        let payload = Payload::from_binary(wasm).context("reading the component's metadata")?;
        let m = payload.metadata();
        Ok(ComponentMetadata {
            name: m.name.clone(),
            version: m.version.as_ref().map(ToString::to_string),
            description: m.description.as_ref().map(ToString::to_string),
            licenses: m.licenses.as_ref().map(ToString::to_string),
            source: m.source.as_ref().map(ToString::to_string),
            revision: m.revision.as_ref().map(ToString::to_string),
            homepage: m.homepage.as_ref().map(ToString::to_string),
            authors: m.authors.as_ref().map(ToString::to_string),
        })
    }

    /// The component with these sections set (fields left `None` are kept as they are).
    /// Deterministic: the same input and metadata give the same bytes, and embedding into a
    /// component that has them already replaces them.
    pub fn embed(&self, wasm: &[u8]) -> anyhow::Result<Vec<u8>> {
        // wasm-metadata 0.262 appends a set OCI section after an existing one of the same
        // name instead of replacing it: the sections about to be set are cleared first.
        let cleared = self
            .edit(Edit::Clear)?
            .to_wasm(wasm)
            .context("clearing the component's metadata")?;
        self.edit(Edit::Set)?
            .to_wasm(&cleared)
            .context("writing the component's metadata")
    }

    /// One pass of [`Self::embed`]: each field this value has is cleared or set, the rest kept.
    fn edit(&self, edit: Edit) -> anyhow::Result<AddMetadata> {
        fn field<T: std::fmt::Debug + Clone>(edit: Edit, value: Option<T>) -> AddMetadataField<T> {
            match (value, edit) {
                (None, _) => AddMetadataField::Keep,
                (Some(_), Edit::Clear) => AddMetadataField::Clear,
                (Some(v), Edit::Set) => AddMetadataField::Set(v),
            }
        }
        let licenses = self
            .licenses
            .as_deref()
            .map(|l| {
                Licenses::new(l).with_context(|| format!("licence `{l}` is no SPDX expression"))
            })
            .transpose()?;
        let source = self
            .source
            .as_deref()
            .map(|s| Source::new(s).with_context(|| format!("source `{s}` is no URL")))
            .transpose()?;
        let homepage = self
            .homepage
            .as_deref()
            .map(|h| Homepage::new(h).with_context(|| format!("homepage `{h}` is no URL")))
            .transpose()?;
        let mut add = AddMetadata::default();
        add.name = field(edit, self.name.clone());
        add.version = field(edit, self.version.clone().map(Version::new));
        add.description = field(edit, self.description.clone().map(Description::new));
        add.licenses = field(edit, licenses);
        add.source = field(edit, source);
        add.homepage = field(edit, homepage);
        add.revision = field(edit, self.revision.clone().map(Revision::new));
        add.authors = field(edit, self.authors.clone().map(Authors::new));
        Ok(add)
    }

    /// How errors and listings name the component: `name version (revision)`, as much as it
    /// says of itself; `None` when it says nothing.
    pub fn label(&self) -> Option<String> {
        let name = self.name.as_deref()?;
        let mut label = name.to_string();
        if let Some(v) = &self.version {
            label = format!("{label} {v}");
        }
        if let Some(r) = self.short_revision() {
            label = format!("{label} ({r})");
        }
        Some(label)
    }

    /// The revision as a reader needs it: a commit is 40 hex digits, twelve identify it.
    pub fn short_revision(&self) -> Option<&str> {
        let r = self.revision.as_deref()?;
        Some(r.get(..12).unwrap_or(r))
    }
}

#[derive(Clone, Copy)]
enum Edit {
    Clear,
    Set,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The smallest component: the preamble of the component binary format.
    const EMPTY_COMPONENT: &[u8] = b"\0asm\x0d\0\x01\0";

    fn full() -> ComponentMetadata {
        ComponentMetadata {
            name: Some("ironclad".into()),
            version: Some("1.2.3".into()),
            description: Some("An Ironclad connector".into()),
            licenses: Some("Apache-2.0".into()),
            source: Some("https://example.com/ironclad-connector".into()),
            revision: Some("0123456789abcdef0123456789abcdef01234567".into()),
            homepage: Some("https://example.com/".into()),
            authors: Some("Maintainers <m@example.com>".into()),
        }
    }

    #[test]
    fn what_is_embedded_reads_back_and_embedding_is_deterministic() {
        let once = full().embed(EMPTY_COMPONENT).unwrap();
        assert_eq!(ComponentMetadata::read(&once).unwrap(), full());
        assert_eq!(full().embed(EMPTY_COMPONENT).unwrap(), once);
        // Embedding again replaces, it does not pile up sections.
        assert_eq!(full().embed(&once).unwrap(), once);
    }

    #[test]
    fn a_component_without_sections_reads_as_empty_and_has_no_label() {
        let m = ComponentMetadata::read(EMPTY_COMPONENT).unwrap();
        assert_eq!(m, ComponentMetadata::default());
        assert_eq!(m.label(), None);
    }

    #[test]
    fn the_label_says_name_version_and_short_revision() {
        assert_eq!(full().label().unwrap(), "ironclad 1.2.3 (0123456789ab)");
    }

    #[test]
    fn invalid_licence_or_url_is_refused_with_the_value() {
        let bad = ComponentMetadata {
            licenses: Some("not a licence!".into()),
            ..full()
        };
        let e = format!("{:#}", bad.embed(EMPTY_COMPONENT).unwrap_err());
        assert!(e.contains("not a licence!"), "{e}");
        let bad = ComponentMetadata {
            source: Some("no url".into()),
            ..full()
        };
        let e = format!("{:#}", bad.embed(EMPTY_COMPONENT).unwrap_err());
        assert!(e.contains("no url"), "{e}");
    }
}
