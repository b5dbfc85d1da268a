//! The chart across practices, for commissioners: a row per practice with a bar for the fewest
//! slots NHS 111 could book on a weekday, a mark at its daily minimum and how many weekdays
//! fell short. Drawn like [`super::chart`] (server-rendered SVG at its own size, 14 px text,
//! labelled by its title and description, a `<title>` on every row) beside a table of the same
//! numbers.

use askama::Template;

use super::chart::FONT_PX;
use super::figures::PracticeCapacity;

pub struct PracticeRow {
    pub y: f64,
    /// "A20047 Riverside Surgery", shortened to fit.
    pub label: String,
    pub bar_width: f64,
    pub minimum_x: f64,
    /// "2 days short" or "Met".
    pub status: String,
    pub short: bool,
    /// The row's tooltip and accessible name.
    pub title: String,
}

#[derive(Template)]
#[template(path = "reports/practices_chart.svg", escape = "html")]
pub struct PracticeChart {
    pub id: String,
    pub title: String,
    pub description: String,
    pub width: f64,
    pub height: f64,
    pub plot_left: f64,
    pub plot_right: f64,
    pub plot_top: f64,
    pub row_height: f64,
    pub bar_height: f64,
    pub ticks: Vec<(f64, String)>,
    pub rows: Vec<PracticeRow>,
}

const LABEL_CHARS: usize = 26;

fn shorten(text: &str) -> String {
    match text.chars().count() > LABEL_CHARS {
        true => format!(
            "{}…",
            text.chars().take(LABEL_CHARS - 1).collect::<String>()
        ),
        false => text.to_owned(),
    }
}

fn days(n: usize) -> String {
    match n {
        1 => "1 day short".to_owned(),
        n => format!("{n} days short"),
    }
}

impl PracticeChart {
    const WIDTH: f64 = 940.0;
    const ROW: f64 = 32.0;

    /// A row per practice, in the order given.
    pub fn new(id: &str, title: String, practices: &[PracticeCapacity]) -> PracticeChart {
        let (left, right, top) = (250.0, Self::WIDTH - 150.0, 56.0);
        let max = practices
            .iter()
            .flat_map(|p| {
                [
                    p.nhs111_fewest_on_a_weekday.unwrap_or(0),
                    p.nhs111_daily_minimum,
                ]
            })
            .max()
            .unwrap_or(0)
            .max(1);
        let step = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]
            .into_iter()
            .find(|s| max / s <= 8)
            .unwrap_or(1000);
        let axis_max = (max + step - 1) / step * step;
        let scale = (right - left) / axis_max as f64;
        let rows = practices
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let fewest = p.nhs111_fewest_on_a_weekday.unwrap_or(0);
                let short = p.nhs111_days_short > 0;
                let status = match short {
                    true => days(p.nhs111_days_short),
                    false => "Met".to_owned(),
                };
                PracticeRow {
                    y: top + Self::ROW * i as f64,
                    label: shorten(&format!("{} {}", p.ods_code, p.name)),
                    bar_width: fewest as f64 * scale,
                    minimum_x: left + p.nhs111_daily_minimum as f64 * scale,
                    title: format!(
                        "{} ({}): at least {fewest} a weekday against a minimum of {}; {}",
                        p.name,
                        p.ods_code,
                        p.nhs111_daily_minimum,
                        status.to_lowercase()
                    ),
                    status,
                    short,
                }
            })
            .collect::<Vec<_>>();
        let ticks = (0..=axis_max / step)
            .map(|k| (left + (k * step) as f64 * scale, (k * step).to_string()))
            .collect();
        PracticeChart {
            id: id.to_owned(),
            description: format!(
                "One row per practice: a bar for the fewest slots NHS 111 could book on a \
                 weekday of the period, a red mark at the practice's daily minimum, and the \
                 number of weekdays short of it. The table below has the same numbers for {} \
                 practices.",
                practices.len()
            ),
            title,
            width: Self::WIDTH,
            height: top + Self::ROW * rows.len() as f64 + 8.0,
            plot_left: left,
            plot_right: right,
            plot_top: top,
            row_height: Self::ROW,
            bar_height: Self::ROW - 12.0,
            ticks,
            rows,
        }
    }

    /// The label font size, for the template.
    pub fn font(&self) -> f64 {
        FONT_PX
    }
}
