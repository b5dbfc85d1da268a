//! FHIR content as an ordered tree, written as JSON or as XML from the same value.
//!
//! FHIR XML requires elements in the order the specification defines, which a JSON map does not
//! keep, so resources are built as [`Node`]s with their fields in FHIR order and each wire
//! format is written from that. FHIR's JSON and XML rules that differ are applied here once:
//! `resourceType` (JSON) versus the resource's element name and namespace (XML), primitives as
//! `value` attributes, an extension's `url` as an attribute, repeated elements for arrays.
//! Empty arrays and objects are never written (FHIR forbids them).
//!
//! XML 1.0 forbids some characters anywhere in a document (the C0 controls other than tab, LF
//! and CR, and U+FFFE, U+FFFF; see [`xml_safe`]). The rota import refuses them, but the XML
//! writer does not rely on that: whatever is stored, each one is written as U+FFFD, so a Bundle
//! always parses.

use std::borrow::Cow;

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, Event};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

pub const FHIR_NAMESPACE: &str = "http://hl7.org/fhir";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// Borrowed when it is a constant (systems, profiles, codes): most of a Bundle's strings,
    /// which would otherwise be allocated per resource.
    Str(Cow<'static, str>),
    Bool(bool),
    Int(i64),
    Arr(Vec<Node>),
    Obj(Vec<(&'static str, Node)>),
    /// A resource: its type and its fields (without `resourceType`).
    Resource(&'static str, Vec<(&'static str, Node)>),
}

impl From<&'static str> for Node {
    fn from(s: &'static str) -> Self {
        Node::Str(Cow::Borrowed(s))
    }
}

impl From<String> for Node {
    fn from(s: String) -> Self {
        Node::Str(Cow::Owned(s))
    }
}

impl From<&String> for Node {
    fn from(s: &String) -> Self {
        Node::Str(Cow::Owned(s.clone()))
    }
}

impl From<bool> for Node {
    fn from(b: bool) -> Self {
        Node::Bool(b)
    }
}

impl From<Obj> for Node {
    fn from(o: Obj) -> Self {
        Node::Obj(o.0)
    }
}

impl<T: Into<Node>> From<Vec<T>> for Node {
    fn from(items: Vec<T>) -> Self {
        Node::Arr(items.into_iter().map(Into::into).collect())
    }
}

impl Node {
    fn is_empty(&self) -> bool {
        match self {
            Node::Arr(items) => items.is_empty(),
            Node::Obj(fields) => fields.is_empty(),
            _ => false,
        }
    }

    /// The fields of a resource or object; empty for anything else.
    pub fn fields(&self) -> &[(&'static str, Node)] {
        match self {
            Node::Resource(_, fields) | Node::Obj(fields) => fields,
            _ => &[],
        }
    }

    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a Node always serialises")
    }

    /// The FHIR XML document for a resource.
    pub fn to_xml(&self) -> Vec<u8> {
        let mut writer = Writer::new(Vec::with_capacity(4096));
        let written: std::io::Result<()> = (|| {
            writer.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
            match self {
                Node::Resource(kind, fields) => write_resource(&mut writer, kind, fields),
                other => write_element(&mut writer, "value", other),
            }
        })();
        written.expect("writing XML to memory cannot fail");
        writer.into_inner()
    }
}

/// An object under construction, its fields in the order they are put.
#[derive(Debug, Default)]
pub struct Obj(Vec<(&'static str, Node)>);

impl Obj {
    pub fn new() -> Self {
        Obj(Vec::new())
    }

    /// Adds a field, unless it is an empty array or object.
    pub fn put(mut self, key: &'static str, value: impl Into<Node>) -> Self {
        let value = value.into();
        if !value.is_empty() {
            self.0.push((key, value));
        }
        self
    }

    pub fn opt(self, key: &'static str, value: Option<impl Into<Node>>) -> Self {
        match value {
            Some(v) => self.put(key, v),
            None => self,
        }
    }

    pub fn resource(self, kind: &'static str) -> Node {
        Node::Resource(kind, self.0)
    }

    pub fn into_fields(self) -> Vec<(&'static str, Node)> {
        self.0
    }
}

/// A resource whose last field is an array written as its items are made, so that a search
/// Bundle's entries (thousands for a long search) are never all held at once.
pub struct Streamed<I> {
    pub kind: &'static str,
    pub fields: Vec<(&'static str, Node)>,
    pub array: &'static str,
    pub items: I,
}

impl<I: Iterator<Item = Node>> Streamed<I> {
    /// The JSON document; `capacity` is a guess at its length, saving the buffer's regrowth.
    pub fn to_json(self, capacity: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(capacity);
        let mut items = self.items.peekable();
        let mut ser = serde_json::Serializer::new(&mut out);
        let written: Result<(), serde_json::Error> = (|| {
            let mut map = ser.serialize_map(None)?;
            map.serialize_entry("resourceType", self.kind)?;
            for (key, value) in &self.fields {
                map.serialize_entry(key, value)?;
            }
            // FHIR forbids an empty array: no items, no field.
            if items.peek().is_some() {
                map.serialize_entry(self.array, &Items(std::cell::Cell::new(Some(items))))?;
            }
            SerializeMap::end(map)
        })();
        written.expect("a Node always serialises");
        out
    }

    /// The FHIR XML document.
    pub fn to_xml(self, capacity: usize) -> Vec<u8> {
        let mut writer = Writer::new(Vec::with_capacity(capacity));
        let written: std::io::Result<()> = (|| {
            writer.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
            writer.write_event(Event::Start(
                BytesStart::new(self.kind).with_attributes([("xmlns", FHIR_NAMESPACE)]),
            ))?;
            write_children(&mut writer, &self.fields)?;
            for item in self.items {
                write_element(&mut writer, self.array, &item)?;
            }
            writer.write_event(Event::End(BytesEnd::new(self.kind)))
        })();
        written.expect("writing XML to memory cannot fail");
        writer.into_inner()
    }
}

/// An iterator serialised as a JSON array, once.
struct Items<I>(std::cell::Cell<Option<I>>);

impl<I: Iterator<Item = Node>> Serialize for Items<I> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.take().into_iter().flatten())
    }
}

struct Fields<'a>(Option<&'static str>, &'a [(&'static str, Node)]);

impl Serialize for Fields<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map =
            serializer.serialize_map(Some(self.1.len() + usize::from(self.0.is_some())))?;
        if let Some(kind) = self.0 {
            map.serialize_entry("resourceType", kind)?;
        }
        for (key, value) in self.1 {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

impl Serialize for Node {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Node::Str(s) => serializer.serialize_str(s),
            Node::Bool(b) => serializer.serialize_bool(*b),
            Node::Int(i) => serializer.serialize_i64(*i),
            Node::Arr(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Node::Obj(fields) => Fields(None, fields).serialize(serializer),
            Node::Resource(kind, fields) => Fields(Some(kind), fields).serialize(serializer),
        }
    }
}

type XmlWriter = Writer<Vec<u8>>;

fn write_resource(
    w: &mut XmlWriter,
    kind: &str,
    fields: &[(&'static str, Node)],
) -> std::io::Result<()> {
    w.write_event(Event::Start(
        BytesStart::new(kind).with_attributes([("xmlns", FHIR_NAMESPACE)]),
    ))?;
    write_children(w, fields)?;
    w.write_event(Event::End(BytesEnd::new(kind)))
}

fn write_children(w: &mut XmlWriter, fields: &[(&'static str, Node)]) -> std::io::Result<()> {
    for (name, value) in fields {
        match value {
            Node::Arr(items) => {
                for item in items {
                    write_element(w, name, item)?;
                }
            }
            other => write_element(w, name, other)?,
        }
    }
    Ok(())
}

/// Whether XML 1.0 allows `c` in a document (its `Char` production; surrogates can't occur in a
/// Rust string).
pub fn xml_allows(c: char) -> bool {
    !matches!(c, '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}')
}

/// `value` with each character XML 1.0 forbids replaced by U+FFFD REPLACEMENT CHARACTER;
/// borrowed when there is none (nearly always).
pub fn xml_safe(value: &str) -> Cow<'_, str> {
    if value.chars().all(xml_allows) {
        Cow::Borrowed(value)
    } else {
        Cow::Owned(
            value
                .chars()
                .map(|c| if xml_allows(c) { c } else { '\u{fffd}' })
                .collect(),
        )
    }
}

fn primitive(name: &str, value: &str) -> Event<'static> {
    Event::Empty(
        BytesStart::new(name.to_owned()).with_attributes([("value", xml_safe(value).as_ref())]),
    )
}

fn write_element(w: &mut XmlWriter, name: &str, value: &Node) -> std::io::Result<()> {
    match value {
        Node::Str(s) => w.write_event(primitive(name, s)),
        Node::Bool(b) => w.write_event(primitive(name, if *b { "true" } else { "false" })),
        Node::Int(i) => w.write_event(primitive(name, &i.to_string())),
        Node::Arr(items) => {
            for item in items {
                write_element(w, name, item)?;
            }
            Ok(())
        }
        Node::Obj(fields) => {
            // An extension's url is an attribute in XML.
            let is_extension = matches!(name, "extension" | "modifierExtension");
            let mut start = BytesStart::new(name);
            let mut children: Vec<&(&'static str, Node)> = Vec::with_capacity(fields.len());
            for field in fields {
                match field {
                    ("url", Node::Str(url)) if is_extension => {
                        start.push_attribute(("url", xml_safe(url).as_ref()));
                    }
                    other => children.push(other),
                }
            }
            w.write_event(Event::Start(start))?;
            for (child, value) in children {
                match value {
                    Node::Arr(items) => {
                        for item in items {
                            write_element(w, child, item)?;
                        }
                    }
                    other => write_element(w, child, other)?,
                }
            }
            w.write_event(Event::End(BytesEnd::new(name)))
        }
        Node::Resource(kind, fields) => {
            w.write_event(Event::Start(BytesStart::new(name)))?;
            write_resource(w, kind, fields)?;
            w.write_event(Event::End(BytesEnd::new(name)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Node {
        Obj::new()
            .put("id", "7")
            .put(
                "extension",
                vec![Node::from(
                    Obj::new()
                        .put("url", "https://example.org/ext")
                        .put("valueCode", "In-person"),
                )],
            )
            .put("empty", Vec::<Node>::new())
            .put("line", vec!["1 High St & Co", "Leeds"])
            .put("active", true)
            .put(
                "entry",
                vec![Node::from(
                    Obj::new().put("resource", Obj::new().put("id", "9").resource("Slot")),
                )],
            )
            .resource("Bundle")
    }

    #[test]
    fn json_keeps_field_order_and_puts_resource_type_first() {
        let json = String::from_utf8(sample().to_json()).unwrap();
        assert_eq!(
            json,
            r#"{"resourceType":"Bundle","id":"7","extension":[{"url":"https://example.org/ext","valueCode":"In-person"}],"line":["1 High St & Co","Leeds"],"active":true,"entry":[{"resource":{"resourceType":"Slot","id":"9"}}]}"#
        );
    }

    #[test]
    fn xml_never_carries_a_character_xml_forbids() {
        let stored = "a\u{0}b\u{1}c\u{8}\u{b}\u{c}\u{e}\u{1f}\u{fffe}\u{ffff}\tok\n\r";
        let node = Obj::new()
            .put("name", stored)
            .put(
                "extension",
                vec![Node::from(
                    Obj::new()
                        .put("url", "https://x/\u{1}")
                        .put("valueCode", "\u{ffff}"),
                )],
            )
            .resource("Location");
        let xml = String::from_utf8(node.to_xml()).unwrap();
        assert!(xml.chars().all(xml_allows), "{xml:?}");
        // Tab, LF and CR are kept (as character references, so they survive parsing).
        assert!(xml.contains(&format!("a\u{fffd}b\u{fffd}c{}", "\u{fffd}".repeat(7))));
        assert!(!xml.contains('\u{0}') && xml.contains("ok"));
        assert!(xml.contains("url=\"https://x/\u{fffd}\""), "{xml}");
        assert_eq!(xml_safe("plain"), Cow::Borrowed("plain"));
    }

    #[test]
    fn xml_follows_fhir_rules() {
        let xml = String::from_utf8(sample().to_xml()).unwrap();
        assert_eq!(
            xml,
            concat!(
                r#"<?xml version="1.0" encoding="UTF-8"?>"#,
                r#"<Bundle xmlns="http://hl7.org/fhir"><id value="7"/>"#,
                r#"<extension url="https://example.org/ext"><valueCode value="In-person"/></extension>"#,
                r#"<line value="1 High St &amp; Co"/><line value="Leeds"/><active value="true"/>"#,
                r#"<entry><resource><Slot xmlns="http://hl7.org/fhir"><id value="9"/></Slot></resource></entry>"#,
                r#"</Bundle>"#
            )
        );
    }
}
