//! The binary Trunk builds: it only mounts the app.

#[cfg(target_arch = "wasm32")]
fn main() {
    petrel::ui::start();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("Petrel runs in a browser: build it with `trunk build` (see README.md).");
    std::process::exit(2);
}
