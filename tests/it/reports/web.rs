//! The report over HTTP: the page with its chart and tables, CSV and JSON, behind the admin
//! sign-in, with strict practice isolation.

use bookable::users::Role;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_DISPOSITION, CONTENT_TYPE, LOCATION};

use super::data;
use crate::harness::{TestApp, spawn_app};
use crate::support::web::{add_user, client};

pub const FORTNIGHT: &str = "?from=2026-06-08&to=2026-06-21";

/// A signed-in client.
pub async fn sign_in(app: &TestApp, username: &str) -> reqwest::Client {
    crate::support::web::sign_in(app, username).await.client
}

/// The app with R10001 and S20002 loaded, a viewer of R10001 only (`r.viewer`) and a manager
/// of both (`both.manager`).
pub async fn setup() -> (TestApp, data::Loaded) {
    let app = spawn_app().await;
    let ids = data::load(&mut app.conn());
    add_user(&app, "r.viewer", &[(ids.r, Role::Viewer)]);
    add_user(
        &app,
        "both.manager",
        &[(ids.r, Role::Manager), (ids.s, Role::Viewer)],
    );
    (app, ids)
}

async fn get(client: &reqwest::Client, app: &TestApp, path: &str) -> reqwest::Response {
    client.get(app.url(path)).send().await.unwrap()
}

#[actix_web::test]
async fn a_viewer_sees_the_chart_and_the_same_numbers_in_tables() {
    let (app, _) = setup().await;
    let c = sign_in(&app, "r.viewer").await;
    let r = get(
        &c,
        &app,
        &format!("/practices/{}/reports{FORTNIGHT}", data::R),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers().contains_key("content-security-policy"),
        "admin scope headers"
    );
    let html = r.text().await.unwrap();
    assert!(html.contains(r#"role="img" aria-labelledby="chart-daily-title chart-daily-desc""#));
    assert!(html.contains("<title id=\"chart-daily-title\">"));
    assert!(
        html.contains("<title>Mon 8 Jun: 2 booked</title>"),
        "a bar per day"
    );
    assert!(
        html.contains("chart-nhs111"),
        "the NHS 111 chart of one practice"
    );
    assert!(html.contains(r#"<dd class="nhsuk-summary-list__value">15 (195 minutes)</dd>"#));
    // Monday 8 June in the days table: 4 exposed, 40 minutes, 2 booked, 20 minutes, …
    assert!(html.contains(
        "<td class=\"nhsuk-table__cell\">2026-06-08</td><td class=\"nhsuk-table__cell\">Monday</td>\
         <td class=\"nhsuk-table__cell\">4</td><td class=\"nhsuk-table__cell\">40</td>\
         <td class=\"nhsuk-table__cell\">2</td><td class=\"nhsuk-table__cell\">20</td>"
    ));
    for id in ["days", "weeks", "nhs111", "hidden", "detail", "slot-types"] {
        assert!(html.contains(&format!("id=\"table-{id}\"")), "{id}");
        assert!(
            html.contains(&format!(
                "href=\"/practices/{}/reports/{id}.csv?from=2026-06-08&#38;to=2026-06-21\"",
                data::R
            )),
            "{id}"
        );
    }
    assert!(!html.contains("<script"), "no JavaScript");
}

#[actix_web::test]
async fn csv_is_quoted_and_in_uk_local_time() {
    let (app, _) = setup().await;
    let c = sign_in(&app, "r.viewer").await;
    let r = get(
        &c,
        &app,
        &format!("/practices/{}/reports/detail.csv{FORTNIGHT}", data::R),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()[CONTENT_TYPE], "text/csv; charset=utf-8");
    assert_eq!(
        r.headers()[CONTENT_DISPOSITION],
        "attachment; filename=\"capacity-R10001-detail-2026-06-08-to-2026-06-21.csv\""
    );
    let body = r.text().await.unwrap();
    let body = body.strip_prefix('\u{feff}').expect("a byte-order mark");
    let lines: Vec<&str> = body.lines().collect();
    assert_eq!(
        lines[0],
        "practice,date,session name,start,duration (minutes),slot type,channel,practitioner,role,\
         role code,status,bookable by"
    );
    assert_eq!(lines.len(), 16, "a header and the 15 exposed slots");
    // gp-3 starts 00:15 BST on Tuesday (23:15 UTC on Monday).
    assert_eq!(
        lines[5],
        "R10001,2026-06-09,GP session,00:15,15,Routine,In-person,Dr Amelia Okafor,\
         General Medical Practitioner,R0260,free,Anyone"
    );
    assert!(body.contains(
        "R10001,2026-06-09,\"Nurse clinic, Room 2\",14:00,15,\"Dressing, \"\"large\"\"\",In-person,\
         Dr Amelia Okafor,Staff Nurse,R0620,free,GP practice; Y03032\n"
    ));
    // Read back by a CSV reader, the awkward fields come out whole.
    let mut reader = csv::Reader::from_reader(body.as_bytes());
    let nurse = reader
        .records()
        .map(Result::unwrap)
        .find(|r| &r[8] == "Staff Nurse")
        .unwrap();
    assert_eq!(
        (&nurse[2], &nurse[5]),
        ("Nurse clinic, Room 2", "Dressing, \"large\"")
    );

    let r = get(
        &c,
        &app,
        &format!("/practices/{}/reports/slot-types.csv{FORTNIGHT}", data::R),
    )
    .await;
    let body = r.text().await.unwrap();
    assert!(
        body.contains(
            "\"Dressing, \"\"large\"\"\",\"Dressing, \"\"large\"\"\",2,30,1,15,1,15,1,1\n"
        )
    );
}

#[actix_web::test]
async fn json_is_the_same_report() {
    let (app, _) = setup().await;
    let c = sign_in(&app, "r.viewer").await;
    let r = get(
        &c,
        &app,
        &format!("/practices/{}/reports/report.json{FORTNIGHT}", data::R),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let json: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        json["period"],
        serde_json::json!({"first": "2026-06-08", "last": "2026-06-21"})
    );
    assert_eq!(json["totals"]["exposed"]["slots"], 15);
    assert_eq!(json["totals"]["book_minutes"], 265);
    assert_eq!(json["by_channel"][0]["label"], "In-person");
    assert_eq!(json["nhs111"][1]["short"], true);
    assert_eq!(json["detail"].as_array().unwrap().len(), 15);
    assert_eq!(json["detail"][4]["start"], "00:15");
    // Today the whole fortnight is past: every free bookable slot is hidden capacity.
    let hidden = json["hidden_slots"].as_array().unwrap();
    assert_eq!(hidden.len(), 15);
    assert!(hidden.iter().all(|h| {
        h["reasons"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!("in-the-past"))
    }));
}

#[actix_web::test]
async fn a_user_of_one_practice_gets_404_on_another_practice_s_report() {
    let (app, _) = setup().await;
    let c = sign_in(&app, "r.viewer").await;
    for path in ["", "/days.csv", "/detail.csv", "/report.json"] {
        let r = get(
            &c,
            &app,
            &format!("/practices/{}/reports{path}{FORTNIGHT}", data::S),
        )
        .await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
        assert!(!r.text().await.unwrap().contains(data::S), "{path}");
        let r = get(
            &c,
            &app,
            &format!("/practices/{}/reports{path}{FORTNIGHT}", data::R),
        )
        .await;
        assert_eq!(r.status(), StatusCode::OK, "{path}");
    }
    // All "your" practices is R10001 alone for this viewer, and both for the manager.
    let practices_of = |c: reqwest::Client| {
        let app = &app;
        async move {
            get(&c, app, &format!("/reports/practices.csv{FORTNIGHT}"))
                .await
                .text()
                .await
                .unwrap()
                .lines()
                .skip(1)
                .map(|l| l[..6].to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(practices_of(c.clone()).await, [data::R]);
    let both = sign_in(&app, "both.manager").await;
    assert_eq!(practices_of(both.clone()).await, [data::R, data::S]);
    let html = get(&both, &app, &format!("/reports{FORTNIGHT}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("All your practices") && html.contains("S20002"));

    // Signed out: to the sign-in page, for the page, the CSV and the JSON alike.
    for path in [
        "/reports",
        "/reports/days.csv",
        "/practices/R10001/reports/report.json",
    ] {
        let r = get(&client(), &app, path).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(r.headers()[LOCATION], "/login");
    }
}

#[actix_web::test]
async fn bad_periods_and_tables_are_refused_with_a_reason() {
    let (app, _) = setup().await;
    let c = sign_in(&app, "r.viewer").await;
    let base = format!("/practices/{}/reports", data::R);
    let r = get(
        &c,
        &app,
        &format!("{base}/days.csv?from=2026-06-21&to=2026-06-08"),
    )
    .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("on or after"));
    let r = get(&c, &app, &format!("{base}/nope.csv")).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // The page explains and falls back to the next four weeks.
    let html = get(&c, &app, &format!("{base}?from=tomorrow"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Enter the start date as a real date"));
}

#[actix_web::test]
async fn all_practices_show_one_row_each_and_say_when_all_met_the_minimum() {
    let app = spawn_app().await;
    let mut conn = app.conn();
    let mut ids = Vec::new();
    for (ods, list) in [("L03000", 3_000), ("L07500", 7_500)] {
        ids.push((
            crate::fixture::create_practice(&mut conn, ods, list),
            Role::Viewer,
        ));
        bookable::rota_import::import(
            &mut conn,
            &bookable::change_log::Actor::system("test"),
            &data::nhs111_document(ods),
        )
        .unwrap();
    }
    add_user(&app, "commissioner", &ids);
    let c = sign_in(&app, "commissioner").await;
    // Monday and Tuesday: 3 and 2 offered, against minimums of 1 and 2.
    let html = get(&c, &app, "/reports?from=2026-06-08&to=2026-06-09")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("All 2 practices met the minimum on every weekday."));
    assert!(
        !html.contains("id=\"table-nhs111-empty\""),
        "no empty list of short days"
    );
    for ods in ["L03000", "L07500"] {
        assert!(html.contains(&format!("data-practice=\"{ods}\"")), "{ods}");
    }
    assert!(
        html.contains("id=\"chart-practices\""),
        "the chart across practices"
    );
    // To Wednesday (1 offered): L07500 falls short once; its row comes first, tagged.
    let html = get(&c, &app, "/reports?from=2026-06-08&to=2026-06-10")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("1 of 2 practices fell short of the minimum on at least one weekday."));
    let row = |ods: &str| {
        let start = html.find(&format!("data-practice=\"{ods}\"")).unwrap();
        html[start..start + html[start..].find("</tr>").unwrap()].to_owned()
    };
    assert!(html.find("data-practice=\"L07500\"") < html.find("data-practice=\"L03000\""));
    let short = row("L07500");
    assert!(
        short.contains(
            "<td class=\"nhsuk-table__cell\">2</td><td class=\"nhsuk-table__cell\">1</td>\
                        <td class=\"nhsuk-table__cell\">1</td>"
        ),
        "minimum 2, fewest 1, 1 day short: {short}"
    );
    assert!(short.contains("nhsuk-tag--red\">Short"));
    assert!(row("L03000").contains("nhsuk-tag--green\">Met"));
    assert!(html.contains("1 day short"), "the chart's status of L07500");
    // The overlapping breakdowns say so next to the total.
    assert!(html.contains("counts under each of them, so these rows can add up to more than"));
}
