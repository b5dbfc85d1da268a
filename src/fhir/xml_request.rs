//! Reading a FHIR STU3 XML request body into the JSON form of the same resource (the FHIR
//! JSON representation rules: `value` attributes become primitives, repeating elements become
//! lists, a contained resource is an object with its `resourceType`), so one request model
//! serves both formats. The element names that repeat are those of the resources the appointment
//! interactions read (Appointment and its contained Organization); an element given twice that
//! may not repeat is an error, as is any text, CDATA, DOCTYPE or unknown attribute.

use quick_xml::Reader;
use quick_xml::XmlVersion;
use quick_xml::events::{BytesStart, Event};
use serde_json::{Map, Value};

const FHIR_NAMESPACE: &str = "http://hl7.org/fhir";

/// Elements that are lists in JSON (0..* in the resources read here).
const REPEATING: &[&str] = &[
    "identifier",
    "extension",
    "modifierExtension",
    "contained",
    "serviceType",
    "specialty",
    "reason",
    "indication",
    "supportingInformation",
    "slot",
    "incomingReferral",
    "participant",
    "requestedPeriod",
    "profile",
    "security",
    "tag",
    "coding",
    "alias",
    "telecom",
    "address",
    "contact",
    "endpoint",
    "line",
    "given",
    "prefix",
    "suffix",
];

const INTEGERS: &[&str] = &[
    "minutesDuration",
    "priority",
    "rank",
    "valueInteger",
    "valuePositiveInt",
    "valueUnsignedInt",
];
const BOOLEANS: &[&str] = &["active", "userSelected", "valueBoolean"];

/// Whether `name` inside `parent` is a list: `type` is one on an Organization and a
/// participant, a single CodeableConcept on an identifier.
fn repeats(name: &str, parent: &str) -> bool {
    REPEATING.contains(&name) || (name == "type" && parent != "identifier")
}

struct Frame {
    name: String,
    object: Map<String, Value>,
    value: Option<String>,
    /// The resource inside a `<contained>` element.
    resource: Option<Map<String, Value>>,
}

fn local(e: &BytesStart<'_>) -> String {
    e.local_name().as_ref().to_owned()
}

fn is_resource_name(name: &str) -> bool {
    name.chars().next().is_some_and(|c| c.is_ascii_uppercase())
}

fn open(e: &BytesStart<'_>, root: bool) -> Result<Frame, String> {
    let name = local(e);
    let mut frame = Frame {
        name: name.clone(),
        object: Map::new(),
        value: None,
        resource: None,
    };
    let mut namespace = None;
    for attr in e.attributes() {
        let attr = attr.map_err(|e| format!("an attribute of <{name}> is malformed: {e}"))?;
        let key = attr.key.as_ref().to_owned();
        let value = attr
            .normalized_value(XmlVersion::Implicit1_0)
            .map_err(|e| format!("the attribute {key} of <{name}> is malformed: {e}"))?
            .into_owned();
        match key.as_str() {
            "xmlns" => namespace = Some(value),
            "value" => frame.value = Some(value),
            "url" | "id" => {
                frame.object.insert(key, Value::String(value));
            }
            _ => return Err(format!("<{name}> has an unknown attribute '{key}'")),
        }
    }
    match namespace.as_deref() {
        Some(FHIR_NAMESPACE) | None if !root => Ok(frame),
        Some(FHIR_NAMESPACE) => {
            frame
                .object
                .insert("resourceType".into(), Value::String(name));
            Ok(frame)
        }
        Some(other) => Err(format!(
            "<{name}> is in the namespace '{other}': FHIR resources are in {FHIR_NAMESPACE}"
        )),
        None => Err(format!(
            "<{name}> has no namespace: FHIR resources are in {FHIR_NAMESPACE}"
        )),
    }
}

/// A closed element: its name, its JSON, and for a primitive with an id or extensions those
/// (`_name` in JSON).
type Closed = (String, Value, Option<Map<String, Value>>);

/// The JSON of a closed element.
fn close(frame: Frame) -> Result<Closed, String> {
    let Frame {
        name,
        object,
        value,
        resource,
    } = frame;
    if let Some(resource) = resource {
        return Ok((name, Value::Object(resource), None));
    }
    let Some(text) = value else {
        return Ok((name, Value::Object(object), None));
    };
    let primitive = if INTEGERS.contains(&name.as_str()) {
        text.trim()
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| format!("<{name} value=\"{text}\"> is not a whole number"))?
    } else if BOOLEANS.contains(&name.as_str()) {
        match text.trim() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => return Err(format!("<{name} value=\"{text}\"> is not true or false")),
        }
    } else {
        Value::String(text)
    };
    // A primitive with an id or extensions: its JSON has them under `_name`.
    let extra = (!object.is_empty()).then_some(object);
    Ok((name, primitive, extra))
}

fn insert(parent: &mut Frame, name: String, value: Value) -> Result<(), String> {
    if repeats(&name, &parent.name) {
        match parent
            .object
            .entry(name)
            .or_insert_with(|| Value::Array(Vec::new()))
        {
            Value::Array(items) => items.push(value),
            _ => return Err("an element is both a list and a single value".into()),
        }
        return Ok(());
    }
    if parent.object.contains_key(&name) {
        return Err(format!(
            "<{name}> is given more than once in <{}>",
            parent.name
        ));
    }
    parent.object.insert(name, value);
    Ok(())
}

/// The resource in `body` (FHIR XML) as its FHIR JSON object; the message says what is wrong.
pub fn parse(body: &[u8]) -> Result<Map<String, Value>, String> {
    let text = std::str::from_utf8(body).map_err(|_| "the body is not UTF-8".to_owned())?;
    let mut reader = Reader::from_str(text);
    reader.config_mut().expand_empty_elements = true;
    let mut stack: Vec<Frame> = Vec::new();
    let mut done: Option<Map<String, Value>> = None;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| format!("the body is not well-formed XML: {e}"))?;
        match event {
            Event::Start(e) => {
                if done.is_some() {
                    return Err("the body has more than one root element".into());
                }
                let name = local(&e);
                if name == "div" {
                    // Narrative XHTML: kept only as a marker (no request here may carry it).
                    reader
                        .read_to_end(e.name())
                        .map_err(|e| format!("the body is not well-formed XML: {e}"))?;
                    let parent = stack.last_mut().ok_or("the root element is a <div>")?;
                    insert(parent, name, Value::String(String::new()))?;
                    continue;
                }
                let in_contained = stack.last().is_some_and(|f| f.name == "contained");
                if in_contained {
                    if !is_resource_name(&name) {
                        return Err(format!("<contained> holds <{name}>, not a resource"));
                    }
                    let mut frame = open(&e, false)?;
                    frame
                        .object
                        .insert("resourceType".into(), Value::String(name));
                    stack.push(frame);
                } else {
                    stack.push(open(&e, stack.is_empty())?);
                }
            }
            Event::End(_) => {
                let frame = stack.pop().ok_or("an end tag has no start tag")?;
                let resource_in_contained = is_resource_name(&frame.name)
                    && stack.last().is_some_and(|f| f.name == "contained");
                if resource_in_contained {
                    let parent = stack.last_mut().expect("checked above");
                    if parent.resource.is_some() {
                        return Err("<contained> holds more than one resource".into());
                    }
                    parent.resource = Some(frame.object);
                    continue;
                }
                let (name, value, extra) = close(frame)?;
                match stack.last_mut() {
                    None => {
                        let Value::Object(resource) = value else {
                            return Err("the root element is not a resource".into());
                        };
                        done = Some(resource);
                    }
                    Some(parent) => {
                        if let Some(extra) = extra {
                            insert(parent, format!("_{name}"), Value::Object(extra))?;
                        }
                        insert(parent, name, value)?;
                    }
                }
            }
            Event::Text(t) => {
                if !t.xml10_content().trim().is_empty() {
                    return Err("the body has text outside value attributes".into());
                }
            }
            Event::GeneralRef(_) | Event::CData(_) => {
                return Err("the body has text outside value attributes".into());
            }
            Event::DocType(_) => return Err("a DOCTYPE is not allowed".into()),
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) => {}
            Event::Empty(_) => unreachable!("empty elements are expanded"),
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err("the body ends before its root element does".into());
    }
    done.ok_or_else(|| "the body is empty".to_owned())
}

#[cfg(test)]
mod tests {
    use super::parse;
    use serde_json::json;

    #[test]
    fn an_appointment_reads_as_its_json() {
        let xml = r##"<?xml version="1.0" encoding="UTF-8"?>
<Appointment xmlns="http://hl7.org/fhir">
  <id value="12"/>
  <meta><versionId value="1"/><profile value="https://fhir.nhs.uk/p"/></meta>
  <contained>
    <Organization>
      <id value="1"/>
      <identifier><system value="https://fhir.nhs.uk/Id/ods-organization-code"/><value value="Z100"/></identifier>
      <type><coding><system value="s"/><code value="urgent-care"/></coding></type>
      <name value="North &amp; East"/>
      <telecom><system value="phone"/><value value="0111"/></telecom>
    </Organization>
  </contained>
  <extension url="https://fhir.nhs.uk/b"><valueReference><reference value="#1"/></valueReference></extension>
  <status value="booked"/>
  <minutesDuration value="10"/>
  <slot><reference value="Slot/3"/></slot>
  <participant><actor><reference value="Patient/2"/></actor><status value="accepted"/></participant>
</Appointment>"##;
        let r = serde_json::Value::Object(parse(xml.as_bytes()).unwrap());
        assert_eq!(
            r,
            json!({
                "resourceType": "Appointment",
                "id": "12",
                "meta": { "versionId": "1", "profile": ["https://fhir.nhs.uk/p"] },
                "contained": [{
                    "resourceType": "Organization",
                    "id": "1",
                    "identifier": [{ "system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "Z100" }],
                    "type": [{ "coding": [{ "system": "s", "code": "urgent-care" }] }],
                    "name": "North & East",
                    "telecom": [{ "system": "phone", "value": "0111" }]
                }],
                "extension": [{ "url": "https://fhir.nhs.uk/b", "valueReference": { "reference": "#1" } }],
                "status": "booked",
                "minutesDuration": 10,
                "slot": [{ "reference": "Slot/3" }],
                "participant": [{ "actor": { "reference": "Patient/2" }, "status": "accepted" }]
            })
        );
    }

    #[test]
    fn malformed_or_foreign_xml_is_refused() {
        for bad in [
            "<Appointment xmlns=\"http://hl7.org/fhir\"><status value=\"booked\"/>",
            "<Appointment><status value=\"booked\"/></Appointment>",
            "<Appointment xmlns=\"urn:other\"/>",
            "<Appointment xmlns=\"http://hl7.org/fhir\">text</Appointment>",
            "<Appointment xmlns=\"http://hl7.org/fhir\"><status value=\"a\"/><status value=\"b\"/></Appointment>",
            "<!DOCTYPE x [<!ENTITY e \"e\">]><Appointment xmlns=\"http://hl7.org/fhir\"/>",
            "<Appointment xmlns=\"http://hl7.org/fhir\"><priority value=\"high\"/></Appointment>",
            "",
        ] {
            assert!(parse(bad.as_bytes()).is_err(), "{bad}");
        }
    }
}
