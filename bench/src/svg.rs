//! Hand-written SVG dot-and-whisker charts of ratios: no plotting dependency to build, and the
//! output is plain text that diffs well.

use std::fmt::Write;

/// One row: a label, the headline ratio (the dot), the per-round range (the whisker) and an
/// optional second ratio drawn as a hollow diamond for context.
pub struct Row {
    pub label: String,
    pub ratio: f64,
    pub lo: f64,
    pub hi: f64,
    pub context: Option<f64>,
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// `goal`: the dot is green at or below it, red above; a dashed line marks it when it is not
/// 1.0. `context_name` labels the diamonds in the legend.
pub fn ratio_chart(
    title: &str,
    subtitle: &str,
    rows: &[Row],
    goal: f64,
    dot_name: &str,
    context_name: Option<&str>,
) -> String {
    const W: f64 = 900.0;
    const LEFT: f64 = 350.0;
    const RIGHT: f64 = 80.0;
    const TOP: f64 = 70.0;
    const ROW: f64 = 26.0;
    let plot_w = W - LEFT - RIGHT;
    let h = TOP + ROW * rows.len() as f64 + 90.0;

    let finite = |v: f64| v.is_finite() && v > 0.0;
    let mut lo = 0.9f64;
    let mut hi = 1.1f64;
    for r in rows {
        for v in [r.ratio, r.lo, r.hi].into_iter().chain(r.context) {
            if finite(v) {
                lo = lo.min(v);
                hi = hi.max(v);
            }
        }
    }
    // A logarithmic axis (0.5x is as far from 1 as 2x), padded, at most 1/4x to 4x.
    let (lo, hi) = ((lo / 1.05).max(0.25).ln(), (hi * 1.05).min(4.0).ln());
    let x = |v: f64| LEFT + (v.ln().clamp(lo, hi) - lo) / (hi - lo) * plot_w;
    // Ticks by priority, each drawn only if it keeps clear of those already drawn.
    const TICKS: &[f64] = &[
        1.0, 0.5, 2.0, 0.25, 4.0, 0.8, 1.25, 0.67, 1.5, 0.9, 1.1, 0.33, 3.0,
    ];
    let mut ticks: Vec<f64> = Vec::new();
    for &t in TICKS.iter().filter(|t| (lo..=hi).contains(&t.ln())) {
        if ticks.iter().all(|&d| (x(d) - x(t)).abs() >= 40.0) {
            ticks.push(t);
        }
    }
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{h}" viewBox="0 0 {W} {h}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(
        s,
        r##"<rect width="{W}" height="{h}" fill="white"/>
<text x="{LEFT}" y="22" font-size="15" font-weight="bold">{}</text>
<text x="{LEFT}" y="40" fill="#555">{}</text>"##,
        esc(title),
        esc(subtitle)
    );
    // Grid and axis labels.
    let bottom = TOP + ROW * rows.len() as f64;
    for &t in &ticks {
        let gx = x(t);
        let _ = writeln!(
            s,
            r##"<line x1="{gx:.1}" y1="{:.1}" x2="{gx:.1}" y2="{bottom:.1}" stroke="#e4e4e4"/>
<text x="{gx:.1}" y="{:.1}" text-anchor="middle" fill="#444">{t}×</text>"##,
            TOP - 8.0,
            bottom + 16.0
        );
    }
    let one = x(1.0);
    let _ = writeln!(
        s,
        r##"<line x1="{one:.1}" y1="{:.1}" x2="{one:.1}" y2="{bottom:.1}" stroke="#222" stroke-width="1.5"/>"##,
        TOP - 8.0
    );
    if (goal - 1.0).abs() > 1e-9 {
        let gx = x(goal);
        let _ = writeln!(
            s,
            r##"<line x1="{gx:.1}" y1="{:.1}" x2="{gx:.1}" y2="{bottom:.1}" stroke="#d62828" stroke-dasharray="4 3"/>"##,
            TOP - 8.0
        );
    }
    for (i, r) in rows.iter().enumerate() {
        let cy = TOP + ROW * i as f64 + ROW / 2.0;
        if i % 2 == 0 {
            let _ = writeln!(
                s,
                r##"<rect x="0" y="{:.1}" width="{W}" height="{ROW}" fill="#f7f7f7"/>"##,
                cy - ROW / 2.0
            );
        }
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            LEFT - 10.0,
            cy + 4.0,
            esc(&r.label)
        );
        if finite(r.lo) && finite(r.hi) {
            let _ = writeln!(
                s,
                r##"<line x1="{:.1}" y1="{cy:.1}" x2="{:.1}" y2="{cy:.1}" stroke="#888" stroke-width="2"/>"##,
                x(r.lo),
                x(r.hi)
            );
        }
        if let Some(c) = r.context.filter(|c| finite(*c)) {
            let cx = x(c);
            let _ = writeln!(
                s,
                r##"<path d="M{:.1} {cy:.1} L{cx:.1} {:.1} L{:.1} {cy:.1} L{cx:.1} {:.1} Z" fill="none" stroke="#666"/>"##,
                cx - 5.0,
                cy - 5.0,
                cx + 5.0,
                cy + 5.0
            );
        }
        if finite(r.ratio) {
            let colour = if r.ratio <= goal {
                "#2a9d3f"
            } else {
                "#d62828"
            };
            let _ = writeln!(
                s,
                r##"<circle cx="{:.1}" cy="{cy:.1}" r="5" fill="{colour}"/>
<text x="{:.1}" y="{:.1}" fill="#333">{:.3}×</text>"##,
                x(r.ratio),
                W - RIGHT + 12.0,
                cy + 4.0,
                r.ratio
            );
        }
    }
    // Legend.
    let ly = bottom + 40.0;
    let _ = writeln!(
        s,
        r##"<circle cx="{LEFT}" cy="{:.1}" r="5" fill="#2a9d3f"/><text x="{:.1}" y="{ly:.1}">{}: the median ratio (green: at or under {goal:.2}×, red: over)</text>
<line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#888" stroke-width="2"/><text x="{:.1}" y="{:.1}">per-round ratios, min–max</text>"##,
        ly - 4.0,
        LEFT + 10.0,
        esc(dot_name),
        LEFT - 6.0,
        ly + 14.0,
        LEFT + 6.0,
        ly + 14.0,
        LEFT + 10.0,
        ly + 18.0
    );
    if let Some(name) = context_name {
        let _ = writeln!(
            s,
            r##"<path d="M{:.1} {:.1} l5 -5 l5 5 l-5 5 Z" fill="none" stroke="#666"/><text x="{:.1}" y="{:.1}">{}</text>"##,
            LEFT - 5.0,
            ly + 36.0,
            LEFT + 10.0,
            ly + 40.0,
            esc(name)
        );
    }
    s.push_str("</svg>\n");
    s
}
