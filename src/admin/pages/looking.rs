//! "Who is looking?" on the preview and week pages: a ready-made organisation (NHS 111, a
//! neighbouring GP practice by its ODS code, a member of one of the practice's groups such as
//! an extended-access hub) or any organisation type and ODS code, read into the consumer the
//! query module answers for.

use serde::Deserialize;

use super::consumer_from;
use crate::admin::forms::Errors;
use crate::availability::codes::OdsCode;
use crate::availability::groups::OrgGroup;
use crate::availability::query::Consumer;

/// The chooser's fields as a page's query string sends them (`as`, `practice_ods`, and the
/// type and ODS code of `consumer_fields.html`).
#[derive(Deserialize, Default, Clone)]
pub struct LookingQuery {
    #[serde(rename = "as")]
    pub choice: Option<String>,
    pub practice_ods: Option<String>,
    pub org_type: Option<String>,
    pub ods_code: Option<String>,
}

/// One ready-made organisation of the chooser.
pub struct ReadyMade {
    pub value: String,
    pub label: String,
}

/// The chooser as the page shows it again.
pub struct Chooser {
    /// `nhs111`, `practice`, `group-N`, `other`, or "" (no one chosen).
    pub choice: String,
    pub practice_ods: String,
    pub groups: Vec<ReadyMade>,
    pub org_type: String,
    pub ods_code: String,
}

impl Chooser {
    pub fn is(&self, value: &str) -> bool {
        self.choice == value
    }

    /// The query string that chooses the same organisation again (for links).
    pub fn query(&self) -> String {
        let mut q = Vec::new();
        if !self.choice.is_empty() {
            q.push(format!("as={}", self.choice));
        }
        for (name, v) in [
            ("practice_ods", &self.practice_ods),
            ("org_type", &self.org_type),
            ("ods_code", &self.ods_code),
        ] {
            if !v.is_empty() {
                q.push(format!("{name}={}", urlencoding(v)));
            }
        }
        q.join("&")
    }
}

/// Query-string escaping of a typed value (ODS codes and type codes are letters, digits and
/// dashes; anything else a manager typed is escaped byte by byte).
fn urlencoding(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The group members offered ready-made: the first member of each group.
fn ready_made_groups(groups: &[OrgGroup]) -> Vec<ReadyMade> {
    groups
        .iter()
        .filter_map(|g| {
            let first = g.members.first()?;
            Some(ReadyMade {
                value: format!("group-{}", g.id),
                label: format!(
                    "{first}, a GP practice or extended-access hub in {}",
                    g.name
                ),
            })
        })
        .collect()
}

/// The chosen consumer, if any, and the chooser as sent; a wrong ODS code is an error on its
/// field.
pub fn looking(
    q: &LookingQuery,
    groups: &[OrgGroup],
    errors: &mut Errors,
) -> (Chooser, Option<Consumer>) {
    let text = |v: &Option<String>| v.as_deref().unwrap_or_default().trim().to_owned();
    let mut chooser = Chooser {
        choice: text(&q.choice),
        practice_ods: text(&q.practice_ods),
        groups: ready_made_groups(groups),
        org_type: text(&q.org_type),
        ods_code: text(&q.ods_code),
    };
    if chooser.choice.is_empty() && !(chooser.org_type.is_empty() && chooser.ods_code.is_empty()) {
        chooser.choice = "other".into();
    }
    let consumer = match chooser.choice.as_str() {
        "" => None,
        "nhs111" => Some(Consumer::new(Some("urgent-care"), None)),
        "practice" => match OdsCode::parse(&chooser.practice_ods) {
            Ok(ods) => Some(Consumer::new(Some("gp-practice"), Some(ods))),
            Err(_) if chooser.practice_ods.is_empty() => {
                errors.add("practice_ods", "Enter the practice's ODS code, like Y03032");
                None
            }
            Err(e) => {
                errors.add("practice_ods", e.0);
                None
            }
        },
        "other" => consumer_from(&q.org_type, &q.ods_code, errors),
        group => groups
            .iter()
            .find(|g| format!("group-{}", g.id) == group)
            .and_then(|g| g.members.first())
            .and_then(|first| OdsCode::parse(first).ok())
            .map(|ods| Consumer::new(Some("gp-practice"), Some(ods))),
    };
    (chooser, consumer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::ids::GroupId;

    fn q(choice: &str, practice_ods: &str, org_type: &str, ods: &str) -> LookingQuery {
        let v = |s: &str| Some(s.to_owned()).filter(|s| !s.is_empty());
        LookingQuery {
            choice: v(choice),
            practice_ods: v(practice_ods),
            org_type: v(org_type),
            ods_code: v(ods),
        }
    }

    #[test]
    fn ready_made_organisations_are_the_consumers_they_name() {
        let pcn = OrgGroup {
            id: GroupId(7),
            name: "Our PCN".into(),
            members: vec!["C81001".into(), "Y03032".into()],
        };
        let groups = [pcn];
        let mut errors = Errors::default();
        let ods = |s: &str| Some(OdsCode::parse(s).unwrap());
        let cases = [
            (
                q("nhs111", "", "", ""),
                Consumer::new(Some("urgent-care"), None),
            ),
            (
                q("practice", "y03032", "", ""),
                Consumer::new(Some("gp-practice"), ods("Y03032")),
            ),
            (
                q("group-7", "", "", ""),
                Consumer::new(Some("gp-practice"), ods("C81001")),
            ),
            (q("", "", "", "NLO10"), Consumer::new(None, ods("NLO10"))),
        ];
        for (sent, consumer) in cases {
            assert_eq!(looking(&sent, &groups, &mut errors).1, Some(consumer));
        }
        assert!(errors.is_empty());
        let (chooser, none) = looking(&q("", "", "", ""), &groups, &mut errors);
        assert!(none.is_none() && chooser.choice.is_empty());
        assert_eq!(chooser.groups[0].value, "group-7");
        let (chooser, none) = looking(&q("practice", "not one", "", ""), &groups, &mut errors);
        assert!(none.is_none() && errors.has("practice_ods"));
        assert_eq!(chooser.query(), "as=practice&practice_ods=not%20one");
    }
}
