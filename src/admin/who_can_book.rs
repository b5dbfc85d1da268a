//! The "Who can book?" question the schedule, slot and bulk edit pages share: plain choices
//! that become audiences (`availability::audience`), the entered text kept on error, and a
//! plain-English summary ("NHS 111: yes · Y03032: yes · other practices: no").
//!
//! The form fields, on each page's own typed form: `who` ("everyone" or "chosen"),
//! `who_types` (organisation type codes), `who_groups` (group ids), `who_ods` (ODS codes as
//! typed) and `who_keep` (the rare "type and organisation together" audiences the practice
//! already has, kept while ticked).

use crate::admin::forms::Errors;
use crate::availability::audience::{Audience, Audiences, GP_PRACTICE, Named, URGENT_CARE};
use crate::availability::codes::{OdsCode, OrganisationType};
use crate::availability::groups::OrgGroup;
use crate::db::ids::GroupId;

/// The question as the form shows it.
#[derive(Debug, Clone, Default)]
pub struct WhoValues {
    /// "everyone" or "chosen".
    pub choice: String,
    pub urgent_care: bool,
    pub gp_practices: bool,
    /// The practice's groups: (id, name, ticked).
    pub groups: Vec<(GroupId, String, bool)>,
    /// ODS codes as entered.
    pub ods: String,
    /// Type-and-organisation audiences: (token, description, ticked).
    pub together: Vec<(String, String, bool)>,
}

/// The question's fields as sent.
pub struct WhoSent<'a> {
    pub who: &'a str,
    pub types: &'a [String],
    pub groups: &'a [String],
    pub ods: &'a str,
    pub keep: &'a [String],
}

impl WhoSent<'_> {
    /// The fields again, as hidden fields of a check page.
    pub fn hidden(&self) -> Vec<(&'static str, String)> {
        let mut fields = vec![
            ("who", self.who.to_owned()),
            ("who_ods", self.ods.to_owned()),
        ];
        for (name, values) in [
            ("who_types", self.types),
            ("who_groups", self.groups),
            ("who_keep", self.keep),
        ] {
            fields.extend(values.iter().map(|v| (name, v.clone())));
        }
        fields
    }
}

fn group_name(groups: &[OrgGroup], id: GroupId) -> Option<String> {
    groups.iter().find(|g| g.id == id).map(|g| g.name.clone())
}

impl WhoValues {
    /// The saved audiences, for the form.
    pub fn from_audiences(audiences: &Audiences, groups: &[OrgGroup]) -> WhoValues {
        let has = |a: Audience| audiences.contains(&a);
        let names = |g: GroupId| group_name(groups, g);
        let types = |code: &str| OrganisationType::parse(code).map(|t| has(Audience::org_type(t)));
        WhoValues {
            choice: if audiences.is_everyone() {
                "everyone".into()
            } else {
                "chosen".into()
            },
            urgent_care: types(URGENT_CARE).unwrap_or(false),
            gp_practices: types(GP_PRACTICE).unwrap_or(false),
            groups: groups
                .iter()
                .map(|g| (g.id, g.name.clone(), has(Audience::group(g.id))))
                .collect(),
            ods: audiences
                .iter()
                .filter(|a| a.type_code().is_none())
                .filter_map(|a| match a.named_part() {
                    Some(Named::Ods(c)) => Some(c.to_string()),
                    _ => None,
                })
                .collect::<Vec<_>>()
                .join(", "),
            together: audiences
                .iter()
                .filter(|a| a.type_code().is_some() && a.named_part().is_some())
                .map(|a| (a.token(), a.describe(&names), true))
                .collect(),
        }
    }

    /// The question as sent, kept as entered for the form and read into audiences; `saved`
    /// supplies the type-and-organisation audiences the form can keep.
    pub fn from_form(
        sent: &WhoSent<'_>,
        groups: &[OrgGroup],
        saved: &Audiences,
        errors: &mut Errors,
    ) -> (WhoValues, Option<Audiences>) {
        let names = |g: GroupId| group_name(groups, g);
        let values = WhoValues {
            choice: sent.who.to_owned(),
            urgent_care: sent.types.iter().any(|t| t == URGENT_CARE),
            gp_practices: sent.types.iter().any(|t| t == GP_PRACTICE),
            groups: groups
                .iter()
                .map(|g| {
                    (
                        g.id,
                        g.name.clone(),
                        sent.groups.contains(&g.id.0.to_string()),
                    )
                })
                .collect(),
            ods: sent.ods.to_owned(),
            together: saved
                .iter()
                .filter(|a| a.type_code().is_some() && a.named_part().is_some())
                .map(|a| {
                    (
                        a.token(),
                        a.describe(&names),
                        sent.keep.contains(&a.token()),
                    )
                })
                .collect(),
        };
        let before = errors.0.len();
        let audiences = match sent.who {
            "everyone" => Some(Audiences::everyone()),
            "chosen" => {
                let mut list = Vec::new();
                for t in sent.types {
                    match OrganisationType::parse(t) {
                        Ok(t) => list.push(Audience::org_type(t)),
                        Err(e) => errors.add("who", e.0),
                    }
                }
                for g in sent.groups {
                    match g.parse().ok().map(GroupId).filter(|g| names(*g).is_some()) {
                        Some(g) => list.push(Audience::group(g)),
                        None => errors.add("who", "That group no longer exists: reload the page"),
                    }
                }
                let mut bad = Vec::new();
                for part in sent
                    .ods
                    .split(|c: char| c == ',' || c.is_whitespace())
                    .filter(|p| !p.is_empty())
                {
                    match OdsCode::parse_organisation(part) {
                        Ok(c) => list.push(Audience::ods(c)),
                        Err(_) => bad.push(part.to_owned()),
                    }
                }
                if !bad.is_empty() {
                    errors.add(
                        "who_ods",
                        format!(
                            "Enter ODS codes like Y03032 (a GP practice), NLO10 (an NHS 111 \
                             service) or RNR01 (a trust site): {} {} not one",
                            bad.join(", "),
                            if bad.len() == 1 { "is" } else { "are" }
                        ),
                    );
                }
                list.extend(
                    saved
                        .iter()
                        .filter(|a| a.type_code().is_some() && a.named_part().is_some())
                        .filter(|a| sent.keep.contains(&a.token()))
                        .cloned(),
                );
                if list.is_empty() && bad.is_empty() {
                    errors.add(
                        "who",
                        "Select who can book, or choose \"Any organisation using GP Connect\"",
                    );
                }
                Some(Audiences::new(list))
            }
            _ => {
                errors.add("who", "Select who can book");
                None
            }
        };
        (values, audiences.filter(|_| errors.0.len() == before))
    }

    pub fn everyone(&self) -> bool {
        self.choice == "everyone"
    }

    pub fn chosen(&self) -> bool {
        self.choice == "chosen"
    }

    /// "NHS 111: yes · other practices: no · Our PCN: yes · Y03032: yes".
    pub fn summary(&self) -> String {
        if self.everyone() {
            return "Any organisation using GP Connect: yes".into();
        }
        let yes_no = |b: bool| if b { "yes" } else { "no" };
        let mut parts = vec![
            format!("NHS 111: {}", yes_no(self.urgent_care)),
            format!("other practices: {}", yes_no(self.gp_practices)),
        ];
        parts.extend(
            self.groups
                .iter()
                .map(|(_, name, on)| format!("{name}: {}", yes_no(*on))),
        );
        parts.extend(
            self.ods
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|p| !p.is_empty())
                .map(|c| format!("{}: yes", c.to_ascii_uppercase())),
        );
        parts.extend(
            self.together
                .iter()
                .filter(|t| t.2)
                .map(|(_, d, _)| format!("{d}: yes")),
        );
        parts.join(" · ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pcn() -> Vec<OrgGroup> {
        vec![OrgGroup {
            id: GroupId(7),
            name: "Our PCN".into(),
            members: vec!["C81001".into()],
        }]
    }

    fn sent<'a>(
        who: &'a str,
        types: &'a [String],
        groups: &'a [String],
        ods: &'a str,
    ) -> WhoSent<'a> {
        WhoSent {
            who,
            types,
            groups,
            ods,
            keep: &[],
        }
    }

    #[test]
    fn plain_choices_become_audiences_joined_by_and_also() {
        let mut errors = Errors::default();
        let types = ["urgent-care".to_owned()];
        let groups = ["7".to_owned()];
        let (values, audiences) = WhoValues::from_form(
            &sent("chosen", &types, &groups, "y03032, RNR01"),
            &pcn(),
            &Audiences::everyone(),
            &mut errors,
        );
        assert!(errors.is_empty());
        assert_eq!(
            audiences.unwrap().tokens(),
            ["type:urgent-care", "ods:RNR01", "ods:Y03032", "group:7"]
        );
        assert_eq!(
            values.summary(),
            "NHS 111: yes · other practices: no · Our PCN: yes · Y03032: yes · RNR01: yes"
        );
    }

    #[test]
    fn bad_codes_and_no_choice_are_refused_keeping_the_text() {
        let mut errors = Errors::default();
        let (values, audiences) = WhoValues::from_form(
            &sent("chosen", &[], &[], "Y03032 NHS-111"),
            &pcn(),
            &Audiences::everyone(),
            &mut errors,
        );
        assert!(audiences.is_none());
        assert_eq!(values.ods, "Y03032 NHS-111");
        assert!(
            errors
                .get("who_ods")
                .unwrap()
                .contains("NHS-111 is not one")
        );
        let mut errors = Errors::default();
        let (_, audiences) = WhoValues::from_form(
            &sent("chosen", &[], &[], ""),
            &pcn(),
            &Audiences::everyone(),
            &mut errors,
        );
        assert!(audiences.is_none());
        assert!(errors.get("who").is_some());
    }

    #[test]
    fn saved_audiences_fill_the_form_and_together_ones_are_kept_when_ticked() {
        let gp = OrganisationType::parse("gp-practice").unwrap();
        let together = Audience::type_and(gp, Named::Ods(OdsCode::parse("Y03032").unwrap()));
        let saved = Audiences::new(vec![Audience::group(GroupId(7)), together.clone()]);
        let values = WhoValues::from_audiences(&saved, &pcn());
        assert!(values.chosen() && !values.urgent_care);
        assert_eq!(
            values.groups,
            vec![(GroupId(7), "Our PCN".to_owned(), true)]
        );
        assert_eq!(
            values.together[0].1,
            "Y03032 when it books as a GP practice"
        );
        let mut errors = Errors::default();
        let keep = [together.token()];
        let (_, audiences) = WhoValues::from_form(
            &WhoSent {
                who: "chosen",
                types: &[],
                groups: &[],
                ods: "",
                keep: &keep,
            },
            &pcn(),
            &saved,
            &mut errors,
        );
        assert_eq!(audiences.unwrap(), Audiences::new(vec![together]));
    }
}
