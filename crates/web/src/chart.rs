//! Line charts as server-generated SVG: deterministic (the same data
//! gives the same bytes), no script, no inline style (the pages' CSP
//! allows none: colours are presentation attributes), and accessible: a
//! `<title>` and a `<desc>` the image is labelled by, dark strokes on
//! white, and the series told apart by dash pattern as well as colour.
//! Pages show the data as a table beside the chart.

use std::fmt::Write as _;

/// One line: a value per point of the x axis.
#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    pub values: Vec<u64>,
}

/// A chart of one or more series over the same labelled points.
#[derive(Debug, Clone)]
pub struct LineChart {
    /// Unique in the page: the title and description ids derive from it.
    pub id: String,
    pub title: String,
    pub desc: String,
    /// One label a point (dates); the first, middle and last are shown.
    pub labels: Vec<String>,
    pub series: Vec<Series>,
}

const WIDTH: u32 = 640;
const HEIGHT: u32 = 240;
const LEFT: u32 = 56;
const RIGHT: u32 = 16;
const TOP: u32 = 16;
const BOTTOM: u32 = 56;
/// Strokes with at least 7:1 contrast on white, and a dash pattern each.
const STROKES: [(&str, &str); 3] = [("#1f4e79", ""), ("#8b1a1a", "6 4"), ("#3d3d3d", "2 3")];

/// Text for SVG content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// The smallest "round" number (1, 2 or 5 times a power of ten) at least
/// `max`, so grid lines fall on readable values.
pub fn axis_max(max: u64) -> u64 {
    if max == 0 {
        return 1;
    }
    let mut step = 1u64;
    loop {
        for m in [1, 2, 5] {
            if let Some(v) = step.checked_mul(m)
                && v >= max
            {
                return v;
            }
        }
        match step.checked_mul(10) {
            Some(s) => step = s,
            None => return u64::MAX,
        }
    }
}

impl LineChart {
    /// The point's x coordinate.
    fn x(&self, i: usize) -> f64 {
        let plot = f64::from(WIDTH - LEFT - RIGHT);
        let n = self.labels.len().max(2) - 1;
        f64::from(LEFT) + plot * i as f64 / n as f64
    }

    /// The value's y coordinate on an axis up to `top`.
    fn y(v: u64, top: u64) -> f64 {
        let plot = f64::from(HEIGHT - TOP - BOTTOM);
        f64::from(HEIGHT - BOTTOM) - plot * v as f64 / top as f64
    }

    /// The chart as an `<svg>` element.
    pub fn svg(&self) -> String {
        let max = self
            .series
            .iter()
            .flat_map(|s| s.values.iter().copied())
            .max()
            .unwrap_or(0);
        let top = axis_max(max);
        let id = escape(&self.id);
        let mut s = String::new();
        let _ = write!(
            s,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" \
             role=\"img\" aria-labelledby=\"{id}-title {id}-desc\">\
             <title id=\"{id}-title\">{}</title><desc id=\"{id}-desc\">{}</desc>\
             <rect x=\"0\" y=\"0\" width=\"{WIDTH}\" height=\"{HEIGHT}\" fill=\"#ffffff\"/>",
            escape(&self.title),
            escape(&self.desc)
        );
        // Grid lines at whole values near 0, a quarter, ..., the top.
        for q in 0..=4u128 {
            let v = (u128::from(top) * q / 4) as u64;
            let y = Self::y(v, top);
            let _ = write!(
                s,
                "<line x1=\"{LEFT}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#d0d0d0\" stroke-width=\"1\"/>\
                 <text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\" font-size=\"12\" fill=\"#1a1a1a\">{v}</text>",
                WIDTH - RIGHT,
                LEFT - 6,
                y + 4.0
            );
        }
        let n = self.labels.len();
        let mut shown: Vec<usize> = [0, n / 2, n.saturating_sub(1)]
            .into_iter()
            .filter(|&i| i < n)
            .collect();
        shown.dedup();
        for i in shown {
            let anchor = if i == 0 {
                "start"
            } else if i + 1 == n {
                "end"
            } else {
                "middle"
            };
            let _ = write!(
                s,
                "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"{anchor}\" font-size=\"12\" fill=\"#1a1a1a\">{}</text>",
                self.x(i),
                HEIGHT - BOTTOM + 18,
                escape(&self.labels[i])
            );
        }
        for (k, series) in self.series.iter().enumerate() {
            let (stroke, dash) = STROKES[k % STROKES.len()];
            let points: Vec<String> = series
                .values
                .iter()
                .enumerate()
                .map(|(i, &v)| format!("{:.1},{:.1}", self.x(i), Self::y(v, top)))
                .collect();
            let dash = if dash.is_empty() {
                String::new()
            } else {
                format!(" stroke-dasharray=\"{dash}\"")
            };
            let _ = write!(
                s,
                "<polyline points=\"{}\" fill=\"none\" stroke=\"{stroke}\" stroke-width=\"2\"{dash}/>",
                points.join(" ")
            );
            // The legend, under the axis labels.
            let lx = LEFT + 200 * k as u32;
            let ly = HEIGHT - 12;
            let _ = write!(
                s,
                "<line x1=\"{lx}\" x2=\"{}\" y1=\"{}\" y2=\"{}\" stroke=\"{stroke}\" stroke-width=\"2\"{dash}/>\
                 <text x=\"{}\" y=\"{ly}\" font-size=\"12\" fill=\"#1a1a1a\">{}</text>",
                lx + 24,
                ly - 4,
                ly - 4,
                lx + 30,
                escape(&series.name)
            );
        }
        s.push_str("</svg>");
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart(values: Vec<u64>) -> LineChart {
        LineChart {
            id: "c".into(),
            title: "Exposed <hosts>".into(),
            desc: "per day".into(),
            labels: (1..=values.len()).map(|d| format!("day {d}")).collect(),
            series: vec![Series {
                name: "hosts".into(),
                values,
            }],
        }
    }

    #[test]
    fn round_axis_tops() {
        assert_eq!(
            [0, 1, 3, 7, 10, 11, 101, 4_999].map(axis_max),
            [1, 1, 5, 10, 10, 20, 200, 5_000]
        );
    }

    #[test]
    fn points_scale_to_the_axis_and_text_is_escaped() {
        let svg = chart(vec![0, 5, 10]).svg();
        // 10 is the top: y = TOP; 0 the bottom: y = HEIGHT - BOTTOM.
        assert!(
            svg.contains("points=\"56.0,184.0 340.0,100.0 624.0,16.0\""),
            "{svg}"
        );
        assert!(svg.contains("<title id=\"c-title\">Exposed &lt;hosts&gt;</title>"));
        assert!(svg.contains("aria-labelledby=\"c-title c-desc\""));
        assert!(!svg.contains("style"));
        // Deterministic.
        assert_eq!(svg, chart(vec![0, 5, 10]).svg());
    }

    #[test]
    fn a_single_point_and_no_data_draw() {
        assert!(chart(vec![3]).svg().contains("points=\"56.0,"));
        assert!(chart(vec![]).svg().ends_with("</svg>"));
    }
}
