//! The generator refuses bad settings with a clear message, before connecting anywhere.

use std::process::Command;

fn load(args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_waymark-load"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn bad_settings_are_refused() {
    for (args, expect) in [
        (
            vec!["cross-node", "--url", "ws://127.0.0.1:1/maps/{map}"],
            "at least two",
        ),
        (
            vec!["fanout", "--rate", "0"],
            "--rate must be a positive number",
        ),
        (
            vec!["fanout", "--duration=0"],
            "--duration must be a positive number",
        ),
        (
            vec!["fanout", "--url", "http://127.0.0.1:1/{map}"],
            "must start with ws://",
        ),
        (
            vec!["overload", "--factor", "1"],
            "--factor must be greater than 1",
        ),
        (vec!["idle", "--framing", "socketio"], "y-websocket"),
        (vec!["table", "/nonexistent.json"], "cannot read"),
    ] {
        let (code, err) = load(&args);
        assert_ne!(code, Some(0), "{args:?} succeeded");
        assert!(err.contains(expect), "{args:?}: {err}");
    }
}

#[test]
fn every_command_has_help() {
    for cmd in [
        "fanout",
        "cross-node",
        "overload",
        "idle",
        "join",
        "awareness",
        "reconnect",
        "table",
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_waymark-load"))
            .args([cmd, "--help"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{cmd} --help");
        assert!(String::from_utf8_lossy(&out.stdout).contains("Usage: waymark-load"));
    }
}
