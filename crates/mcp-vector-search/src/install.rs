//! `install <client>`: the exact configuration that registers this server
//! with an MCP client, printed, or merged into the client's file with
//! `--write` (other servers in that file are kept).

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde_json::{Value, json};

/// The name the server is registered under.
const SERVER_NAME: &str = "mcp-vector-search";

/// MCP clients `install` knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Client {
    /// Claude Code: project file `.mcp.json`.
    ClaudeCode,
    /// Cursor: project file `.cursor/mcp.json`.
    Cursor,
    /// Claude Desktop: the user's `claude_desktop_config.json`.
    ClaudeDesktop,
    /// OpenAI Codex CLI: the user's `~/.codex/config.toml`.
    Codex,
}

/// Arguments of `install`.
#[derive(Debug, clap::Args)]
pub struct InstallArgs {
    /// The client to configure.
    #[arg(value_enum)]
    client: Client,
    /// Write the configuration file instead of printing it.
    #[arg(long)]
    write: bool,
    /// Project to serve (default: the current directory's project).
    #[arg(long)]
    pub project_root: Option<PathBuf>,
}

/// `install`.
pub fn install(args: InstallArgs, project_root: &Path) -> anyhow::Result<()> {
    let binary = std::env::current_exe().context("cannot locate this binary")?;
    let binary = binary.to_string_lossy().into_owned();
    let root = project_root.to_string_lossy().into_owned();
    let entry = json!({
        "type": "stdio",
        "command": binary,
        "args": ["mcp"],
        "env": { "MCP_PROJECT_ROOT": root },
    });
    let (file, entry, hint) = match args.client {
        Client::ClaudeCode => (
            project_root.join(".mcp.json"),
            entry,
            Some(format!(
                "claude mcp add {SERVER_NAME} -e MCP_PROJECT_ROOT={root} -- {binary} mcp"
            )),
        ),
        Client::Cursor => (project_root.join(".cursor").join("mcp.json"), entry, None),
        // Claude Desktop's file predates the `type` field.
        Client::ClaudeDesktop => (
            claude_desktop_config()?,
            json!({ "command": binary, "args": ["mcp"], "env": { "MCP_PROJECT_ROOT": root } }),
            None,
        ),
        Client::Codex => {
            let file = dirs::home_dir()
                .context("no home directory is known")?
                .join(".codex")
                .join("config.toml");
            let section = codex_section(&binary, &root);
            if args.write {
                append_toml_section(&file, &section)?;
                println!("wrote {SERVER_NAME} into {}", file.display());
            } else {
                println!("# in {}:\n{section}", file.display());
            }
            return Ok(());
        }
    };
    if args.write {
        merge_json(&file, entry)?;
        println!(
            "wrote {SERVER_NAME} into {} (restart the client to pick it up)",
            file.display()
        );
    } else {
        if let Some(command) = hint {
            println!("{command}");
        }
        println!("# in {} (or run with --write):", file.display());
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({ "mcpServers": { SERVER_NAME: entry } }))?
        );
    }
    Ok(())
}

/// Sets `mcpServers.<name>` in a JSON config file, keeping everything else;
/// a file that is not JSON is left alone with an error.
fn merge_json(file: &Path, entry: Value) -> anyhow::Result<()> {
    let mut config: Value = match std::fs::read_to_string(file) {
        Ok(text) if !text.trim().is_empty() => serde_json::from_str(&text).with_context(|| {
            format!(
                "{} is not valid JSON; fix or remove it, nothing was changed",
                file.display()
            )
        })?,
        Ok(_) => json!({}),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => json!({}),
        Err(err) => return Err(err).with_context(|| format!("cannot read {}", file.display())),
    };
    let servers = config
        .as_object_mut()
        .with_context(|| format!("{} does not hold a JSON object; nothing was changed", file.display()))?
        .entry("mcpServers")
        .or_insert_with(|| json!({}));
    servers
        .as_object_mut()
        .with_context(|| format!("mcpServers in {} is not an object; nothing was changed", file.display()))?
        .insert(SERVER_NAME.to_string(), entry);
    write_atomically(file, &(serde_json::to_string_pretty(&config)? + "\n"))
}

fn codex_section(binary: &str, root: &str) -> String {
    let quote = |s: &str| serde_json::to_string(s).expect("a string serialises");
    format!(
        "[mcp_servers.{SERVER_NAME}]\ncommand = {}\nargs = [\"mcp\"]\nenv = {{ MCP_PROJECT_ROOT = {} }}\n",
        quote(binary),
        quote(root)
    )
}

/// Appends a TOML section unless the file already has one of that name
/// (TOML has no merge that keeps the user's comments, so an existing
/// section is left for the user to edit).
fn append_toml_section(file: &Path, section: &str) -> anyhow::Result<()> {
    let existing = std::fs::read_to_string(file).unwrap_or_default();
    let header = section.lines().next().unwrap_or_default();
    anyhow::ensure!(
        !existing.lines().any(|line| line.trim() == header),
        "{} already has {header}; edit it there (the wanted values are printed by `install codex`)",
        file.display()
    );
    let separator = if existing.is_empty() || existing.ends_with("\n\n") {
        ""
    } else {
        "\n"
    };
    write_atomically(file, &format!("{existing}{separator}{section}"))
}

fn write_atomically(file: &Path, content: &str) -> anyhow::Result<()> {
    let dir = file.parent().context("a config file has a parent directory")?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let staged = tempfile::NamedTempFile::new_in(dir)?;
    std::fs::write(staged.path(), content)?;
    staged
        .persist(file)
        .with_context(|| format!("cannot write {}", file.display()))?;
    Ok(())
}

/// Claude Desktop's config file on this platform.
fn claude_desktop_config() -> anyhow::Result<PathBuf> {
    let base = if cfg!(target_os = "macos") {
        dirs::home_dir().map(|h| h.join("Library").join("Application Support"))
    } else {
        dirs::config_dir()
    };
    Ok(base
        .context("no config directory is known for this user")?
        .join("Claude")
        .join("claude_desktop_config.json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merging_keeps_other_servers_and_refuses_broken_files() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(".mcp.json");
        std::fs::write(&file, r#"{"mcpServers": {"other": {"command": "x"}}, "keep": 1}"#).unwrap();
        merge_json(&file, json!({"command": "/bin/mvs"})).unwrap();
        merge_json(&file, json!({"command": "/bin/mvs2"})).unwrap();
        let config: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        assert_eq!(config["mcpServers"]["other"]["command"], "x");
        assert_eq!(config["mcpServers"][SERVER_NAME]["command"], "/bin/mvs2");
        assert_eq!(config["keep"], 1);

        std::fs::write(&file, "{ not json").unwrap();
        let error = merge_json(&file, json!({})).unwrap_err().to_string();
        assert!(error.contains("not valid JSON"), "{error}");
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "{ not json");
    }

    #[test]
    fn codex_sections_are_appended_once() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config.toml");
        std::fs::write(&file, "model = \"o4\"\n").unwrap();
        let section = codex_section("/bin/mvs", "/repo \"x\"");
        append_toml_section(&file, &section).unwrap();
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            text.starts_with("model = \"o4\"\n\n[mcp_servers.mcp-vector-search]\n"),
            "{text}"
        );
        assert!(text.contains(r#"MCP_PROJECT_ROOT = "/repo \"x\"""#), "{text}");
        assert!(append_toml_section(&file, &section).is_err());
    }
}
