//! "Search for free slots": exact sets of Slot ids for each kind of consumer, the windows, and
//! every parameter rule with its status and Spine error code.

use super::*;

const BASE: &[&str] = &[
    "open-free",
    "open-early",
    "open-edge",
    "open-late",
    "off-override-on",
];

fn base_and(extra: &[&str]) -> BTreeSet<String> {
    set(BASE).into_iter().chain(set(extra)).collect()
}

#[actix_web::test]
async fn each_consumer_sees_exactly_the_slots_the_matching_table_allows() {
    let (app, f) = app_with_fixture().await;
    let t = |code: &str| format!("{ORG_TYPE}|{code}");
    let o = |code: &str| format!("{ODS}|{code}");
    let cases: Vec<(Vec<String>, BTreeSet<String>)> = vec![
        (vec![], base_and(&[])),
        (vec![t("urgent-care")], base_and(&["type-free"])),
        (vec![t("Urgent Care")], base_and(&["type-free"])),
        (vec![t("gp-practice")], base_and(&[])),
        (vec![t("oncology")], base_and(&[])),
        (vec![o("Y03032")], base_and(&["ods-free"])),
        (vec![o("y03032")], base_and(&["ods-free"])),
        (vec![o("A11111")], base_and(&["open-override-ods"])),
        (
            vec![t("urgent-care"), o("Y03032")],
            base_and(&["type-free", "ods-free", "both-free"]),
        ),
        (vec![t("gp-practice"), o("Y03032")], base_and(&["ods-free"])),
        (
            vec![t("urgent-care"), o("A11111")],
            base_and(&["type-free", "open-override-ods"]),
        ),
        // Search filters of other systems are ignored, not refused.
        (
            vec![
                "https://fhir.nhs.uk/Id/uec-dos-service-id|1000123".into(),
                "no-system-at-all".into(),
                t("urgent-care"),
            ],
            base_and(&["type-free"]),
        ),
    ];
    for (filters, expected) in cases {
        let mut params = days("2026-06-10", "2026-06-10");
        params.extend(filters.iter().map(|v| ("searchFilter", v.clone())));
        let answer = search(&app, &q(&params)).await;
        assert_eq!(answer.status, 200, "{filters:?}: {}", answer.body);
        assert_eq!(slot_names(&f, &answer.json()), expected, "{filters:?}");
    }
}

#[actix_web::test]
async fn a_slot_must_lie_wholly_inside_the_window() {
    let (app, f) = app_with_fixture().await;
    let answer = search(
        &app,
        &[
            ("start", "ge2026-06-10T09:00:00+01:00"),
            ("end", "le2026-06-10T17:00:00+01:00"),
            ("status", "free"),
            ("_include", "Slot:schedule"),
        ],
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(
        slot_names(&f, &answer.json()),
        set(&["open-free", "open-edge", "off-override-on"]),
        "open-early starts at 08:50 and open-late ends at 17:10"
    );
}

#[actix_web::test]
async fn a_date_only_end_covers_the_whole_day() {
    let (app, f) = app_with_fixture().await;
    // mar-last is 23:30-23:45 BST on 5 April 2026.
    let whole_day = search(&app, &q(&days("2026-04-05", "2026-04-05"))).await;
    assert_eq!(slot_names(&f, &whole_day.json()), set(&["mar-last"]));
    let until_23 = search(
        &app,
        &[
            ("start", "ge2026-04-05"),
            ("end", "le2026-04-05T23:00:00+01:00"),
            ("status", "free"),
            ("_include", "Slot:schedule"),
        ],
    )
    .await;
    assert_eq!(until_23.status, 200, "{}", until_23.body);
    assert!(slot_names(&f, &until_23.json()).is_empty());
}

#[actix_web::test]
async fn fourteen_local_days_are_accepted_and_fifteen_refused_across_both_clock_changes() {
    let (app, f) = app_with_fixture().await;
    let spring = search(&app, &q(&days("2026-03-23", "2026-04-05"))).await;
    assert_eq!(
        slot_names(&f, &spring.json()),
        set(&["mar-first", "mar-change", "mar-last"]),
        "14 local days in spring are 13 days 23 hours"
    );
    let autumn = search(&app, &q(&days("2026-10-19", "2026-11-01"))).await;
    assert_eq!(
        slot_names(&f, &autumn.json()),
        set(&["oct-first", "oct-change", "oct-last"]),
        "14 local days in autumn are 14 days 1 hour"
    );
    let autumn_times = search(
        &app,
        &[
            ("start", "ge2026-10-19T00:00:00+01:00"),
            ("end", "le2026-11-02T00:00:00+00:00"),
            ("status", "free"),
            ("_include", "Slot:schedule"),
        ],
    )
    .await;
    assert_eq!(
        slot_names(&f, &autumn_times.json()),
        set(&["oct-first", "oct-change", "oct-last"])
    );
    for (first, last) in [("2026-03-23", "2026-04-06"), ("2026-10-18", "2026-11-01")] {
        search(&app, &q(&days(first, last)))
            .await
            .assert_error(422, "INVALID_PARAMETER");
    }
}

#[actix_web::test]
async fn an_empty_window_or_no_match_is_an_empty_bundle() {
    let (app, _f) = app_with_fixture().await;
    let empty = json!({ "resourceType": "Bundle", "type": "searchset" });
    let zero = search(
        &app,
        &[
            ("start", "ge2026-06-10T09:00:00+01:00"),
            ("end", "le2026-06-10T09:00:00+01:00"),
            ("status", "free"),
            ("_include", "Slot:schedule"),
            ("_include:recurse", "Location:managingOrganization"),
        ],
    )
    .await;
    assert_eq!((zero.status, zero.json()), (200, empty.clone()));
    let none = search(&app, &q(&days("2027-01-04", "2027-01-08"))).await;
    assert_eq!((none.status, none.json()), (200, empty));
}

#[actix_web::test]
async fn another_practice_s_slots_never_appear() {
    let (app, f) = app_with_fixture().await;
    let a = search(&app, &q(&days("2026-06-10", "2026-06-10"))).await;
    assert!(!slot_names(&f, &a.json()).contains("b-open-free"));
    let b = gpc_get(
        &app,
        PRACTICE_B,
        "/Slot",
        &q(&days("2026-06-10", "2026-06-10")),
        headers(SEARCH_SLOT, ASID_B),
    )
    .await;
    assert_eq!(slot_names(&f, &b.json()), set(&["b-open-free"]));
}

/// `days("2026-06-10", "2026-06-10")` with `name` removed, then `extra` added.
fn changed(remove: &[&str], extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, String)> {
    let mut params: Vec<_> = days("2026-06-10", "2026-06-10")
        .into_iter()
        .filter(|(k, _)| !remove.contains(k))
        .collect();
    params.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
    params
}

#[actix_web::test]
async fn a_missing_start_end_or_status_is_400_bad_request() {
    let (app, _f) = app_with_fixture().await;
    for remove in [&["start"][..], &["end"], &["status"], &["start", "end"]] {
        search(&app, &q(&changed(remove, &[])))
            .await
            .assert_error(400, "BAD_REQUEST");
    }
}

#[actix_web::test]
async fn a_missing_include_slot_schedule_is_400_bad_request() {
    let (app, _f) = app_with_fixture().await;
    search(&app, &q(&changed(&["_include"], &[])))
        .await
        .assert_error(400, "BAD_REQUEST");
    search(
        &app,
        &q(&changed(
            &["_include"],
            &[("_include", "Schedule:actor:Location")],
        )),
    )
    .await
    .assert_error(400, "BAD_REQUEST");
}

/// The day's search with `start` and `end` in place of its own is 422 INVALID_PARAMETER.
async fn assert_window_refused(app: &TestApp, start: &'static str, end: &'static str) {
    search(
        app,
        &q(&changed(
            &["start", "end"],
            &[("start", start), ("end", end)],
        )),
    )
    .await
    .assert_error(422, "INVALID_PARAMETER");
}

#[actix_web::test]
async fn prefixes_other_than_ge_and_le_are_422() {
    let (app, _f) = app_with_fixture().await;
    for (start, end) in [
        ("gt2026-06-10", "le2026-06-10"),
        ("2026-06-10", "le2026-06-10"),
        ("eq2026-06-10", "le2026-06-10"),
        ("ge2026-06-10", "ge2026-06-10"),
        ("ge2026-06-10", "lt2026-06-10"),
        ("ge2026-06-10", "2026-06-10"),
    ] {
        assert_window_refused(&app, start, end).await;
    }
}

#[actix_web::test]
async fn empty_malformed_or_partial_dates_are_422() {
    let (app, _f) = app_with_fixture().await;
    for start in [
        "",
        "ge",
        "geinvalidStartDate",
        "ge2026",
        "ge2026-06",
        "ge2026-6-10",
        "ge2026-02-30",
        "ge2026-06-10T09:00:00Z",
        "ge2026-06-10T09:00:00",
        "ge2026-06-10T09:00",
        "ge2026-06-10T09:00:00.000+01:00",
    ] {
        search(&app, &q(&changed(&["start"], &[("start", start)])))
            .await
            .assert_error(422, "INVALID_PARAMETER");
    }
    search(&app, &q(&changed(&["end"], &[("end", "")])))
        .await
        .assert_error(422, "INVALID_PARAMETER");
}

/// Each of these windows would be a valid search if its odd part were read leniently.
#[actix_web::test]
async fn year_0000_a_leap_second_and_a_minus_00_00_offset_are_422() {
    let (app, _f) = app_with_fixture().await;
    for (start, end) in [
        ("ge0000-01-01", "le0000-01-02"),
        ("ge2026-06-10", "le0000-06-10T17:00:00+00:00"),
        ("ge2016-12-31T23:59:60+00:00", "le2017-01-01"),
        ("ge2026-06-10", "le2026-06-10T23:59:60+01:00"),
        ("ge2026-01-10T09:00:00-00:00", "le2026-01-10"),
        ("ge2026-01-10", "le2026-01-10T17:00:00-00:00"),
    ] {
        assert_window_refused(&app, start, end).await;
    }
}

#[actix_web::test]
async fn an_offset_not_in_force_in_the_uk_is_422() {
    let (app, _f) = app_with_fixture().await;
    for (start, end) in [
        // 10 June is in BST (+01:00).
        ("ge2026-06-10T09:00:00+00:00", "le2026-06-10"),
        ("ge2026-06-10", "le2026-06-10T17:00:00+00:00"),
        ("ge2026-06-10T09:00:00+02:00", "le2026-06-10"),
        // 10 January is in GMT (+00:00).
        ("ge2026-01-10T09:00:00+01:00", "le2026-01-10"),
        // 01:30 GMT on 29 March 2026 never happened in the UK.
        ("ge2026-03-29T01:30:00+00:00", "le2026-03-29"),
    ] {
        assert_window_refused(&app, start, end).await;
    }
}

#[actix_web::test]
async fn a_status_other_than_free_is_422() {
    let (app, _f) = app_with_fixture().await;
    for status in ["busy", "", "FREE"] {
        search(&app, &q(&changed(&["status"], &[("status", status)])))
            .await
            .assert_error(422, "INVALID_PARAMETER");
    }
}

#[actix_web::test]
async fn start_or_end_sent_twice_is_422() {
    let (app, _f) = app_with_fixture().await;
    search(&app, &q(&changed(&[], &[("start", "ge2026-06-11")])))
        .await
        .assert_error(422, "INVALID_PARAMETER");
    search(&app, &q(&changed(&[], &[("end", "le2026-06-11")])))
        .await
        .assert_error(422, "INVALID_PARAMETER");
}

#[actix_web::test]
async fn a_negative_window_is_422() {
    let (app, _f) = app_with_fixture().await;
    search(&app, &q(&days("2026-06-11", "2026-06-10")))
        .await
        .assert_error(422, "INVALID_PARAMETER");
    search(
        &app,
        &q(&changed(
            &["start", "end"],
            &[
                ("start", "ge2026-06-11T00:00:00+01:00"),
                ("end", "le2026-06-10"),
            ],
        )),
    )
    .await
    .assert_error(422, "INVALID_PARAMETER");
    let same_day = search(
        &app,
        &q(&changed(
            &["start"],
            &[("start", "ge2026-06-10T23:00:00+01:00")],
        )),
    )
    .await;
    assert_eq!(
        same_day.status, 200,
        "a dateTime start within the end day: {}",
        same_day.body
    );
    search(
        &app,
        &q(&changed(
            &["start", "end"],
            &[
                ("start", "ge2026-06-10T09:00:01+01:00"),
                ("end", "le2026-06-10T09:00:00+01:00"),
            ],
        )),
    )
    .await
    .assert_error(422, "INVALID_PARAMETER");
}

#[actix_web::test]
async fn invalid_or_conflicting_search_filters_of_known_systems_are_422() {
    let (app, _f) = app_with_fixture().await;
    for filters in [
        vec![format!("{ODS}|not an ods code")],
        vec![format!("{ODS}|")],
        vec![format!("{ORG_TYPE}|")],
        vec![format!("{ODS}|Y03032"), format!("{ODS}|A11111")],
        vec![
            format!("{ORG_TYPE}|urgent-care"),
            format!("{ORG_TYPE}|gp-practice"),
        ],
    ] {
        let mut params = days("2026-06-10", "2026-06-10");
        params.extend(filters.iter().map(|v| ("searchFilter", v.clone())));
        search(&app, &q(&params))
            .await
            .assert_error(422, "INVALID_PARAMETER");
    }
}
