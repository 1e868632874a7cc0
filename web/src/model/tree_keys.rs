//! The topic tree's keyboard, as the WAI-ARIA tree view pattern has it: Up/Down move between
//! visible rows, Right opens a closed row or goes to its first child, Left closes an open row or
//! goes to its parent, Home/End jump, Enter/Space select. Pure: the view maps a key name and the
//! visible rows to a [`TreeCommand`] and carries it out.

use super::tree::TreeRow;

/// What a key press on a tree row does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TreeCommand {
    /// Move the focus to the visible row at this index.
    Focus(usize),
    /// Open or close this path.
    Toggle(String),
    /// Select this topic (its details and history show).
    Select(String),
}

/// The command for `key` (a `KeyboardEvent.key`) pressed on row `index` of `rows`; `None` for
/// keys the tree leaves alone (Tab keeps leaving the tree).
pub fn command(
    rows: &[TreeRow<'_>],
    index: usize,
    key: &str,
    is_open: &dyn Fn(&str) -> bool,
) -> Option<TreeCommand> {
    let row = rows.get(index)?;
    let has_children = !row.node.children.is_empty();
    let open = has_children && is_open(&row.path);
    match key {
        "ArrowDown" => (index + 1 < rows.len()).then(|| TreeCommand::Focus(index + 1)),
        "ArrowUp" => index.checked_sub(1).map(TreeCommand::Focus),
        "Home" => (index > 0).then_some(TreeCommand::Focus(0)),
        "End" => (index + 1 < rows.len()).then(|| TreeCommand::Focus(rows.len() - 1)),
        "ArrowRight" if has_children && !open => Some(TreeCommand::Toggle(row.path.clone())),
        "ArrowRight" if open => Some(TreeCommand::Focus(index + 1)),
        "ArrowLeft" if open => Some(TreeCommand::Toggle(row.path.clone())),
        "ArrowLeft" => rows[..index]
            .iter()
            .rposition(|r| r.depth < row.depth)
            .map(TreeCommand::Focus),
        "Enter" | " " => Some(TreeCommand::Select(row.path.clone())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::rc::Rc;

    use super::super::log::LogEntry;
    use super::super::log::tests::publish;
    use super::super::tree::TopicNode;
    use super::*;

    fn tree() -> TopicNode {
        let mut root = TopicNode::default();
        for (seq, topic) in ["a/b/c", "a/d", "z"].into_iter().enumerate() {
            root.record(&Rc::new(LogEntry {
                seq: seq as u64,
                time_ms: 0,
                publish: publish(topic, b"1"),
            }));
        }
        root
    }

    #[test]
    fn keys_move_open_close_and_select() {
        let root = tree();
        let open = |p: &str| p == "a";
        // Visible: a, a/b, a/d, z.
        let rows = root.rows(&open);
        let focus = TreeCommand::Focus;
        let toggle = |p: &str| Some(TreeCommand::Toggle(p.to_owned()));
        let cases: &[(usize, &str, Option<TreeCommand>)] = &[
            (0, "ArrowDown", Some(focus(1))),
            (3, "ArrowDown", None),
            (0, "ArrowUp", None),
            (2, "ArrowUp", Some(focus(1))),
            (2, "Home", Some(focus(0))),
            (0, "End", Some(focus(3))),
            // Right: open "a" goes to its first child; closed "a/b" opens; leaves do nothing.
            (0, "ArrowRight", Some(focus(1))),
            (1, "ArrowRight", toggle("a/b")),
            (2, "ArrowRight", None),
            // Left: open "a" closes; a child goes to its parent; a closed top level stays.
            (0, "ArrowLeft", toggle("a")),
            (2, "ArrowLeft", Some(focus(0))),
            (3, "ArrowLeft", None),
            (2, "Enter", Some(TreeCommand::Select("a/d".to_owned()))),
            (3, " ", Some(TreeCommand::Select("z".to_owned()))),
            (1, "Tab", None),
            (9, "ArrowDown", None),
        ];
        for (index, key, expected) in cases {
            assert_eq!(
                &command(&rows, *index, key, &open),
                expected,
                "{key} on row {index}"
            );
        }
    }
}
