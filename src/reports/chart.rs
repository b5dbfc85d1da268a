//! Bar charts as server-rendered SVG: the geometry here, the markup in
//! `templates/reports/chart.svg` (`role="img"`, a `<title>` and `<desc>` it is labelled by, a
//! `<title>` on every bar). Colours are presentation attributes, so a strict CSP allows them,
//! and every chart sits beside a table of the same numbers.

use askama::Template;

/// One series of a stacked bar chart: its name and fill colour.
pub struct Series {
    pub name: &'static str,
    pub fill: &'static str,
}

/// NHS blue for booked, NHS light blue for free, NHS red for a minimum.
pub const BOOKED: Series = Series {
    name: "Booked",
    fill: "#005eb8",
};
pub const FREE: Series = Series {
    name: "Free",
    fill: "#41b6e6",
};
pub const OFFERED: Series = Series {
    name: "Offered to NHS 111",
    fill: "#005eb8",
};
const LINE_COLOUR: &str = "#d5281b";

pub struct Segment {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
    pub fill: &'static str,
    /// The tooltip and accessible name: "Mon 8 Jun: 2 booked".
    pub title: String,
}

pub struct AxisLabel {
    pub x: f64,
    pub y: f64,
    pub text: String,
}

pub struct LegendItem {
    pub x: f64,
    pub fill: &'static str,
    pub name: &'static str,
    pub line: bool,
}

#[derive(Template)]
#[template(path = "reports/chart.svg", escape = "html")]
pub struct BarChart {
    /// Unique in the page: the ids of the title and description derive from it.
    pub id: String,
    pub title: String,
    pub description: String,
    pub width: f64,
    pub height: f64,
    pub plot_left: f64,
    pub plot_right: f64,
    pub plot_top: f64,
    pub plot_bottom: f64,
    pub segments: Vec<Segment>,
    /// Horizontal grid lines with their values.
    pub ticks: Vec<AxisLabel>,
    pub categories: Vec<AxisLabel>,
    /// A polyline (`x,y x,y …`), e.g. a daily minimum, and its colour.
    pub line: Option<String>,
    pub line_colour: &'static str,
    pub legend: Vec<LegendItem>,
}

/// A "nice" axis maximum and step (1, 2 or 5 × 10ⁿ) for values up to `max`.
fn axis(max: f64) -> (f64, f64) {
    if max <= 0.0 {
        return (1.0, 1.0);
    }
    let raw = max / 4.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * magnitude)
        .max(1.0);
    ((max / step).ceil() * step, step)
}

/// One bar: its name in tooltips ("Mon 8 Jun") and its label under the axis, if it has one.
pub struct Category {
    pub name: String,
    pub label: Option<String>,
}

/// The size of chart text, in CSS pixels: charts are drawn at their own size, never scaled.
pub const FONT_PX: f64 = 14.0;

/// The width a label of `text` takes at [`FONT_PX`] (a generous average glyph width).
fn label_width(text: &str) -> f64 {
    text.chars().count() as f64 * FONT_PX * 0.62
}

impl BarChart {
    /// The main column's width at its widest (NHS.UK's 960 px container, less a margin).
    pub const WIDTH: f64 = 940.0;
    const HEIGHT: f64 = 320.0;

    /// A stacked bar per category (`values[i][s]` is series `s` of category `i`), with an
    /// optional line (one value per category) named `line_name`. The chart is [`Self::WIDTH`]
    /// wide, wider when its labels need it so none overlaps (it then scrolls in its box).
    pub fn stacked(
        id: &str,
        title: String,
        description: String,
        categories: &[Category],
        series: &[&Series],
        values: &[Vec<i64>],
        line: Option<(&'static str, Vec<i64>)>,
    ) -> BarChart {
        let n = categories.len().max(1) as f64;
        // Each label has the room from its bar to the next label's, with a gap.
        let labelled: Vec<usize> = (0..categories.len())
            .filter(|i| categories[*i].label.is_some())
            .collect();
        let needed_per_bar = labelled
            .windows(2)
            .map(|w| {
                let text = categories[w[0]].label.as_deref().unwrap_or_default();
                (label_width(text) + FONT_PX) / (w[1] - w[0]) as f64
            })
            .fold(0.0, f64::max);
        let (left, top) = (56.0, 40.0);
        let width = Self::WIDTH.max(left + 16.0 + needed_per_bar * n).ceil();
        let (right, bottom) = (width - 16.0, Self::HEIGHT - 48.0);
        let max = values
            .iter()
            .map(|v| v.iter().sum::<i64>())
            .chain(line.iter().flat_map(|(_, l)| l.iter().copied()))
            .max()
            .unwrap_or(0);
        let (axis_max, step) = axis(max as f64);
        let scale = (bottom - top) / axis_max;
        let slot = (right - left) / n;
        let bar = (slot * 0.7).max(1.0);

        let mut segments = Vec::new();
        let mut labels = Vec::new();
        for (i, (category, vals)) in categories.iter().zip(values).enumerate() {
            let x = left + slot * i as f64 + (slot - bar) / 2.0;
            let mut y = bottom;
            for (s, v) in series.iter().zip(vals) {
                let h = *v as f64 * scale;
                y -= h;
                if *v > 0 {
                    segments.push(Segment {
                        x,
                        y,
                        width: bar,
                        height: h,
                        fill: s.fill,
                        title: format!("{}: {v} {}", category.name, s.name.to_lowercase()),
                    });
                }
            }
            if let Some(text) = &category.label {
                // Left-aligned on its bar, so it runs into the room its week leaves.
                labels.push(AxisLabel {
                    x,
                    y: bottom + FONT_PX + 8.0,
                    text: text.clone(),
                });
            }
        }
        let ticks = (0..)
            .map(|k| k as f64 * step)
            .take_while(|v| *v <= axis_max)
            .map(|v| AxisLabel {
                x: left - 8.0,
                y: bottom - v * scale,
                text: format!("{v}"),
            })
            .collect();
        let points = line.as_ref().map(|(_, l)| {
            l.iter()
                .enumerate()
                .flat_map(|(i, v)| {
                    let y = bottom - *v as f64 * scale;
                    let x0 = left + slot * i as f64;
                    [
                        format!("{x0:.1},{y:.1}"),
                        format!("{:.1},{y:.1}", x0 + slot),
                    ]
                })
                .collect::<Vec<_>>()
                .join(" ")
        });
        let mut legend = Vec::new();
        let mut x = left;
        for s in series {
            legend.push(LegendItem {
                x,
                fill: s.fill,
                name: s.name,
                line: false,
            });
            x += 18.0 + label_width(s.name) + 24.0;
        }
        if let Some((name, _)) = &line {
            legend.push(LegendItem {
                x,
                fill: LINE_COLOUR,
                name,
                line: true,
            });
        }
        BarChart {
            id: id.to_owned(),
            title,
            description,
            width,
            height: Self::HEIGHT,
            plot_left: left,
            plot_right: right,
            plot_top: top,
            plot_bottom: bottom,
            segments,
            ticks,
            categories: labels,
            line: points,
            line_colour: LINE_COLOUR,
            legend,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_end_on_round_numbers() {
        assert_eq!(axis(0.0), (1.0, 1.0));
        assert_eq!(axis(3.0), (3.0, 1.0));
        assert_eq!(axis(7.0), (8.0, 2.0));
        assert_eq!(axis(230.0), (300.0, 100.0));
        assert_eq!(axis(41.0), (60.0, 20.0));
    }

    #[test]
    fn bars_stack_from_the_axis_and_scale_to_the_largest() {
        let c = BarChart::stacked(
            "c",
            "t".into(),
            "d".into(),
            &[
                Category {
                    name: "Mon".into(),
                    label: Some("8 Jun".into()),
                },
                Category {
                    name: "Tue".into(),
                    label: None,
                },
            ],
            &[&BOOKED, &FREE],
            &[vec![1, 3], vec![0, 2]],
            Some(("Minimum", vec![2, 2])),
        );
        // Axis to 4: Monday's stack reaches the top of the plot.
        assert_eq!(c.segments.len(), 3, "no rectangle for a zero");
        let (booked, free) = (&c.segments[0], &c.segments[1]);
        assert_eq!(booked.y + booked.height, c.plot_bottom);
        assert!((free.y - c.plot_top).abs() < 1e-9);
        assert_eq!(free.title, "Mon: 3 free");
        let rendered = c.render().unwrap();
        assert!(rendered.contains(r#"role="img" aria-labelledby="c-title c-desc""#));
        assert!(rendered.contains("<title>Tue: 2 free</title>"));
        assert_eq!(c.width, BarChart::WIDTH);
        assert_eq!(c.categories.len(), 1, "only the labelled bars");
    }

    #[test]
    fn labels_never_overlap_however_many_weeks() {
        // 26 weeks of days, a label on each Monday: the chart grows to fit them.
        let days: Vec<Category> = (0..182)
            .map(|i| Category {
                name: format!("day {i}"),
                label: (i % 7 == 0).then(|| "29 Sep".to_owned()),
            })
            .collect();
        let values = vec![vec![1]; 182];
        let c = BarChart::stacked("c", "t".into(), "d".into(), &days, &[&FREE], &values, None);
        assert_eq!(c.categories.len(), 26);
        assert!(c.width > BarChart::WIDTH);
        for pair in c.categories.windows(2) {
            assert!(
                pair[0].x + label_width(&pair[0].text) < pair[1].x,
                "overlap"
            );
        }
    }
}
