//! `tracelake serve` and `tracelake query` run `tracelake-dashboards`, the
//! release's second binary, which holds the query engine (DataFusion): without
//! it `tracelake` builds in half the time, and the demo's report comes before
//! the query engine has compiled (docs/build.md, "Two binaries").
//!
//! Where the binary is, in this order:
//! 1. `TRACELAKE_DASHBOARDS`, a path, when set;
//! 2. beside the running `tracelake` (`cargo install` and a release archive put
//!    both in one directory, Cargo's target directory holds both).
//!
//! Run by `cargo run` from a clone (Cargo sets `CARGO` and
//! `CARGO_MANIFEST_DIR`), `tracelake` first has Cargo build `tracelake-dashboards`
//! into the same target directory and profile, which is quick when it is up to
//! date and compiles the query engine the first time, and runs the executable
//! Cargo names in its messages.

use std::ffi::OsString;
use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context as _, bail};

/// The binary's file name, without the platform's suffix.
pub const BINARY: &str = "tracelake-dashboards";

/// The variable that names the binary's path, overriding the search.
pub const PATH_VARIABLE: &str = "TRACELAKE_DASHBOARDS";

/// The arguments of `tracelake serve` and `tracelake query`, handed on
/// unread: `tracelake-dashboards` parses them (`tracelake query --help` is its
/// help).
#[derive(clap::Args)]
#[command(disable_help_flag = true)]
pub struct ForwardedArgs {
    /// The command's arguments: `tracelake query --help` and `tracelake serve --help` list them.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0..)]
    pub args: Vec<OsString>,
}

/// Runs `tracelake-dashboards <command> <args>` in place of this process (on
/// Unix; elsewhere as a child, exiting with its status).
///
/// # Errors
/// When the binary is not found (the message says how to get it), Cargo
/// could not build it, or it could not be started.
pub fn run(command: &str, args: &[OsString]) -> anyhow::Result<()> {
    let binary = locate()?;
    let mut child = Command::new(&binary);
    child.arg(command).args(args);
    // Its usage lines and errors then say `tracelake query`, what the user typed.
    #[cfg(unix)]
    std::os::unix::process::CommandExt::arg0(&mut child, "tracelake");
    start(child, &binary)
}

#[cfg(unix)]
fn start(mut child: Command, binary: &Path) -> anyhow::Result<()> {
    use std::io::Write as _;
    use std::os::unix::process::CommandExt as _;
    // What this process printed must come before what the next one prints.
    std::io::stdout().flush().ok();
    let error = child.exec();
    Err(error).with_context(|| format!("cannot run {}", binary.display()))
}

#[cfg(not(unix))]
fn start(mut child: Command, binary: &Path) -> anyhow::Result<()> {
    let status = child
        .status()
        .with_context(|| format!("cannot run {}", binary.display()))?;
    std::process::exit(status.code().unwrap_or(1))
}

/// The path of `tracelake-dashboards`, built first when run by `cargo run`.
///
/// # Errors
/// As [`run`].
pub fn locate() -> anyhow::Result<PathBuf> {
    if let Some(path) = std::env::var_os(PATH_VARIABLE).filter(|path| !path.is_empty()) {
        // Absolute, so that a bare file name is not looked up on PATH.
        let path = std::path::absolute(PathBuf::from(path))
            .with_context(|| format!("cannot resolve {PATH_VARIABLE}"))?;
        if !path.is_file() {
            bail!(
                "{PATH_VARIABLE} names {}, which is not a file",
                path.display()
            );
        }
        return Ok(path);
    }
    let current = std::env::current_exe().context("cannot find the running tracelake binary")?;
    let directory = current
        .parent()
        .context("the running tracelake binary has no directory")?;
    let binary = directory.join(format!("{BINARY}{}", std::env::consts::EXE_SUFFIX));
    if let Some(workspace) = cargo_workspace()
        && let Some(built) = build_with_cargo(&workspace, directory, &binary)?
    {
        return Ok(built);
    }
    if binary.is_file() {
        return Ok(binary);
    }
    // The install command is README.md's, word for word (a test checks it).
    bail!(
        "`tracelake serve` and `tracelake query` run {BINARY}, which is not beside tracelake ({}). \
         From a clone, `cargo run --release -- serve` (or `query`) builds it first; to install both, \
         from the clone: `cargo install --locked --path . --target-dir target && \
         cargo install --locked --path dashboards --target-dir target`; \
         or set {PATH_VARIABLE} to its path",
        binary.display()
    )
}

/// The workspace `tracelake` was run from by `cargo run`, if it was: Cargo
/// sets `CARGO` (its own path) and `CARGO_MANIFEST_DIR` (this package's
/// directory) in the environment of what it runs.
fn cargo_workspace() -> Option<(OsString, PathBuf)> {
    let cargo = std::env::var_os("CARGO")?;
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR")?);
    manifest_dir
        .join("dashboards")
        .join("Cargo.toml")
        .is_file()
        .then_some((cargo, manifest_dir))
}

/// Has Cargo build `tracelake-dashboards` with the profile of the running
/// binary (its directory's name: `release`, `debug` for the dev profile, or a
/// custom profile's name), into the running binary's target directory (the
/// directory above it, when Cargo's `CACHEDIR.TAG` marks it as one), and
/// returns the path Cargo reports for the executable (`None` if it reports
/// none).
fn build_with_cargo(
    (cargo, manifest_dir): &(OsString, PathBuf),
    directory: &Path,
    binary: &Path,
) -> anyhow::Result<Option<PathBuf>> {
    let profile = match directory.file_name().and_then(|name| name.to_str()) {
        Some("debug") | None => "dev",
        Some(name) => name,
    };
    if !binary.is_file() {
        eprintln!(
            "\ntracelake: building {BINARY}, the query engine behind `serve` and `query` \
             (once; about 15 minutes on 2 cores)"
        );
    }
    let mut build = Command::new(cargo);
    // What `cargo run` set for this package (CARGO_MANIFEST_DIR, CARGO_PKG_NAME,
    // …) is not the environment of a build: Cargo compares the variables a
    // build script watches (`rerun-if-env-changed`; ring watches
    // CARGO_PKG_NAME) with its own environment, so leaving them would rebuild
    // ring and everything above it here, and again at the next plain build.
    for (name, _) in std::env::vars_os() {
        if name.to_str().is_some_and(set_by_cargo_run) {
            build.env_remove(name);
        }
    }
    build
        .arg("build")
        .arg("--manifest-path")
        .arg(manifest_dir.join("Cargo.toml"))
        .args([
            "--profile",
            profile,
            "-p",
            "tracelake-dashboards",
            "--bin",
            BINARY,
            "--message-format",
            "json-render-diagnostics",
        ]);
    if let Some(target_dir) = directory
        .parent()
        .filter(|parent| parent.join("CACHEDIR.TAG").is_file())
    {
        build.arg("--target-dir").arg(target_dir);
    }
    let mut child = build
        .stdout(Stdio::piped())
        .spawn()
        .context("cannot run cargo to build tracelake-dashboards")?;
    // Cargo's messages (JSON lines on stdout; its progress and the compiler's
    // diagnostics stay on stderr) name the executable it built.
    let mut executable = None;
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines() {
            let line = line.context("cannot read cargo's messages")?;
            if let Ok(message) = serde_json::from_str::<serde_json::Value>(&line)
                && message["reason"] == "compiler-artifact"
                && message["target"]["name"] == BINARY
                && let Some(path) = message["executable"].as_str()
            {
                executable = Some(PathBuf::from(path));
            }
        }
    }
    let status = child
        .wait()
        .context("cannot run cargo to build tracelake-dashboards")?;
    if !status.success() {
        bail!("cargo could not build {BINARY} ({status})");
    }
    Ok(executable)
}

/// Whether `name` is one of the variables Cargo sets for the package it runs
/// (the Cargo book, "Environment variables Cargo sets for crates"), rather
/// than configuration of the user's (CARGO_HOME, CARGO_TARGET_DIR,
/// CARGO_PROFILE_*, …), which the build must keep.
fn set_by_cargo_run(name: &str) -> bool {
    const PREFIXES: [&str; 4] = [
        "CARGO_PKG_",
        "CARGO_MANIFEST_",
        "CARGO_CRATE_",
        "CARGO_BIN_",
    ];
    PREFIXES.iter().any(|prefix| name.starts_with(prefix))
        || matches!(name, "CARGO_PRIMARY_PACKAGE" | "OUT_DIR")
}

#[cfg(test)]
mod tests {
    use super::set_by_cargo_run;

    #[test]
    fn the_package_variables_go_and_the_users_configuration_stays() {
        for name in [
            "CARGO_MANIFEST_DIR",
            "CARGO_MANIFEST_PATH",
            "CARGO_PKG_NAME",
            "CARGO_PKG_VERSION_MAJOR",
            "CARGO_CRATE_NAME",
            "CARGO_BIN_NAME",
            "CARGO_PRIMARY_PACKAGE",
            "OUT_DIR",
        ] {
            assert!(set_by_cargo_run(name), "{name}");
        }
        for name in [
            "CARGO",
            "CARGO_HOME",
            "CARGO_TARGET_DIR",
            "CARGO_PROFILE_RELEASE_DEBUG",
            "CARGO_BUILD_JOBS",
            "CARGO_TERM_COLOR",
            "RUSTFLAGS",
            "PATH",
        ] {
            assert!(!set_by_cargo_run(name), "{name}");
        }
    }
}
