//! Atom (RFC 4287) with RFC 6721 tombstones, written entry by entry.
//!
//! `atom_syndication` can only write a whole feed, so the elements are written here, in its
//! layout (two-space indentation, its element and attribute order); a test checks the output
//! against the crate's, byte for byte.

use chrono::{DateTime, SecondsFormat, Utc};
use uuid::Uuid;

use super::{Feed, Format, Tombstone, feed_path, without_controls};
use crate::api::events::Event;

/// RFC 6721.
pub(super) const TOMBSTONES_NS: &str = "http://purl.org/atompub/tombstones/1.0";

pub(super) fn head(feed: &Feed, out: &mut String) {
    let c = &feed.campaign;
    let name = esc(&without_controls(&c.name));
    let id = Uuid::new_v5(
        &c.id,
        format!("events.atom?{}", feed.filter.normalized()).as_bytes(),
    );
    out.push_str("<?xml version=\"1.0\"?>\n");
    out.push_str(&format!(
        "<feed xmlns=\"http://www.w3.org/2005/Atom\" xmlns:at=\"{TOMBSTONES_NS}\">\n"
    ));
    out.push_str(&format!("  <title>{name}</title>\n"));
    out.push_str(&format!("  <id>urn:uuid:{id}</id>\n"));
    out.push_str(&format!("  <updated>{}</updated>\n", time(feed.updated)));
    out.push_str(&format!(
        "  <author>\n    <name>{name}</name>\n  </author>\n"
    ));
    out.push_str(&format!(
        "  <generator version=\"{}\">learnweek</generator>\n",
        env!("CARGO_PKG_VERSION")
    ));
    for (rel, format, mime) in [
        ("self", Format::Atom, "application/atom+xml"),
        ("alternate", Format::Ics, "text/calendar"),
        ("alternate", Format::Json, "application/feed+json"),
    ] {
        let href = esc(&feed_path(&c.slug, format, &feed.filter));
        out.push_str(&format!(
            "  <link href=\"{href}\" rel=\"{rel}\" type=\"{mime}\"/>\n"
        ));
    }
    if let Some(theme) = &c.theme {
        let theme = esc(&without_controls(theme));
        out.push_str(&format!("  <subtitle>{theme}</subtitle>\n"));
    }
}

pub(super) fn entry(feed: &Feed, e: &Event, out: &mut String) {
    out.push_str("  <entry>\n");
    let title = esc(&without_controls(&e.title));
    out.push_str(&format!("    <title>{title}</title>\n"));
    out.push_str(&format!("    <id>urn:uuid:{}</id>\n", e.id));
    out.push_str(&format!("    <updated>{}</updated>\n", time(e.updated_at)));
    let mut category = |scheme: &str, term: &str| {
        let term = esc(&without_controls(term));
        out.push_str(&format!(
            "    <category term=\"{term}\" scheme=\"{scheme}\"/>\n"
        ));
    };
    category("urn:learnweek:event-kind", e.kind.as_str());
    category("urn:learnweek:event-status", e.status.as_str());
    if let Some(area) = &e.area {
        category("urn:learnweek:area", area);
    }
    for tag in &e.tags {
        category("urn:learnweek:tag", tag);
    }
    out.push_str(&format!(
        "    <link href=\"/api/v1/events/{}\" rel=\"alternate\" type=\"application/json\"/>\n",
        e.id
    ));
    out.push_str(&format!(
        "    <published>{}</published>\n",
        time(e.created_at)
    ));
    if let Some(summary) = &e.summary {
        let summary = esc(&without_controls(summary));
        out.push_str(&format!("    <summary>{summary}</summary>\n"));
    }
    let details = esc(&without_controls(&feed.details(e)));
    out.push_str(&format!("    <content type=\"text\">{details}</content>\n"));
    out.push_str("  </entry>\n");
}

/// The tombstones (they follow the entries) and the end of the document.
pub(super) fn tail(tombstones: &[Tombstone], out: &mut String) {
    for t in tombstones {
        let when = t.deleted_at.to_rfc3339_opts(SecondsFormat::Secs, true);
        out.push_str(&format!(
            "  <at:deleted-entry ref=\"urn:uuid:{}\" when=\"{when}\">\n  </at:deleted-entry>\n",
            t.id
        ));
    }
    out.push_str("</feed>");
}

/// As `atom_syndication` writes times.
fn time(t: DateTime<Utc>) -> String {
    t.fixed_offset().to_rfc3339()
}

/// XML escaping of text and attribute values (the five characters quick-xml escapes).
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\'' => out.push_str("&apos;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use atom_syndication as atom;

    use super::*;
    use crate::api::feeds::tests::{campaign, event, feed};

    /// What `atom_syndication` writes for the same feed (the way the feed used to be made).
    fn reference(feed: &Feed, e: &Event, t: &Tombstone) -> String {
        let c = &feed.campaign;
        let text = |s: &str| atom::Text::plain(without_controls(s));
        let category = |scheme: &str, term: &str| atom::Category {
            term: without_controls(term).into_owned(),
            scheme: Some(scheme.into()),
            label: None,
        };
        let mut categories = vec![
            category("urn:learnweek:event-kind", e.kind.as_str()),
            category("urn:learnweek:event-status", e.status.as_str()),
        ];
        categories.extend(e.area.iter().map(|a| category("urn:learnweek:area", a)));
        categories.extend(e.tags.iter().map(|t| category("urn:learnweek:tag", t)));
        let link = |href: String, rel: &str, mime: &str| atom::Link {
            href,
            rel: rel.into(),
            mime_type: Some(mime.into()),
            ..Default::default()
        };
        let entry = atom::Entry {
            title: text(&e.title),
            id: format!("urn:uuid:{}", e.id),
            updated: e.updated_at.fixed_offset(),
            published: Some(e.created_at.fixed_offset()),
            categories,
            links: vec![link(
                format!("/api/v1/events/{}", e.id),
                "alternate",
                "application/json",
            )],
            summary: e.summary.as_deref().map(text),
            content: Some(atom::Content {
                value: Some(without_controls(&feed.details(e)).into_owned()),
                content_type: Some("text".into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        let stone = atom::extension::Extension {
            name: "at:deleted-entry".into(),
            attrs: BTreeMap::from([
                ("ref".to_string(), format!("urn:uuid:{}", t.id)),
                (
                    "when".to_string(),
                    t.deleted_at.to_rfc3339_opts(SecondsFormat::Secs, true),
                ),
            ]),
            ..Default::default()
        };
        let path = |format| feed_path(&c.slug, format, &feed.filter);
        let doc = atom::Feed {
            title: text(&c.name),
            subtitle: c.theme.as_deref().map(text),
            id: format!(
                "urn:uuid:{}",
                Uuid::new_v5(
                    &c.id,
                    format!("events.atom?{}", feed.filter.normalized()).as_bytes()
                )
            ),
            updated: feed.updated.fixed_offset(),
            authors: vec![atom::Person {
                name: without_controls(&c.name).into_owned(),
                ..Default::default()
            }],
            generator: Some(atom::Generator {
                value: "learnweek".into(),
                version: Some(env!("CARGO_PKG_VERSION").into()),
                ..Default::default()
            }),
            links: vec![
                link(path(Format::Atom), "self", "application/atom+xml"),
                link(path(Format::Ics), "alternate", "text/calendar"),
                link(path(Format::Json), "alternate", "application/feed+json"),
            ],
            entries: vec![entry],
            extensions: BTreeMap::from([(
                "at".to_string(),
                BTreeMap::from([("deleted-entry".to_string(), vec![stone])]),
            )]),
            namespaces: BTreeMap::from([("at".to_string(), TOMBSTONES_NS.to_string())]),
            ..Default::default()
        };
        let config = atom::WriteConfig {
            write_document_declaration: true,
            indent_size: Some(2),
        };
        String::from_utf8(doc.write_with_config(Vec::new(), config).unwrap()).unwrap()
    }

    #[test]
    fn written_as_atom_syndication_writes_it() {
        let awkward = "<直播> & \"录播\" 'x'\r\n第二行\u{0b}";
        let mut c = campaign(awkward);
        c.theme = Some(awkward.into());
        let mut f = feed(c);
        f.filter.area = Some("潘州街道 & <x>".into());
        let mut e = event(awkward);
        e.summary = Some(awkward.into());
        e.area = Some(awkward.into());
        e.tags = vec![awkward.into(), "社区教育".into()];
        let t = Tombstone {
            id: Uuid::from_u128(7),
            deleted_at: "2026-11-30T10:00:00.5Z".parse().unwrap(),
        };
        let mut ours = String::new();
        head(&f, &mut ours);
        entry(&f, &e, &mut ours);
        tail(std::slice::from_ref(&t), &mut ours);
        assert_eq!(ours, reference(&f, &e, &t));
        atom::Feed::read_from(ours.as_bytes()).unwrap();
    }
}
