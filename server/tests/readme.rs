//! The README's "From the command line" section, run: every `sh` block, in order, as one bash
//! script against a real server with authentication, with the built `waymark` on the `PATH`. An
//! example that stops working fails here.

mod common;

use common::access::SECRET;
use common::*;

/// The `sh` blocks of the README section headed `heading`.
fn shell_blocks(readme: &str, heading: &str) -> Vec<String> {
    let start = readme
        .find(heading)
        .unwrap_or_else(|| panic!("no {heading:?} in the README"));
    let section = &readme[start + heading.len()..];
    let section = &section[..section.find("\n## ").unwrap_or(section.len())];
    let mut blocks = Vec::new();
    let mut rest = section;
    while let Some(at) = rest.find("```sh\n") {
        let body = &rest[at + 6..];
        let end = body.find("\n```").expect("a closed block");
        blocks.push(body[..end].to_owned());
        rest = &body[end + 4..];
    }
    blocks
}

#[tokio::test]
async fn the_command_line_examples_work_as_written() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let blocks = shell_blocks(&readme, "## From the command line\n");
    assert!(blocks.len() >= 3, "{blocks:?}");
    let data = tempfile::tempdir().unwrap();
    let server = ProcessServer::start_with(data.path(), &["--auth-secret", SECRET]).await;
    // The examples name the default address; this server listens elsewhere.
    let script = blocks
        .join("\n")
        .replace("http://127.0.0.1:8080", &server.http(""));
    let home = tempfile::tempdir().unwrap();
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_waymark"))
        .parent()
        .unwrap()
        .to_owned();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = tokio::process::Command::new("bash")
        .args(["-euo", "pipefail", "-c", &script])
        .current_dir(home.path())
        .env("PATH", path)
        .env("HOME", home.path())
        .env("WAYMARK_AUTH_SECRET", SECRET)
        .env_remove("WAYMARK_URL")
        .env_remove("WAYMARK_TOKEN")
        .output()
        .await
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(
        out.status.success(),
        "the examples failed\n--- script ---\n{script}\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}"
    );
    // What the examples say they make.
    let pdf = std::fs::read(home.path().join("checkout.pdf")).unwrap();
    assert!(pdf.starts_with(b"%PDF"));
    let md = std::fs::read_to_string(home.path().join("checkout.md")).unwrap();
    assert!(md.contains("Checkout"), "{md}");
    assert!(stdout.contains("checkout is on target"), "{stdout}");
    assert!(
        stderr.contains("already recorded 2"),
        "the re-run added nothing: {stderr}"
    );
    let completions = home
        .path()
        .join(".local/share/bash-completion/completions/waymark");
    assert!(
        std::fs::read_to_string(completions)
            .unwrap()
            .contains("_waymark")
    );
}
