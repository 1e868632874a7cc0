//! The clients table's order: a column and a direction, chosen by clicking the column's
//! header (again to reverse), with the client id breaking ties so the order never jumps.

use std::cmp::Ordering;

use super::admin_wire::ClientView;

/// A sortable column of the clients table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClientColumn {
    /// Client identifier.
    #[default]
    ClientId,
    /// User name (clients without one last when ascending).
    User,
    /// Peer address.
    Peer,
    /// Protocol version.
    Protocol,
    /// Connected since.
    Since,
    /// Subscriptions.
    Subscriptions,
    /// Queued messages.
    Queued,
}

impl ClientColumn {
    /// Every column, in table order, with its header text.
    pub const ALL: [(Self, &'static str); 7] = [
        (Self::ClientId, "Client id"),
        (Self::User, "User"),
        (Self::Peer, "Address"),
        (Self::Protocol, "MQTT"),
        (Self::Since, "Connected"),
        (Self::Subscriptions, "Subscriptions"),
        (Self::Queued, "Queued"),
    ];

    fn compare(self, a: &ClientView, b: &ClientView) -> Ordering {
        match self {
            Self::ClientId => Ordering::Equal,
            Self::User => match (&a.username, &b.username) {
                (Some(x), Some(y)) => x.cmp(y),
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) => Ordering::Equal,
            },
            Self::Peer => a.peer.cmp(&b.peer),
            Self::Protocol => a.protocol.cmp(&b.protocol),
            Self::Since => a.connected_since.cmp(&b.connected_since),
            Self::Subscriptions => a.subscriptions.cmp(&b.subscriptions),
            Self::Queued => a.queued.cmp(&b.queued),
        }
    }
}

/// The table's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ClientSort {
    /// The column sorted by.
    pub column: ClientColumn,
    /// Largest first.
    pub descending: bool,
}

impl ClientSort {
    /// The order after a click on `column`'s header: the same column reverses, another one
    /// sorts ascending.
    pub fn clicked(self, column: ClientColumn) -> Self {
        Self {
            column,
            descending: column == self.column && !self.descending,
        }
    }

    /// `aria-sort` for `column`'s header.
    pub fn aria(self, column: ClientColumn) -> &'static str {
        match (column == self.column, self.descending) {
            (false, _) => "none",
            (true, false) => "ascending",
            (true, true) => "descending",
        }
    }

    /// `clients` in this order.
    pub fn sorted(self, clients: &[ClientView]) -> Vec<&ClientView> {
        let mut rows: Vec<&ClientView> = clients.iter().collect();
        rows.sort_by(|a, b| {
            let order = self
                .column
                .compare(a, b)
                .then_with(|| a.client_id.cmp(&b.client_id));
            if self.descending {
                order.reverse()
            } else {
                order
            }
        });
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(id: &str, user: Option<&str>, since: u64, queued: usize) -> ClientView {
        ClientView {
            client_id: id.to_owned(),
            username: user.map(str::to_owned),
            connected_since: since,
            queued,
            ..ClientView::default()
        }
    }

    fn ids(sort: ClientSort, clients: &[ClientView]) -> Vec<&str> {
        sort.sorted(clients)
            .iter()
            .map(|c| c.client_id.as_str())
            .collect()
    }

    #[test]
    fn columns_sort_with_the_client_id_breaking_ties() {
        let clients = [
            client("c", Some("bob"), 30, 0),
            client("a", None, 10, 5),
            client("b", Some("alice"), 20, 5),
            client("d", Some("alice"), 5, 1),
        ];
        let sort = ClientSort::default();
        assert_eq!(ids(sort, &clients), ["a", "b", "c", "d"]);
        let by_user = sort.clicked(ClientColumn::User);
        assert_eq!(ids(by_user, &clients), ["b", "d", "c", "a"]);
        let by_queued = by_user.clicked(ClientColumn::Queued);
        assert_eq!(ids(by_queued, &clients), ["c", "d", "a", "b"]);
        let reversed = by_queued.clicked(ClientColumn::Queued);
        assert!(reversed.descending);
        assert_eq!(ids(reversed, &clients), ["b", "a", "d", "c"]);
        let since = reversed.clicked(ClientColumn::Since);
        assert_eq!(ids(since, &clients), ["d", "a", "b", "c"]);
    }

    #[test]
    fn headers_say_how_they_sort() {
        let sort = ClientSort::default().clicked(ClientColumn::Peer);
        assert_eq!(sort.aria(ClientColumn::Peer), "ascending");
        assert_eq!(sort.aria(ClientColumn::User), "none");
        assert_eq!(
            sort.clicked(ClientColumn::Peer).aria(ClientColumn::Peer),
            "descending"
        );
    }
}
