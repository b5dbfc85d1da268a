//! Accessibility checks in the headless browser: axe-core (npm, pinned in package-lock.json,
//! installed by `scripts/debian-packages --browser` with `npm ci`) at WCAG 2.2 AA, and reflow
//! (the page no wider than the viewport) at a given CSS width.

use std::sync::LazyLock;

use serde_json::json;
use thirtyfour::prelude::*;

/// The rules of WCAG 2.0, 2.1 and 2.2 at levels A and AA.
const WCAG_22_AA: [&str; 5] = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"];

static AXE: LazyLock<String> = LazyLock::new(|| {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/node_modules/axe-core/axe.min.js"
    );
    std::fs::read_to_string(path).unwrap_or_else(|e| {
        panic!("{path}: {e}: run scripts/debian-packages --browser (or scripts/test), which installs axe-core")
    })
});

/// axe-core's WCAG 2.2 AA violations on the page shown, one line each: the rule, what it asks
/// and the elements that break it.
pub async fn violations(d: &WebDriver) -> Vec<String> {
    d.execute(AXE.as_str(), vec![]).await.unwrap();
    let found = d
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, { runOnly: { type: 'tag', values: arguments[0] },
                                 resultTypes: ['violations'] })
               .then(r => done(r.violations.map(v => v.id + ': ' + v.help + ' — ' +
                   v.nodes.map(n => n.target.join(' ')).join(', '))))
               .catch(e => done(['axe-core failed: ' + e]));",
            vec![json!(WCAG_22_AA)],
        )
        .await
        .unwrap();
    found.convert().unwrap()
}

/// Lays the page out at `width` CSS pixels (as a window that wide would).
pub async fn set_width(d: &WebDriver, width: u32) {
    d.cdp()
        .send_raw(
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": width, "height": 900, "deviceScaleFactor": 1, "mobile": false }),
        )
        .await
        .unwrap();
}

/// The page's width and the viewport's, at the width set: the page reflows when the first is
/// not larger.
pub async fn widths(d: &WebDriver) -> (u64, u64) {
    let w = d
        .execute(
            "return [document.documentElement.scrollWidth, window.innerWidth];",
            vec![],
        )
        .await
        .unwrap();
    let w: Vec<u64> = w.convert().unwrap();
    (w[0], w[1])
}

/// What breaks the NHS.UK error pattern on the page shown: an error summary link that lands on
/// no field, a field message no field refers to (`aria-describedby`), a page with errors whose
/// title does not start "Error: ".
pub async fn error_pattern(d: &WebDriver) -> Vec<String> {
    let found = d
        .execute(
            "const bad = [];
             const field = 'input, select, textarea';
             document.querySelectorAll('#error-summary a').forEach(a => {
               const target = document.getElementById(a.getAttribute('href').slice(1));
               if (!target || !(target.matches(field) || target.querySelector(field)))
                 bad.push('the summary link ' + a.getAttribute('href') + ' lands on no field');
             });
             document.querySelectorAll('.nhsuk-error-message').forEach(m => {
               if (!m.id || !document.querySelector('[aria-describedby~=\"' + m.id + '\"]'))
                 bad.push('no field is described by the message ' + (m.id || m.textContent));
             });
             if (document.getElementById('error-summary') && !document.title.startsWith('Error: '))
               bad.push('the title does not start with Error: ' + document.title);
             return bad;",
            vec![],
        )
        .await
        .unwrap();
    found.convert().unwrap()
}
