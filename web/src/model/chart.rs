//! A numeric series laid out for drawing: points as fractions of the plot box, a value axis
//! (min and max) and a time axis labelled relative to the newest point ("−30s" … "latest").
//!
//! Fractions rather than pixels: the view stretches the plot to any width, and only it knows
//! the size, so the layout stays a pure function that is tested on the host.

/// Time-axis steps tried in turn (ms); the first giving at most [`MAX_TIME_TICKS`] is used.
const STEPS_MS: [u64; 17] = [
    1_000, 2_000, 5_000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000,
    1_800_000, 3_600_000, 7_200_000, 21_600_000, 43_200_000, 86_400_000,
];
/// Time labels beyond "latest": more would collide on a 300-pixel chart.
const MAX_TIME_TICKS: u64 = 4;

/// A series ready to draw.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartLayout {
    /// Each point as (x, y) fractions of the plot box: x from the left, y from the top.
    pub points: Vec<(f64, f64)>,
    /// The smallest value.
    pub min: f64,
    /// The largest value.
    pub max: f64,
    /// Value labels as (y fraction, text): max at the top and min at the bottom, or the one
    /// value across the middle when the series is flat.
    pub value_ticks: Vec<(f64, String)>,
    /// Time labels as (x fraction, text), newest ("latest") first.
    pub time_ticks: Vec<(f64, String)>,
}

/// Lays out `points` ((time in ms, value), oldest first); `None` when there are none.
pub fn layout(points: &[(u64, f64)]) -> Option<ChartLayout> {
    let (first, last) = (points.first()?.0, points.last()?.0);
    let min = points.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
    let max = points.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
    let span_ms = last.saturating_sub(first);
    // One point (or several at the same instant, or a flat series) sits in the middle instead
    // of dividing by zero.
    let x = |t: u64| {
        if span_ms == 0 {
            0.5
        } else {
            t.saturating_sub(first) as f64 / span_ms as f64
        }
    };
    let y = |v: f64| {
        if max > min {
            1.0 - (v - min) / (max - min)
        } else {
            0.5
        }
    };
    let value_ticks = if max > min {
        vec![(0.0, number(max)), (1.0, number(min))]
    } else {
        vec![(0.5, number(min))]
    };
    Some(ChartLayout {
        points: points.iter().map(|&(t, v)| (x(t), y(v))).collect(),
        min,
        max,
        value_ticks,
        time_ticks: time_ticks(span_ms),
    })
}

fn time_ticks(span_ms: u64) -> Vec<(f64, String)> {
    if span_ms == 0 {
        return vec![(0.5, "latest".to_owned())];
    }
    let step = STEPS_MS
        .iter()
        .copied()
        .find(|step| span_ms / step <= MAX_TIME_TICKS)
        // Past the table: whole days.
        .unwrap_or_else(|| (span_ms / MAX_TIME_TICKS).div_ceil(86_400_000) * 86_400_000);
    (0..=span_ms / step)
        .map(|k| {
            let ago = k * step;
            let label = if k == 0 {
                "latest".to_owned()
            } else {
                format!("−{}", duration(ago))
            };
            (1.0 - ago as f64 / span_ms as f64, label)
        })
        .collect()
}

/// `ms` as the two largest units: `45s`, `1m30s`, `2h`, `1d6h`.
pub fn duration(ms: u64) -> String {
    let s = ms / 1000;
    let parts = [
        (s / 86_400, "d"),
        (s / 3600 % 24, "h"),
        (s / 60 % 60, "m"),
        (s % 60, "s"),
    ];
    let Some(start) = parts.iter().position(|(n, _)| *n > 0) else {
        return "0s".to_owned();
    };
    parts[start..]
        .iter()
        .take(2)
        .filter(|(n, _)| *n > 0)
        .map(|(n, unit)| format!("{n}{unit}"))
        .collect()
}

/// A value label: at most three decimals, no trailing zeros (`21.5`, `1000`, `0.333`).
pub fn number(value: f64) -> String {
    let text = format!("{value:.3}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".to_owned()
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_point_is_centred_with_one_label_on_each_axis() {
        let chart = layout(&[(1_000, 21.5)]).unwrap();
        assert_eq!(chart.points, [(0.5, 0.5)]);
        assert_eq!(chart.value_ticks, [(0.5, "21.5".to_owned())]);
        assert_eq!(chart.time_ticks, [(0.5, "latest".to_owned())]);
        assert_eq!(layout(&[]), None);
    }

    #[test]
    fn points_follow_time_and_value() {
        let chart = layout(&[(0, 10.0), (30_000, 20.0), (60_000, 15.0)]).unwrap();
        assert_eq!(chart.points, [(0.0, 1.0), (0.5, 0.0), (1.0, 0.5)]);
        assert_eq!((chart.min, chart.max), (10.0, 20.0));
        assert_eq!(
            chart.value_ticks,
            [(0.0, "20".to_owned()), (1.0, "10".to_owned())]
        );
        // 60 s span: 15 s steps give 4 labels besides "latest".
        let labels: Vec<&str> = chart.time_ticks.iter().map(|t| t.1.as_str()).collect();
        assert_eq!(labels, ["latest", "−15s", "−30s", "−45s", "−1m"]);
        assert_eq!(chart.time_ticks[2].0, 0.5);
        assert_eq!(chart.time_ticks[4].0, 0.0);
    }

    #[test]
    fn time_steps_grow_with_the_span() {
        let check = |span_ms: u64, expected: &[&str]| {
            let labels: Vec<String> = time_ticks(span_ms).into_iter().map(|t| t.1).collect();
            assert_eq!(labels, expected, "span {span_ms} ms");
        };
        check(500, &["latest"]);
        check(3_500, &["latest", "−1s", "−2s", "−3s"]);
        check(250_000, &["latest", "−1m", "−2m", "−3m", "−4m"]);
        check(5_400_000, &["latest", "−30m", "−1h", "−1h30m"]);
        check(10 * 86_400_000, &["latest", "−3d", "−6d", "−9d"]);
    }

    #[test]
    fn numbers_and_durations_read_short() {
        let cases = [
            (21.5, "21.5"),
            (1000.0, "1000"),
            (1.0 / 3.0, "0.333"),
            (-0.0001, "0"),
            (-2.25, "-2.25"),
        ];
        for (value, text) in cases {
            assert_eq!(number(value), text, "{value}");
        }
        assert_eq!(duration(0), "0s");
        assert_eq!(duration(90_000), "1m30s");
        assert_eq!(duration(3_600_000 + 5_000), "1h");
        assert_eq!(duration(86_400_000 + 6 * 3_600_000), "1d6h");
    }
}
