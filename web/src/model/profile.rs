//! Saved connection profiles: what is stored (never the password), how one is named, and the
//! order they are listed in. The browser store (IndexedDB) is in the app's `profiles` module.

use super::form::ConnectForm;

/// A saved connection profile.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Profile {
    /// Shown name, also the key in the store: saving the same name again replaces it.
    pub name: String,
    /// The form, password blanked.
    pub form: ConnectForm,
    /// When it was saved (ms since the Unix epoch); 0 for profiles saved before this was kept
    /// (the localStorage ones migrated once), which list last.
    #[serde(default)]
    pub saved_ms: u64,
}

impl Profile {
    /// A profile of `form` named `client id @ url`, without its password: a password kept in
    /// browser storage would be readable by any script on the page's origin.
    pub fn of(form: &ConnectForm, saved_ms: u64) -> Self {
        Self {
            name: format!("{} @ {}", form.client_id, form.url),
            form: ConnectForm {
                password: String::new(),
                ..form.clone()
            },
            saved_ms,
        }
    }

    /// The form to connect with: the profile's, with the password typed for this session.
    pub fn form_with_password(&self, password: &str) -> ConnectForm {
        ConnectForm {
            password: password.to_owned(),
            ..self.form.clone()
        }
    }
}

/// Sorts profiles newest first (ties by name, so the list is stable).
pub fn newest_first(profiles: &mut [Profile]) {
    profiles.sort_by(|a, b| {
        b.saved_ms
            .cmp(&a.saved_ms)
            .then_with(|| a.name.cmp(&b.name))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_profile_never_keeps_the_password() {
        let mut form = ConnectForm::new("ws://h/mqtt".into(), "c1".into());
        form.password = "secret".into();
        let profile = Profile::of(&form, 5);
        assert_eq!(profile.name, "c1 @ ws://h/mqtt");
        assert_eq!(profile.form.password, "");
        let json = serde_json::to_string(&profile).unwrap();
        assert!(!json.contains("secret"), "{json}");
        assert_eq!(profile.form_with_password("typed").password, "typed");
        assert_eq!(profile.form_with_password("typed").url, "ws://h/mqtt");
    }

    #[test]
    fn old_profiles_read_without_a_time_and_list_last() {
        // The shape localStorage held before profiles moved to IndexedDB.
        let old: Vec<Profile> =
            serde_json::from_str(r#"[{"name":"old","form":{"url":"ws://o/mqtt"}}]"#).unwrap();
        assert_eq!(old[0].saved_ms, 0);
        assert_eq!(old[0].form.url, "ws://o/mqtt");
        let form = ConnectForm::new("ws://n/mqtt".into(), "b".into());
        let mut list = vec![
            old[0].clone(),
            Profile::of(&form, 10),
            Profile {
                name: "a".into(),
                ..Profile::of(&form, 10)
            },
            Profile::of(&form, 20),
        ];
        newest_first(&mut list);
        let order: Vec<(u64, &str)> = list.iter().map(|p| (p.saved_ms, p.name.as_str())).collect();
        assert_eq!(
            order,
            [
                (20, "b @ ws://n/mqtt"),
                (10, "a"),
                (10, "b @ ws://n/mqtt"),
                (0, "old")
            ]
        );
    }
}
