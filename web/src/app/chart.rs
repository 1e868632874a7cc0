//! A live line chart of the last values of a numeric series: an inline SVG for the line and grid,
//! no chart library. The SVG stretches to any width (`preserveAspectRatio="none"` with
//! non-scaling strokes), so everything that must keep its shape — the axis labels and the dot on
//! the newest point — is HTML laid over it at the same percentages, never an ellipse or
//! squashed text.

use courtier_web::model::chart::{layout, number};
use yew::prelude::*;

/// Inner margin of the plot, in percent of each side, so the line and dot are not clipped.
const PAD_PCT: f64 = 4.0;

/// Properties of [`Chart`].
#[derive(Properties, PartialEq)]
pub(crate) struct ChartProps {
    /// Element id (the MQTT view's one chart is `chart`).
    #[prop_or(AttrValue::Static("chart"))]
    pub(crate) id: AttrValue,
    /// What is charted.
    pub(crate) title: AttrValue,
    /// (time in ms, value), oldest first.
    pub(crate) points: Vec<(u64, f64)>,
}

/// A layout fraction (0 = left or top) as a percentage of the plot box.
fn pct(fraction: f64) -> f64 {
    PAD_PCT + fraction * (100.0 - 2.0 * PAD_PCT)
}

/// The chart.
#[function_component]
pub(crate) fn Chart(props: &ChartProps) -> Html {
    let Some(chart) = layout(&props.points) else {
        return Html::default();
    };
    let points = chart
        .points
        .iter()
        .map(|&(x, y)| format!("{:.2},{:.2}", pct(x), pct(y)))
        .collect::<Vec<_>>()
        .join(" ");
    let last = props.points.last().map(|p| p.1);
    let newest = chart.points.last().copied();
    let summary = format!(
        "{} values from {} to {}",
        chart.points.len(),
        number(chart.min),
        number(chart.max)
    );
    html! {
        <figure class="chart" id={props.id.clone()}>
            <figcaption>
                <span>{ &props.title }</span>
                <strong class="last">{ last.map(number).unwrap_or_default() }</strong>
            </figcaption>
            <div class="plot">
                <div class="value-axis" aria-hidden="true">
                    { for chart.value_ticks.iter().map(|(y, label)| html! {
                        <span class="tick" style={format!("top:{:.2}%", pct(*y))}>{ label }</span>
                    }) }
                </div>
                <div class="area">
                    <svg viewBox="0 0 100 100" preserveAspectRatio="none" role="img" aria-label={summary}>
                        { for chart.value_ticks.iter().map(|(y, _)| html! {
                            <line class="grid" x1="0" x2="100" y1={format!("{:.2}", pct(*y))} y2={format!("{:.2}", pct(*y))}
                                vector-effect="non-scaling-stroke" />
                        }) }
                        { for chart.time_ticks.iter().map(|(x, _)| html! {
                            <line class="grid" y1="0" y2="100" x1={format!("{:.2}", pct(*x))} x2={format!("{:.2}", pct(*x))}
                                vector-effect="non-scaling-stroke" />
                        }) }
                        <polyline class="line" {points} fill="none" vector-effect="non-scaling-stroke" />
                    </svg>
                    // The newest point, so a single value is visible too.
                    if let Some((x, y)) = newest {
                        <span class="chart-dot" style={format!("left:{:.2}%;top:{:.2}%", pct(x), pct(y))}></span>
                    }
                </div>
                <div class="time-axis" aria-hidden="true">
                    { for chart.time_ticks.iter().map(|(x, label)| html! {
                        <span class="tick" style={format!("left:{:.2}%", pct(*x))}>{ label }</span>
                    }) }
                </div>
            </div>
        </figure>
    }
}
