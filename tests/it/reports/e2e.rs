//! The report in real headless Chromium (the admin UI's browser helpers): a viewer signs in,
//! chooses the fortnight, sees the two questions answered, the chart (14 px labels, one per
//! week) and the table behind it, and downloads the CSV.

use std::time::{Duration, Instant};

use thirtyfour::prelude::*;

use super::data;
use super::web::setup;
use crate::support::browser::{BROWSERS, Browser, click, fill};
use crate::support::web::PASSWORD;

/// Waits for a finished download (Chromium writes `*.crdownload` until it is complete).
async fn downloaded(dir: &std::path::Path) -> (String, String) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let done = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|x| x == "csv"));
        if let Some(p) = done {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            return (name, std::fs::read_to_string(&p).unwrap());
        }
        assert!(Instant::now() < deadline, "no CSV was downloaded");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[actix_web::test]
async fn a_viewer_opens_the_report_sees_chart_and_table_and_downloads_the_csv() {
    let _permit = BROWSERS.acquire().await.unwrap();
    let (app, _) = setup().await;
    let browser = Browser::start().await;
    let d = browser.driver();

    d.goto(app.url("/login")).await.unwrap();
    fill(d, "username", "r.viewer").await;
    fill(d, "password", PASSWORD).await;
    click(d, "sign-in").await;
    d.query(By::Id("sign-out"))
        .first()
        .await
        .expect("signed in");

    // The period form: a GET of the same page.
    d.goto(app.url(&format!("/practices/{}/reports", data::R)))
        .await
        .unwrap();
    for (id, value) in [("from", "2026-06-08"), ("to", "2026-06-21")] {
        d.execute(
            "document.getElementById(arguments[0]).value = arguments[1];",
            vec![serde_json::json!(id), serde_json::json!(value)],
        )
        .await
        .unwrap();
    }
    d.find(By::Css("#period-form button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // The page before the click has the same ids: wait for the one the click leads to.
    let deadline = Instant::now() + Duration::from_secs(20);
    while !d
        .current_url()
        .await
        .unwrap()
        .as_str()
        .ends_with("from=2026-06-08&to=2026-06-21")
    {
        assert!(Instant::now() < deadline, "the period form did not submit");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The first screen answers the two questions.
    for (id, heading) in [
        ("nhs111-heading", "Are we meeting the NHS 111 minimum?"),
        (
            "hidden-heading",
            "What is hidden that probably shouldn't be?",
        ),
    ] {
        assert_eq!(
            d.find(By::Id(id)).await.unwrap().text().await.unwrap(),
            heading
        );
    }
    let verdict = d.find(By::Id("nhs111-verdict")).await.unwrap();
    assert!(
        verdict
            .text()
            .await
            .unwrap()
            .contains("No. On 9 of 10 weekdays"),
        "{}",
        verdict.text().await.unwrap()
    );
    assert!(
        d.find(By::Id("sign-out"))
            .await
            .unwrap()
            .is_displayed()
            .await
            .unwrap()
    );
    let summary = d
        .query(By::Id("summary"))
        .with_text(thirtyfour::stringmatch::StringMatch::new("15 (195 minutes)").partial())
        .first()
        .await
        .expect("the fortnight's summary");
    assert!(summary.is_displayed().await.unwrap());

    // The chart: an accessible image with a title, and a bar per booked/free part of a day.
    let chart = d.find(By::Id("chart-daily")).await.unwrap();
    assert_eq!(chart.attr("role").await.unwrap().as_deref(), Some("img"));
    assert!(chart.is_displayed().await.unwrap());
    let title = d.find(By::Id("chart-daily-title")).await.unwrap();
    assert!(
        title
            .inner_html()
            .await
            .unwrap()
            .starts_with("Slots offered through GP Connect per day")
    );
    // Drawn at its own size: 14 px labels, one per week (Mondays 8 and 15 June), apart.
    let labels = d
        .execute(
            "const svg = document.getElementById('chart-daily'); \
             const texts = [...svg.querySelectorAll('.bookable-chart__categories text')]; \
             return {scale: svg.getBoundingClientRect().width / svg.width.baseVal.value, \
                     labels: texts.map(t => [t.textContent, getComputedStyle(t).fontSize, \
                        t.getBoundingClientRect().left, t.getBoundingClientRect().right])};",
            vec![],
        )
        .await
        .unwrap()
        .json()
        .clone();
    assert_eq!(labels["scale"], 1.0, "{labels}");
    let labels = labels["labels"].as_array().unwrap();
    let texts: Vec<&str> = labels.iter().map(|l| l[0].as_str().unwrap()).collect();
    assert_eq!(texts, ["8 Jun", "15 Jun"]);
    assert!(labels.iter().all(|l| l[1] == "14px"), "{labels:?}");
    assert!(labels[0][3].as_f64().unwrap() < labels[1][2].as_f64().unwrap());
    let bars = chart.find_all(By::Css("rect")).await.unwrap();
    // 7 days with exposed slots, Monday 8th with booked and free ones, and 2 legend keys.
    assert_eq!(bars.len(), 8 + 2);
    // The table behind it, with the same numbers.
    d.find(By::Css("#details-days summary"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let monday = d
        .find(By::XPath(
            "//table[@id='table-days']//tr[td[1]='2026-06-08']",
        ))
        .await
        .unwrap();
    let cells: Vec<String> = {
        let mut v = Vec::new();
        for c in monday.find_all(By::Tag("td")).await.unwrap() {
            v.push(c.text().await.unwrap());
        }
        v
    };
    assert_eq!(&cells[..6], ["2026-06-08", "Monday", "4", "40", "2", "20"]);

    // Download the CSV of that table.
    let dir = std::env::temp_dir().join(format!("bookable-report-dl-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    d.cdp()
        .send_raw(
            "Browser.setDownloadBehavior",
            serde_json::json!({"behavior": "allow", "downloadPath": dir.to_string_lossy()}),
        )
        .await
        .unwrap();
    click(d, "csv-days").await;
    let (name, csv) = downloaded(&dir).await;
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(name, "capacity-R10001-days-2026-06-08-to-2026-06-21.csv");
    let csv = csv.trim_start_matches('\u{feff}');
    assert!(csv.starts_with("date,day,exposed slots,exposed minutes,booked slots"));
    assert_eq!(csv.lines().count(), 15, "a header and 14 days");
    assert!(csv.contains("\n2026-06-08,Monday,4,40,2,20,2,20,7,70,57.1,57.1,2,4\n"));

    browser.quit().await;
}
