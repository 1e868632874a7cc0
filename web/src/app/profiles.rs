//! Connection profiles in IndexedDB: a small async layer over `web_sys`'s IndexedDB types (each
//! request or transaction becomes a `Promise` awaited with `JsFuture`), plus the one-time move
//! of the profiles older builds kept in localStorage.
//!
//! Profiles are stored as plain objects keyed by their name (`keyPath: "name"`), so they read
//! well in the browser's storage inspector; they never hold a password (`Profile::of`).

use courtier_web::model::profile::{Profile, newest_first};
use gloo::storage::{LocalStorage, Storage};
use js_sys::Promise;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    Event, IdbDatabase, IdbObjectStore, IdbObjectStoreParameters, IdbOpenDbRequest, IdbRequest,
    IdbTransaction, IdbTransactionMode,
};

/// The app's database.
pub(crate) const DB_NAME: &str = "courtier";
/// Its one object store.
const STORE: &str = "profiles";
/// Schema version: 1 is the only one, so an upgrade always starts from an empty database.
const VERSION: u32 = 1;
/// Where builds before IndexedDB kept the profiles (a JSON array).
const LEGACY_KEY: &str = "courtier.profiles";

/// Why the profile store failed; the connection itself never depends on it.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ProfileError {
    /// No `window.indexedDB` (a worker, or storage disabled by the browser's settings).
    #[error("saved profiles are unavailable: this browser offers no IndexedDB here")]
    Unavailable,
    /// A request or transaction failed (quota, private mode, a blocked upgrade...).
    #[error("saved profiles: IndexedDB refused: {0}")]
    Refused(String),
}

/// What a failed request or transaction says, in words.
fn refused(error: Option<web_sys::DomException>, fallback: JsValue) -> ProfileError {
    ProfileError::Refused(match error {
        Some(error) => format!("{}: {}", error.name(), error.message()),
        None => fallback
            .as_string()
            .unwrap_or_else(|| "no reason given".to_owned()),
    })
}

/// Awaits `request` and returns its result.
async fn finished(request: &IdbRequest) -> Result<JsValue, ProfileError> {
    // IndexedDB fires its events in a later task, so handlers set right after the request was
    // made cannot miss them.
    let promise = Promise::new(&mut |resolve, reject| {
        request.set_onsuccess(Some(&resolve));
        request.set_onerror(Some(&reject));
    });
    let outcome = JsFuture::from(promise).await;
    request.set_onsuccess(None);
    request.set_onerror(None);
    match outcome {
        Ok(_) => request.result().map_err(|e| refused(None, e)),
        Err(e) => Err(refused(request.error().ok().flatten(), e)),
    }
}

/// Awaits the commit of `transaction`: a write counts once it is durable, not when its request
/// succeeded (the transaction could still abort).
async fn committed(transaction: &IdbTransaction) -> Result<(), ProfileError> {
    let promise = Promise::new(&mut |resolve, reject| {
        transaction.set_oncomplete(Some(&resolve));
        transaction.set_onerror(Some(&reject));
        transaction.set_onabort(Some(&reject));
    });
    JsFuture::from(promise)
        .await
        .map(drop)
        .map_err(|e| refused(transaction.error(), e))
}

/// An open profile database; closed on drop.
pub(crate) struct ProfileStore {
    db: IdbDatabase,
}

impl Drop for ProfileStore {
    fn drop(&mut self) {
        self.db.close();
    }
}

impl ProfileStore {
    /// Opens (creating on first use) the database `name`.
    pub(crate) async fn open(name: &str) -> Result<Self, ProfileError> {
        let factory = web_sys::window()
            .and_then(|w| w.indexed_db().ok().flatten())
            .ok_or(ProfileError::Unavailable)?;
        let request = factory
            .open_with_u32(name, VERSION)
            .map_err(|e| refused(None, e))?;
        let upgrade = Closure::<dyn FnMut(Event)>::new(|event: Event| {
            let Some(db) = event
                .target()
                .and_then(|t| t.dyn_into::<IdbOpenDbRequest>().ok())
                .and_then(|r| r.result().ok())
            else {
                return;
            };
            let parameters = IdbObjectStoreParameters::new();
            parameters.set_key_path(&JsValue::from_str("name"));
            // A failure here aborts the upgrade, which fails the open request: reported there.
            let _ = db
                .unchecked_into::<IdbDatabase>()
                .create_object_store_with_optional_parameters(STORE, &parameters);
        });
        request.set_onupgradeneeded(Some(upgrade.as_ref().unchecked_ref()));
        let db = finished(&request).await;
        request.set_onupgradeneeded(None);
        Ok(Self {
            db: db?.unchecked_into(),
        })
    }

    fn objects(
        &self,
        mode: IdbTransactionMode,
    ) -> Result<(IdbTransaction, IdbObjectStore), ProfileError> {
        let transaction = self
            .db
            .transaction_with_str_and_mode(STORE, mode)
            .map_err(|e| refused(None, e))?;
        let store = transaction
            .object_store(STORE)
            .map_err(|e| refused(None, e))?;
        Ok((transaction, store))
    }

    /// Every saved profile, newest first. One unreadable record (written by some other version)
    /// is skipped rather than hiding all the others.
    pub(crate) async fn list(&self) -> Result<Vec<Profile>, ProfileError> {
        let (_transaction, store) = self.objects(IdbTransactionMode::Readonly)?;
        let all = finished(&store.get_all().map_err(|e| refused(None, e))?).await?;
        let mut profiles: Vec<Profile> = js_sys::Array::from(&all)
            .iter()
            .filter_map(|record| js_sys::JSON::stringify(&record).ok())
            .filter_map(|json| serde_json::from_str(&String::from(json)).ok())
            .collect();
        newest_first(&mut profiles);
        Ok(profiles)
    }

    /// Saves `profiles`, each replacing any profile of the same name, in one transaction.
    pub(crate) async fn put(&self, profiles: &[Profile]) -> Result<(), ProfileError> {
        let (transaction, store) = self.objects(IdbTransactionMode::Readwrite)?;
        for profile in profiles {
            // Serialising a struct of strings, numbers and booleans cannot fail, and its JSON
            // always parses.
            let json = serde_json::to_string(profile).unwrap_or_default();
            let record = js_sys::JSON::parse(&json).map_err(|e| refused(None, e))?;
            store.put(&record).map_err(|e| refused(None, e))?;
        }
        committed(&transaction).await
    }

    /// Deletes the profile called `name` (nothing if there is none).
    pub(crate) async fn delete(&self, name: &str) -> Result<(), ProfileError> {
        let (transaction, store) = self.objects(IdbTransactionMode::Readwrite)?;
        store
            .delete(&JsValue::from_str(name))
            .map_err(|e| refused(None, e))?;
        committed(&transaction).await
    }

    /// Moves the profiles an older build kept in localStorage under `key` into this store, once:
    /// the key is removed only after the write committed, so a failure leaves them where they
    /// were.
    pub(crate) async fn migrate_local_storage(&self, key: &str) -> Result<usize, ProfileError> {
        let Ok(old) = LocalStorage::get::<Vec<Profile>>(key) else {
            return Ok(0);
        };
        self.put(&old).await?;
        LocalStorage::delete(key);
        Ok(old.len())
    }
}

/// The app's profiles after the one-time migration, newest first.
pub(crate) async fn load() -> Result<Vec<Profile>, ProfileError> {
    let store = ProfileStore::open(DB_NAME).await?;
    store.migrate_local_storage(LEGACY_KEY).await?;
    store.list().await
}

/// Saves `profile` in the app's store and returns the new list.
pub(crate) async fn save(profile: Profile) -> Result<Vec<Profile>, ProfileError> {
    let store = ProfileStore::open(DB_NAME).await?;
    store.put(&[profile]).await?;
    store.list().await
}

/// Deletes the profile `name` from the app's store and returns the new list.
pub(crate) async fn delete(name: String) -> Result<Vec<Profile>, ProfileError> {
    let store = ProfileStore::open(DB_NAME).await?;
    store.delete(&name).await?;
    store.list().await
}
