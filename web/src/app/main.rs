//! `courtier-app`: the Yew single-page app that trunk builds into `dist/`.
//!
//! # Layout
//! - `admin/`: the Admin section (broker admin API): token form, dashboard, clients, retained
//!   messages, users; its state is `courtier_web::model::admin`.
//! - `store`: the one `ConnectionProvider` and the `use_connection` hook (connection + state).
//! - `page`: initial state, layout, theme, download glue.
//! - one file per panel: `connect`, `status`, `subscribe`, `publish`, `log`, `tree`, `chart`.
//! - `profiles`: saved connection profiles in IndexedDB.
//! - `widgets`: labelled form controls.
//!
//! All behaviour lives in `courtier_web::model` (a pure reducer, tested on the host); these
//! components only render it and call the connection.
//!
//! It only makes sense in a browser; a host build compiles to a stub that says so, which keeps
//! `cargo build --workspace` and `cargo test --workspace` working without the wasm target.

#[cfg(target_arch = "wasm32")]
mod admin;
#[cfg(target_arch = "wasm32")]
mod chart;
#[cfg(target_arch = "wasm32")]
mod connect;
#[cfg(target_arch = "wasm32")]
mod log;
#[cfg(target_arch = "wasm32")]
mod page;
#[cfg(target_arch = "wasm32")]
mod profiles;
#[cfg(target_arch = "wasm32")]
mod publish;
#[cfg(target_arch = "wasm32")]
mod status;
#[cfg(target_arch = "wasm32")]
mod store;
#[cfg(target_arch = "wasm32")]
mod subscribe;
#[cfg(all(test, target_arch = "wasm32"))]
mod tests;
#[cfg(all(test, target_arch = "wasm32"))]
mod tests_admin;
#[cfg(all(test, target_arch = "wasm32"))]
mod tests_more;
#[cfg(target_arch = "wasm32")]
mod tree;
#[cfg(target_arch = "wasm32")]
mod widgets;

#[cfg(target_arch = "wasm32")]
fn main() {
    yew::Renderer::<page::App>::new().render();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("courtier-app runs in a browser: build it with `cargo xtask dist` (trunk)");
    std::process::exit(2);
}
