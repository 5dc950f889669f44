//! The command line: help with examples for every command, usage errors (exit 2)
//! instead of panics, and clear messages for missing inputs.

mod support;

use support::{run, Run};

/// An example is an indented line that runs `watchfloor ...` (or pipes into it).
fn has_example(help: &str, sub: &str) -> bool {
    let cmd = format!("watchfloor {sub}").trim_end().to_string();
    help.contains("Examples")
        || help
            .lines()
            .any(|l| l.starts_with("  ") && l.trim_start().contains(&cmd))
}

fn assert_help(r: &Run, sub: &str) {
    r.expect_no_panic().expect_code(0);
    assert!(
        r.stdout.contains("Usage:"),
        "`{}`: no usage line:\n{}",
        r.cmdline,
        r.stdout
    );
    assert!(
        has_example(&r.stdout, sub),
        "`{}`: no example:\n{}",
        r.cmdline,
        r.stdout
    );
}

const SUBCOMMANDS: [&str; 4] = ["sensor", "synth", "verify", "demo"];

#[test]
fn top_level_help_lists_every_command_with_examples() {
    for flag in ["--help", "-h"] {
        let r = run(&[flag]);
        assert_help(&r, "");
        for sub in SUBCOMMANDS {
            assert!(
                r.stdout.contains(sub),
                "--help does not mention {sub}:\n{}",
                r.stdout
            );
        }
    }
    let r = run(&["--version"]);
    r.expect_no_panic().expect_code(0);
    assert!(r.stdout.starts_with("watchfloor "), "{}", r.stdout);
}

#[test]
fn every_subcommand_has_help_with_examples() {
    for sub in SUBCOMMANDS {
        assert_help(&run(&[sub, "--help"]), sub);
        assert_help(&run(&["help", sub]), sub);
    }
}

#[test]
fn sensor_help_explains_exit_status_and_config() {
    let r = run(&["sensor", "--help"]);
    for want in ["-r", "--threads", "Exit status", "sensor.toml", "-k"] {
        assert!(
            r.stdout.contains(want),
            "sensor --help should mention {want:?}:\n{}",
            r.stdout
        );
    }
}

#[test]
fn unknown_flags_and_missing_arguments_are_usage_errors() {
    let cases: &[&[&str]] = &[
        &[],
        &["--no-such-flag"],
        &["no-such-command"],
        &["sensor", "--no-such-flag", "-r", "x.pcap"],
        &["sensor"],
        &["synth", "--size"],
        &["sensor", "-r", "x.pcap", "--threads", "many"],
    ];
    for args in cases {
        let r = run(args);
        r.expect_no_panic().expect_code(2);
        assert!(
            r.stderr.contains("Usage:") || r.stderr.contains("--help"),
            "`{}` should print usage (or a pointer to --help) on stderr:\n{}",
            r.cmdline,
            r.stderr
        );
        assert!(
            r.stdout.is_empty(),
            "`{}` wrote to stdout: {}",
            r.cmdline,
            r.stdout
        );
    }
}

#[test]
fn bad_values_name_the_flag() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o.pcap");
    let out = out.to_str().unwrap();
    for (args, want) in [
        (vec!["synth", "-o", out, "--size", "12X"], "12X"),
        (vec!["synth", "-o", out, "--format", "pcapx"], "--format"),
        (vec!["synth", "-o", out, "--link", "ppp"], "--link"),
        (vec!["sensor", "-r", out, "-k", "maybe"], "-k"),
    ] {
        let r = run(&args);
        r.expect_no_panic();
        assert!(
            r.code.is_some_and(|c| c != 0),
            "`{}` should fail",
            r.cmdline
        );
        assert!(
            r.stderr.contains(want),
            "`{}`: stderr should name {want:?}:\n{}",
            r.cmdline,
            r.stderr
        );
    }
}

#[test]
fn a_missing_capture_is_a_clear_error_naming_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("missing.pcap");
    let r = run(&[
        "sensor",
        "-r",
        missing.to_str().unwrap(),
        "-l",
        tmp.path().join("out").to_str().unwrap(),
        "-q",
    ]);
    r.expect_no_panic();
    assert!(r.code.is_some_and(|c| c != 0), "exit {:?}", r.code);
    assert!(
        r.stderr.contains("missing.pcap"),
        "stderr should name the file:\n{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("No such file") || r.stderr.contains("not found"),
        "stderr should say why:\n{}",
        r.stderr
    );
    assert_eq!(
        r.stderr.lines().count(),
        1,
        "one clear line, not a backtrace:\n{}",
        r.stderr
    );
}

#[test]
fn a_missing_config_file_is_a_clear_error_naming_it() {
    let tmp = tempfile::tempdir().unwrap();
    let cap = tmp.path().join("c.pcap");
    let summary = support::synth(
        &watchfloor_synth::SynthConfig {
            target: watchfloor_synth::Target::Flows(3),
            ..Default::default()
        },
        &cap,
    );
    assert!(summary.packets > 0);
    let out = tmp.path().join("out");
    let r = run(&[
        "sensor",
        "-r",
        cap.to_str().unwrap(),
        "-l",
        out.to_str().unwrap(),
        "-c",
        "/nonexistent/sensor.toml",
        "-q",
    ]);
    r.expect_no_panic();
    assert!(r.code.is_some_and(|c| c != 0), "exit {:?}", r.code);
    assert!(
        r.stderr.contains("/nonexistent/sensor.toml"),
        "{}",
        r.stderr
    );
}
