//! A live line chart of the last values of a numeric series, as inline SVG: no chart library,
//! so nothing to download and nothing to lay out but one polyline.

use yew::prelude::*;

const WIDTH: f64 = 400.0;
const HEIGHT: f64 = 140.0;
const PAD: f64 = 6.0;

/// Properties of [`Chart`].
#[derive(Properties, PartialEq)]
pub(crate) struct ChartProps {
    /// What is charted.
    pub(crate) title: String,
    /// (time in ms, value), oldest first.
    pub(crate) points: Vec<(u64, f64)>,
}

/// The SVG `points` attribute for `values` scaled into the chart box (y grows downwards).
pub(crate) fn polyline(values: &[f64]) -> (String, f64, f64) {
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    // A flat series is drawn across the middle rather than divided by zero.
    let span = if max > min { max - min } else { 1.0 };
    let step = if values.len() > 1 {
        (WIDTH - 2.0 * PAD) / (values.len() - 1) as f64
    } else {
        0.0
    };
    let points = values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let y = if max > min {
                HEIGHT - PAD - (v - min) / span * (HEIGHT - 2.0 * PAD)
            } else {
                HEIGHT / 2.0
            };
            format!("{:.1},{:.1}", PAD + i as f64 * step, y)
        })
        .collect::<Vec<_>>()
        .join(" ");
    (points, min, max)
}

/// The chart.
#[function_component]
pub(crate) fn Chart(props: &ChartProps) -> Html {
    let values: Vec<f64> = props.points.iter().map(|p| p.1).collect();
    let (points, min, max) = polyline(&values);
    let last = values.last().copied();
    html! {
        <figure class="chart" id="chart">
            <figcaption>
                <span>{ &props.title }</span>
                <strong class="last">{ last.map(|v| format!("{v}")).unwrap_or_default() }</strong>
            </figcaption>
            <svg viewBox={format!("0 0 {WIDTH} {HEIGHT}")} role="img"
                aria-label={format!("{} values from {min} to {max}", values.len())} preserveAspectRatio="none">
                <line class="axis" x1="0" y1={(HEIGHT - 1.0).to_string()} x2={WIDTH.to_string()} y2={(HEIGHT - 1.0).to_string()} />
                <polyline class="line" points={points.clone()} fill="none" vector-effect="non-scaling-stroke" />
                // The newest point, so a single value is visible too.
                if let Some((x, y)) = points.rsplit(' ').next().and_then(|p| p.split_once(',')) {
                    <circle class="dot" cx={x.to_owned()} cy={y.to_owned()} r="3" />
                }
            </svg>
            <div class="range muted"><span>{ format!("min {min}") }</span><span>{ format!("max {max} · {} points", values.len()) }</span></div>
        </figure>
    }
}
