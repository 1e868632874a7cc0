//! The topic tree: every topic seen, nested by level, with its last value, message count,
//! retained marker, recent history and the numeric series the charts draw.
//!
//! Nodes are `Rc`s updated with `Rc::make_mut`, so recording a message copies only the nodes on
//! its topic's path, never the whole tree.

use std::collections::{BTreeMap, VecDeque};
use std::rc::Rc;

use super::log::LogEntry;

/// Messages of history kept per topic.
pub const HISTORY_LEN: usize = 50;
/// Points kept per numeric series.
pub const SERIES_LEN: usize = 120;
/// Numeric JSON fields followed per topic; more would make the chart menu useless.
const MAX_FIELDS: usize = 16;
/// How deep numeric JSON fields are looked for.
const MAX_DEPTH: usize = 4;

/// What the tree knows about one topic that received messages.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TopicStats {
    /// Messages received on the topic.
    pub count: u64,
    /// Whether the last message carried RETAIN (it was a retained message).
    pub retained: bool,
    /// The last messages, newest last.
    pub history: VecDeque<Rc<LogEntry>>,
    /// Numeric series: key `""` for a payload that is a number, else the JSON field path
    /// (`"sensor.temperature"`); each point is (time in ms, value).
    pub series: BTreeMap<String, VecDeque<(u64, f64)>>,
}

impl TopicStats {
    /// The last message.
    pub fn last(&self) -> Option<&Rc<LogEntry>> {
        self.history.back()
    }
}

/// One level of the tree.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TopicNode {
    /// Child levels by name (`BTreeMap`: shown sorted).
    pub children: BTreeMap<String, Rc<TopicNode>>,
    /// Set when a message was received on exactly this topic.
    pub stats: Option<TopicStats>,
    /// Messages received on this topic and every topic below it.
    pub total: u64,
}

/// One visible row of the rendered tree.
#[derive(Debug, Clone, PartialEq)]
pub struct TreeRow<'a> {
    /// Nesting depth, 0 for top-level names.
    pub depth: usize,
    /// This level's name (may be empty: `a//b` has an empty middle level).
    pub name: &'a str,
    /// The full topic up to this level.
    pub path: String,
    /// The node.
    pub node: &'a TopicNode,
}

impl TopicNode {
    /// Records `entry` under its topic.
    pub fn record(&mut self, entry: &Rc<LogEntry>) {
        let mut node = self;
        node.total += 1;
        for level in entry.topic().split('/') {
            let child = node.children.entry(level.to_owned()).or_default();
            node = Rc::make_mut(child);
            node.total += 1;
        }
        let stats = node.stats.get_or_insert_with(TopicStats::default);
        stats.count += 1;
        stats.retained = entry.publish.retain;
        if stats.history.len() == HISTORY_LEN {
            stats.history.pop_front();
        }
        stats.history.push_back(Rc::clone(entry));
        for (key, value) in numbers(&entry.publish.payload) {
            if !stats.series.contains_key(&key) && stats.series.len() >= MAX_FIELDS {
                continue;
            }
            let series = stats.series.entry(key).or_default();
            if series.len() == SERIES_LEN {
                series.pop_front();
            }
            series.push_back((entry.time_ms, value));
        }
    }

    /// The node of `topic`, if any message reached it or a topic below it.
    pub fn find(&self, topic: &str) -> Option<&TopicNode> {
        topic
            .split('/')
            .try_fold(self, |node, level| node.children.get(level).map(|c| &**c))
    }

    /// Number of distinct topics that received a message.
    pub fn topic_count(&self) -> usize {
        usize::from(self.stats.is_some())
            + self
                .children
                .values()
                .map(|c| c.topic_count())
                .sum::<usize>()
    }

    /// The rows to show, depth first, descending only into `expanded` paths.
    pub fn rows<'a>(&'a self, expanded: &dyn Fn(&str) -> bool) -> Vec<TreeRow<'a>> {
        let mut rows = Vec::new();
        self.push_rows(0, "", expanded, &mut rows);
        rows
    }

    fn push_rows<'a>(
        &'a self,
        depth: usize,
        prefix: &str,
        expanded: &dyn Fn(&str) -> bool,
        rows: &mut Vec<TreeRow<'a>>,
    ) {
        for (name, child) in &self.children {
            let path = if depth == 0 {
                name.clone()
            } else {
                format!("{prefix}/{name}")
            };
            let open = expanded(&path);
            rows.push(TreeRow {
                depth,
                name,
                path: path.clone(),
                node: child,
            });
            if open {
                child.push_rows(depth + 1, &path, expanded, rows);
            }
        }
    }
}

/// The numbers in a payload: the payload itself if it is a number, else the numeric fields of a
/// JSON object (nested fields joined with `.`, array items by index).
pub fn numbers(payload: &[u8]) -> Vec<(String, f64)> {
    let Ok(text) = std::str::from_utf8(payload) else {
        return Vec::new();
    };
    let text = text.trim();
    if let Ok(value) = text.parse::<f64>() {
        return if value.is_finite() {
            vec![(String::new(), value)]
        } else {
            Vec::new()
        };
    }
    if !text.starts_with(['{', '[']) {
        return Vec::new();
    }
    let Ok(json) = serde_json::from_str::<serde_json::Value>(text) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    collect_numbers(&json, String::new(), 0, &mut out);
    out
}

fn collect_numbers(
    value: &serde_json::Value,
    path: String,
    depth: usize,
    out: &mut Vec<(String, f64)>,
) {
    if out.len() >= MAX_FIELDS || depth > MAX_DEPTH {
        return;
    }
    let join = |key: &str| {
        if path.is_empty() {
            key.to_owned()
        } else {
            format!("{path}.{key}")
        }
    };
    match value {
        serde_json::Value::Number(n) => {
            if let Some(v) = n.as_f64().filter(|v| v.is_finite()) {
                out.push((path, v));
            }
        }
        serde_json::Value::Object(fields) => {
            for (key, field) in fields {
                collect_numbers(field, join(key), depth + 1, out);
            }
        }
        serde_json::Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                collect_numbers(item, join(&i.to_string()), depth + 1, out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::super::log::tests::publish;
    use super::*;

    fn entry(seq: u64, topic: &str, payload: &str, retain: bool) -> Rc<LogEntry> {
        let mut publish = publish(topic, payload.as_bytes());
        publish.retain = retain;
        Rc::new(LogEntry {
            seq,
            time_ms: seq * 10,
            publish,
        })
    }

    #[test]
    fn numbers_in_payloads() {
        let cases: &[(&str, &[(&str, f64)])] = &[
            ("21.5", &[("", 21.5)]),
            (" -3 \n", &[("", -3.0)]),
            ("NaN", &[]),
            ("inf", &[]),
            ("hello", &[]),
            (
                r#"{"t":21.5,"h":40,"name":"x","nested":{"v":[1,2]}}"#,
                &[
                    ("h", 40.0),
                    ("nested.v.0", 1.0),
                    ("nested.v.1", 2.0),
                    ("t", 21.5),
                ],
            ),
            ("[3, {\"a\": 4}]", &[("0", 3.0), ("1.a", 4.0)]),
            ("{broken", &[]),
        ];
        for (payload, expected) in cases {
            let expected: Vec<(String, f64)> =
                expected.iter().map(|(k, v)| (k.to_string(), *v)).collect();
            assert_eq!(numbers(payload.as_bytes()), expected, "payload {payload:?}");
        }
        assert_eq!(numbers(&[0xff]), vec![]);
    }

    #[test]
    fn tree_nests_counts_and_keeps_history() {
        let mut root = TopicNode::default();
        root.record(&entry(1, "maMaison/rez-de-chaussee/cuisine", "21.5", false));
        root.record(&entry(2, "maMaison/rez-de-chaussee/cuisine", "22", true));
        root.record(&entry(
            3,
            "maMaison/rez-de-chaussee/salon",
            "{\"t\":19}",
            false,
        ));
        root.record(&entry(4, "maMaison", "on", false));
        assert_eq!(root.total, 4);
        assert_eq!(root.topic_count(), 3);
        let house = root.find("maMaison").unwrap();
        assert_eq!(house.total, 4);
        assert_eq!(house.stats.as_ref().map(|s| s.count), Some(1));
        let kitchen = root
            .find("maMaison/rez-de-chaussee/cuisine")
            .unwrap()
            .stats
            .as_ref()
            .unwrap();
        assert_eq!(kitchen.count, 2);
        assert!(kitchen.retained);
        assert_eq!(&kitchen.last().unwrap().publish.payload[..], b"22");
        assert_eq!(kitchen.series[""], [(10, 21.5), (20, 22.0)]);
        let salon = root
            .find("maMaison/rez-de-chaussee/salon")
            .unwrap()
            .stats
            .as_ref()
            .unwrap();
        assert_eq!(salon.series["t"], [(30, 19.0)]);
        assert!(root.find("maMaison/etage").is_none());
    }

    #[test]
    fn history_and_series_are_bounded() {
        let mut root = TopicNode::default();
        for seq in 0..(SERIES_LEN as u64 + 10) {
            root.record(&entry(seq, "s", &seq.to_string(), false));
        }
        let stats = root.find("s").unwrap().stats.as_ref().unwrap();
        assert_eq!(stats.history.len(), HISTORY_LEN);
        assert_eq!(stats.series[""].len(), SERIES_LEN);
        assert_eq!(stats.series[""].front(), Some(&(100, 10.0)));
    }

    #[test]
    fn rows_follow_expansion() {
        let mut root = TopicNode::default();
        root.record(&entry(1, "a/b/c", "1", false));
        root.record(&entry(2, "a/d", "1", false));
        root.record(&entry(3, "z", "1", false));
        let names = |open: &dyn Fn(&str) -> bool| -> Vec<(usize, String)> {
            root.rows(open)
                .into_iter()
                .map(|r| (r.depth, r.path))
                .collect()
        };
        assert_eq!(
            names(&|_| false),
            [(0, "a".to_owned()), (0, "z".to_owned())]
        );
        assert_eq!(
            names(&|p| p == "a"),
            [
                (0, "a".to_owned()),
                (1, "a/b".to_owned()),
                (1, "a/d".to_owned()),
                (0, "z".to_owned())
            ]
        );
        assert_eq!(names(&|_| true).len(), 5);
    }

    #[test]
    fn recording_copies_only_the_path() {
        let mut root = TopicNode::default();
        root.record(&entry(1, "a/x", "1", false));
        root.record(&entry(2, "b/y", "1", false));
        let before = root.clone();
        root.record(&entry(3, "a/x", "2", false));
        // The untouched branch is still the same allocation in both versions.
        assert!(Rc::ptr_eq(&before.children["b"], &root.children["b"]));
        assert!(!Rc::ptr_eq(&before.children["a"], &root.children["a"]));
    }
}
