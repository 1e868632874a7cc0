//! `courtier-app`: the Yew single-page app that trunk builds into `dist/`.
//!
//! It only makes sense in a browser; a host build compiles to a stub that says so, which keeps
//! `cargo build --workspace` and `cargo test --workspace` working without the wasm target.

#[cfg(target_arch = "wasm32")]
mod page;

#[cfg(target_arch = "wasm32")]
fn main() {
    yew::Renderer::<page::App>::new().render();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("courtier-app runs in a browser: build it with `cargo xtask dist` (trunk)");
    std::process::exit(2);
}
