//! `install <client>`: the configuration that registers this server with an
//! MCP client, printed (with the client's own `mcp add` command where it has
//! one), or merged into the client's file with `--write`.
//!
//! Where a client starts the server decides what its entry holds. The server
//! finds its project from its working directory (see "Project root" in
//! docs/ARCHITECTURE.md), so no entry pins a root unless the client has no
//! working directory to give:
//! - project files (`.mcp.json`, `.cursor/mcp.json`, `.gemini/settings.json`)
//!   are shared with teammates: the command is the name on `PATH` when that
//!   is this binary, and no machine's path is pinned (Claude Code and Gemini
//!   CLI start servers in the project; Cursor gets `${workspaceFolder}`);
//! - Codex's `~/.codex/config.toml` serves every repository Codex runs in;
//! - Claude Desktop has no project and starts servers in no particular
//!   directory: one entry per project, named after it, with the root pinned
//!   and the binary's absolute path (a desktop app does not see the shell's
//!   `PATH`).
//!
//! Files are edited through parsers (serde_json keeping key order, toml_edit
//! keeping comments and layout), never by matching lines: an entry is
//! updated in place however it is spelled (`[mcp_servers."mcp-vector-search"]`),
//! unknown keys stay, a file that does not parse is refused untouched, and
//! the new text replaces the old atomically.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde_json::{Value, json};

/// The name the server is registered under (Claude Desktop adds the
/// project's directory name).
const SERVER_NAME: &str = "mcp-vector-search";

/// The variable that pins the project root.
const ROOT_VAR: &str = "MCP_PROJECT_ROOT";

/// MCP clients `install` knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Client {
    /// Claude Code: project file `.mcp.json` (or `claude mcp add`).
    ClaudeCode,
    /// Cursor: project file `.cursor/mcp.json`.
    Cursor,
    /// Gemini CLI: project file `.gemini/settings.json` (or `gemini mcp add`).
    Gemini,
    /// Claude Desktop: the user's `claude_desktop_config.json`, one entry per
    /// project.
    ClaudeDesktop,
    /// OpenAI Codex CLI: the user's `~/.codex/config.toml` (or `codex mcp
    /// add`), one entry for every repository.
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
    /// Name of the server entry (default mcp-vector-search; for Claude
    /// Desktop mcp-vector-search-<project directory name>).
    #[arg(long)]
    name: Option<String>,
    /// Project whose files are written (project-scoped clients) or which is
    /// served (Claude Desktop); default: the current directory's project.
    #[arg(long)]
    pub project_root: Option<PathBuf>,
}

/// How an entry sets `MCP_PROJECT_ROOT`.
#[derive(Debug)]
enum Root {
    /// Unset: the server serves the project of the directory the client
    /// starts it in. A pin left by an older `install` is removed.
    FromWorkingDirectory,
    /// A client variable the client expands (Cursor's `${workspaceFolder}`).
    ClientVariable(&'static str),
    /// This absolute path (clients without a working directory).
    Pinned(String),
}

/// The entry a client's file should hold for this server.
#[derive(Debug)]
struct Entry {
    /// The program the client starts: a name looked up on `PATH`, or an
    /// absolute path.
    command: String,
    /// Claude Code's `.mcp.json` spells the transport out (`"type": "stdio"`).
    stdio_type: bool,
    /// What `MCP_PROJECT_ROOT` becomes.
    root: Root,
}

/// What an edit did to an existing entry, for the message after `--write`.
#[derive(Debug)]
struct Edited {
    /// The file's new text.
    text: String,
    /// A pinned `MCP_PROJECT_ROOT` the edit removed.
    unpinned: Option<String>,
}

/// `install`: prints the configuration for `args.client`, or merges it into
/// the client's file. Errors: no home or config directory, a config file
/// that does not parse or has a non-table where the entry goes (left
/// untouched), a Claude Desktop entry of that name serving another project,
/// a file that cannot be written. `program_path` is `PATH`, split.
pub fn install(args: InstallArgs, project_root: &Path, program_path: &[PathBuf]) -> anyhow::Result<()> {
    let exe = std::env::current_exe().context("cannot locate this binary")?;
    let exe = exe.canonicalize().unwrap_or(exe);
    let program = locate_on_path(&exe, program_path);
    let root = project_root.to_string_lossy().into_owned();
    let name = args.name.clone().unwrap_or_else(|| match args.client {
        Client::ClaudeDesktop => desktop_name(project_root),
        _ => SERVER_NAME.to_string(),
    });
    let shared_command = |notes: &mut Vec<String>, file: &str| {
        if let Some(why) = &program.absolute_because {
            notes.push(format!(
                "{file} names this binary by its absolute path ({why}), which teammates' machines lack; \
                 put it on PATH (from a clone: cargo install --path crates/mcp-vector-search) and run this again"
            ));
        }
        program.command.clone()
    };
    let mut notes = Vec::new();
    let mut client_command = None;
    let (file, entry) = match args.client {
        Client::ClaudeCode => {
            let command = shared_command(&mut notes, ".mcp.json");
            client_command = Some(format!(
                "claude mcp add --scope user {} -- {} mcp",
                shell_quote(&name),
                shell_quote(&command)
            ));
            notes.push(format!(
                "Claude Code lists servers from .mcp.json as pending until each user approves them: run \
                 `claude` in the project and accept {name} (`claude mcp list` shows Connected afterwards)"
            ));
            let entry = Entry {
                command,
                stdio_type: true,
                root: Root::FromWorkingDirectory,
            };
            (project_root.join(".mcp.json"), entry)
        }
        Client::Cursor => {
            let command = shared_command(&mut notes, ".cursor/mcp.json");
            notes.push(format!(
                "Cursor expands ${{workspaceFolder}} to the open folder; check that {name} is enabled under \
                 Cursor Settings > MCP"
            ));
            let entry = Entry {
                command,
                stdio_type: false,
                root: Root::ClientVariable("${workspaceFolder}"),
            };
            (project_root.join(".cursor").join("mcp.json"), entry)
        }
        Client::Gemini => {
            let command = shared_command(&mut notes, ".gemini/settings.json");
            client_command = Some(format!(
                "gemini mcp add --scope user {} {} mcp",
                shell_quote(&name),
                shell_quote(&command)
            ));
            notes.push(
                "Gemini CLI starts servers in the folder it runs in and loads them only in trusted folders: \
                 trust this one when `gemini` asks (untrusted, `gemini mcp list` shows it Disabled)"
                    .to_string(),
            );
            let entry = Entry {
                command,
                stdio_type: false,
                root: Root::FromWorkingDirectory,
            };
            (project_root.join(".gemini").join("settings.json"), entry)
        }
        Client::ClaudeDesktop => {
            notes.push(format!(
                "Claude Desktop has no project of its own: {name} serves {root}; run this in another project \
                 to add it beside this one, then restart Claude Desktop"
            ));
            let entry = Entry {
                command: exe.to_string_lossy().into_owned(),
                stdio_type: false,
                root: Root::Pinned(root),
            };
            (claude_desktop_config()?, entry)
        }
        Client::Codex => {
            client_command = Some(format!(
                "codex mcp add {} -- {} mcp",
                shell_quote(&name),
                shell_quote(&program.command)
            ));
            notes.push(
                "Codex starts the server in the directory it runs in, and the server serves that project: \
                 one entry for every repository"
                    .to_string(),
            );
            let entry = Entry {
                command: program.command.clone(),
                stdio_type: false,
                root: Root::FromWorkingDirectory,
            };
            let home = dirs::home_dir().context("no home directory is known for this user")?;
            (home.join(".codex").join("config.toml"), entry)
        }
    };
    let (format, scope) = match args.client {
        Client::Codex => (Format::Toml, ""),
        Client::ClaudeDesktop => (Format::Json, ""),
        _ => (Format::Json, "for this project and its teammates, "),
    };
    if args.write {
        match merge_config(&file, format, &name, &entry)? {
            None => println!("{name} in {} is already up to date", file.display()),
            Some(edited) => {
                println!("wrote {name} into {}", file.display());
                if let Some(pin) = edited.unpinned {
                    println!("removed {ROOT_VAR}={pin}: the server now serves the project it is started in");
                }
            }
        }
    } else {
        match client_command {
            Some(command) => {
                println!("# For every project (the server serves the project the client runs in):\n{command}");
                println!("# Or {scope}in {} (or run with --write):", file.display());
            }
            None => println!("# In {} (or run with --write):", file.display()),
        }
        print!("{}", format.edit("", &name, &entry)?.text);
    }
    for note in notes {
        println!("note: {note}");
    }
    Ok(())
}

/// This binary as a config file names it.
#[derive(Debug, PartialEq, Eq)]
struct Program {
    /// The bare file name when the first match on `PATH` is this binary,
    /// else its absolute path.
    command: String,
    /// Why `command` is an absolute path.
    absolute_because: Option<String>,
}

/// How to name `exe` (canonical) so that a client finds it: its file name
/// when the first program of that name in `dirs` (as a client searching
/// `PATH` finds it) is `exe` itself, else `exe`'s absolute path and why.
fn locate_on_path(exe: &Path, dirs: &[PathBuf]) -> Program {
    let absolute = |why: String| Program {
        command: exe.to_string_lossy().into_owned(),
        absolute_because: Some(why),
    };
    let Some(name) = exe.file_name() else {
        return absolute("it has no file name".to_string());
    };
    match dirs
        .iter()
        .map(|dir| dir.join(name))
        .find(|candidate| is_program(candidate))
    {
        Some(found) if found.canonicalize().is_ok_and(|real| real == exe) => Program {
            command: name.to_string_lossy().into_owned(),
            absolute_because: None,
        },
        Some(found) => absolute(format!(
            "the {} on PATH is another binary, {}",
            name.to_string_lossy(),
            found.display()
        )),
        None => absolute(format!("{} is not on PATH", name.to_string_lossy())),
    }
}

/// Whether `path` is a file the system would run.
fn is_program(path: &Path) -> bool {
    let Ok(meta) = path.metadata() else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        meta.is_file() && meta.permissions().mode() & 0o111 != 0
    }
    #[cfg(not(unix))]
    {
        meta.is_file()
    }
}

/// Claude Desktop's entry name for a project: `mcp-vector-search-<dir>`,
/// with characters other than ASCII letters, digits, `-` and `_` as `-`.
fn desktop_name(project_root: &Path) -> String {
    let dir = project_root.file_name().map(OsStr::to_string_lossy).unwrap_or_default();
    let dir: String = dir
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    if dir.is_empty() {
        SERVER_NAME.to_string()
    } else {
        format!("{SERVER_NAME}-{dir}")
    }
}

/// One word for a POSIX shell: as is when it holds only characters no shell
/// treats specially, else single-quoted (a `'` inside becomes `'\''`).
fn shell_quote(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "@%+=:,./_-".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// A client config file's language.
#[derive(Debug, Clone, Copy)]
enum Format {
    /// `{"mcpServers": {"<name>": {...}}}`.
    Json,
    /// `[mcp_servers.<name>]` (Codex).
    Toml,
}

impl Format {
    /// `text` with the entry `name` set to `entry` ([`edit_json`], [`edit_toml`]).
    fn edit(self, text: &str, name: &str, entry: &Entry) -> anyhow::Result<Edited> {
        match self {
            Format::Json => edit_json(text, name, entry),
            Format::Toml => edit_toml(text, name, entry),
        }
    }
}

/// Merges `entry` into `file` (created when missing): the edit made, or
/// `None` when the file already holds it (it is not rewritten). A file that
/// cannot be edited is left as it was, with an error naming it.
fn merge_config(file: &Path, format: Format, name: &str, entry: &Entry) -> anyhow::Result<Option<Edited>> {
    let old = match std::fs::read_to_string(file) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(err) => return Err(err).with_context(|| format!("cannot read {}", file.display())),
    };
    let edited = format
        .edit(&old, name, entry)
        .with_context(|| format!("{} was left unchanged", file.display()))?;
    if edited.text == old {
        return Ok(None);
    }
    write_atomically(file, &edited.text)?;
    Ok(Some(edited))
}

/// `text` (a JSON config, possibly empty) with `mcpServers.<name>` set to
/// `entry`: the entry's other keys and every other key of the file kept in
/// their order, the indentation of the file's first indented line reused.
/// Errors: not JSON, not an object where one is needed, or an entry pinned
/// to another project where `entry` pins one.
fn edit_json(text: &str, name: &str, entry: &Entry) -> anyhow::Result<Edited> {
    let mut config: Value = if text.trim().is_empty() {
        json!({})
    } else {
        serde_json::from_str(text)
            .context("it is not valid JSON (comments are not supported here); fix it, or add the entry by hand")?
    };
    let servers = config
        .as_object_mut()
        .context("it does not hold a JSON object")?
        .entry("mcpServers")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .context("its mcpServers is not an object")?;
    let server = servers
        .entry(name)
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .with_context(|| format!("its mcpServers.{name} is not an object"))?;
    if entry.stdio_type {
        server.insert("type".into(), json!("stdio"));
    }
    server.insert("command".into(), json!(entry.command));
    server.insert("args".into(), json!(["mcp"]));
    let old_root = server
        .get("env")
        .and_then(|env| env.get(ROOT_VAR))
        .and_then(Value::as_str);
    let unpinned = check_root(name, &entry.root, old_root)?;
    match root_value(&entry.root) {
        Some(root) => {
            server
                .entry("env")
                .or_insert_with(|| json!({}))
                .as_object_mut()
                .with_context(|| format!("its mcpServers.{name}.env is not an object"))?
                .insert(ROOT_VAR.into(), json!(root));
        }
        None => {
            if let Some(env) = server.get_mut("env").and_then(Value::as_object_mut) {
                env.shift_remove(ROOT_VAR);
                if env.is_empty() {
                    server.shift_remove("env");
                }
            }
        }
    }
    let mut out = Vec::new();
    let indent = json_indent(text);
    let formatter = serde_json::ser::PrettyFormatter::with_indent(indent.as_bytes());
    serde::Serialize::serialize(
        &config,
        &mut serde_json::Serializer::with_formatter(&mut out, formatter),
    )?;
    let mut text = String::from_utf8(out).expect("serde_json writes UTF-8");
    text.push('\n');
    Ok(Edited { text, unpinned })
}

/// The leading whitespace of the first indented line of `text`, else two
/// spaces.
fn json_indent(text: &str) -> &str {
    text.lines()
        .find_map(|line| {
            let body = line.trim_start();
            (!body.is_empty() && body.len() < line.len()).then(|| &line[..line.len() - body.len()])
        })
        .unwrap_or("  ")
}

/// The value `MCP_PROJECT_ROOT` should have.
fn root_value(root: &Root) -> Option<&str> {
    match root {
        Root::FromWorkingDirectory => None,
        Root::ClientVariable(variable) => Some(variable),
        Root::Pinned(path) => Some(path),
    }
}

/// The pin an edit removes, or an error when `entry` pins a root and the
/// existing entry `name` serves another project (that project would lose
/// its server without a word).
fn check_root(name: &str, root: &Root, old: Option<&str>) -> anyhow::Result<Option<String>> {
    match (root, old) {
        (Root::Pinned(new), Some(old)) if new != old => anyhow::bail!(
            "its entry {name} serves another project, {old}; pass --name to register this one beside it, \
             or remove that entry"
        ),
        (Root::FromWorkingDirectory, Some(old)) => Ok(Some(old.to_string())),
        (Root::ClientVariable(variable), Some(old)) if old != *variable => Ok(Some(old.to_string())),
        _ => Ok(None),
    }
}

/// `text` (Codex's TOML config, possibly empty) with `mcp_servers.<name>`
/// set to `entry`, whatever the existing entry's spelling (quoted key,
/// dotted keys, inline table): comments, layout, the entry's other keys and
/// the rest of the file kept; values already right are not rewritten.
/// Errors: not TOML, or not a table where one is needed.
fn edit_toml(text: &str, name: &str, entry: &Entry) -> anyhow::Result<Edited> {
    use toml_edit::{Array, DocumentMut, InlineTable, Item, Table, Value as Toml};

    let mut doc: DocumentMut = text
        .parse()
        .context("it is not valid TOML; fix it (Codex refuses it too), or add the entry by hand")?;
    let servers = doc.entry("mcp_servers").or_insert_with(|| {
        let mut table = Table::new();
        table.set_implicit(true);
        Item::Table(table)
    });
    // A new entry inside `mcp_servers = { ... }` must be inline too.
    let inline = servers.is_inline_table();
    let servers = servers.as_table_like_mut().context("its mcp_servers is not a table")?;
    let server = servers
        .entry(name)
        .or_insert_with(|| {
            if inline {
                Item::Value(Toml::InlineTable(InlineTable::new()))
            } else {
                Item::Table(Table::new())
            }
        })
        .as_table_like_mut()
        .with_context(|| format!("its mcp_servers.{name} is not a table"))?;
    set_toml(server, "command", Toml::from(entry.command.as_str()));
    set_toml(server, "args", Toml::Array(Array::from_iter(["mcp"])));
    let old_root = server
        .get("env")
        .and_then(|env| env.as_table_like())
        .and_then(|env| env.get(ROOT_VAR))
        .and_then(Item::as_str);
    let unpinned = check_root(name, &entry.root, old_root)?;
    match root_value(&entry.root) {
        Some(root) => {
            let env = server
                .entry("env")
                .or_insert_with(|| Item::Value(Toml::InlineTable(InlineTable::new())))
                .as_table_like_mut()
                .with_context(|| format!("its mcp_servers.{name}.env is not a table"))?;
            set_toml(env, ROOT_VAR, Toml::from(root));
        }
        None => {
            if let Some(env) = server.get_mut("env").and_then(Item::as_table_like_mut) {
                env.remove(ROOT_VAR);
                if env.is_empty() {
                    server.remove("env");
                }
            }
        }
    }
    Ok(Edited {
        text: doc.to_string(),
        unpinned,
    })
}

/// Sets `key` to `value` unless it already holds that value; a replaced
/// value keeps its surrounding whitespace and comments.
fn set_toml(table: &mut dyn toml_edit::TableLike, key: &str, value: toml_edit::Value) {
    let same = |old: &toml_edit::Value| match (old, &value) {
        (toml_edit::Value::String(a), toml_edit::Value::String(b)) => a.value() == b.value(),
        (toml_edit::Value::Array(a), toml_edit::Value::Array(b)) => a
            .iter()
            .map(toml_edit::Value::as_str)
            .eq(b.iter().map(toml_edit::Value::as_str)),
        _ => false,
    };
    match table.get_mut(key).and_then(toml_edit::Item::as_value_mut) {
        Some(old) if same(old) => {}
        Some(old) => {
            let decor = old.decor().clone();
            *old = value;
            *old.decor_mut() = decor;
        }
        None => {
            table.insert(key, toml_edit::Item::Value(value));
        }
    }
}

/// Replaces `file` with `content` in one rename (a crash leaves the old
/// file or the new one, never half of each), creating its directory. A
/// symlinked file (dotfiles kept elsewhere) has its target replaced and
/// stays a link.
fn write_atomically(file: &Path, content: &str) -> anyhow::Result<()> {
    let target = std::fs::canonicalize(file);
    let file = target.as_deref().unwrap_or(file);
    let dir = file.parent().context("a config file has a parent directory")?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let staged = tempfile::NamedTempFile::new_in(dir).with_context(|| format!("cannot write in {}", dir.display()))?;
    std::fs::write(staged.path(), content).with_context(|| format!("cannot write in {}", dir.display()))?;
    // Keep the file's permissions (a config may hold tokens).
    if let Ok(meta) = std::fs::metadata(file) {
        std::fs::set_permissions(staged.path(), meta.permissions())
            .with_context(|| format!("cannot write in {}", dir.display()))?;
    }
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

    fn entry(command: &str, root: Root) -> Entry {
        Entry {
            command: command.to_string(),
            stdio_type: false,
            root,
        }
    }

    /// Edits `text` twice: the second edit must change nothing.
    fn edit_twice(format: Format, text: &str, name: &str, entry: &Entry) -> Edited {
        let edited = format.edit(text, name, entry).unwrap();
        let again = format.edit(&edited.text, name, entry).unwrap();
        assert_eq!(again.text, edited.text, "a second edit changed the file");
        assert_eq!(again.unpinned, None);
        edited
    }

    #[test]
    fn codex_quoted_table_is_updated_in_place_keeping_comments_and_keys() {
        // The issue's example: the file spells the name quoted; appending
        // `[mcp_servers.mcp-vector-search]` made Codex fail with "duplicate key".
        let text = "# my settings\nmodel = \"o4\" # fast\n\n\
                    # search server\n[mcp_servers.\"mcp-vector-search\"]\n\
                    command = \"/old/target/release/mcp-vector-search\" # built here\n\
                    args = [\"mcp\"]\nstartup_timeout_sec = 20\n\
                    env = { MCP_PROJECT_ROOT = \"/first/repo\", MCP_VECTOR_SEARCH_DEVICE = \"cpu\" }\n\n\
                    [mcp_servers.other]\ncommand = \"x\"\n";
        let edited = edit_twice(
            Format::Toml,
            text,
            SERVER_NAME,
            &entry("mcp-vector-search", Root::FromWorkingDirectory),
        );
        assert_eq!(
            edited.text,
            "# my settings\nmodel = \"o4\" # fast\n\n\
             # search server\n[mcp_servers.\"mcp-vector-search\"]\n\
             command = \"mcp-vector-search\" # built here\n\
             args = [\"mcp\"]\nstartup_timeout_sec = 20\n\
             env = { MCP_VECTOR_SEARCH_DEVICE = \"cpu\" }\n\n\
             [mcp_servers.other]\ncommand = \"x\"\n"
        );
        assert_eq!(edited.unpinned.as_deref(), Some("/first/repo"));
    }

    #[test]
    fn codex_entries_are_added_beside_others_in_every_toml_spelling() {
        let ours = entry("mcp-vector-search", Root::FromWorkingDirectory);
        // Empty file: what `install codex` prints.
        assert_eq!(
            edit_twice(Format::Toml, "", SERVER_NAME, &ours).text,
            "[mcp_servers.mcp-vector-search]\ncommand = \"mcp-vector-search\"\nargs = [\"mcp\"]\n"
        );
        // Other tables and servers stay; the entry joins its siblings.
        let text = "model = \"o4\"\n\n[mcp_servers.other]\ncommand = \"x\"\n\n[profiles.fast]\nmodel = \"mini\"\n";
        assert_eq!(
            edit_twice(Format::Toml, text, SERVER_NAME, &ours).text,
            "model = \"o4\"\n\n[mcp_servers.other]\ncommand = \"x\"\n\n\
             [mcp_servers.mcp-vector-search]\ncommand = \"mcp-vector-search\"\nargs = [\"mcp\"]\n\n\
             [profiles.fast]\nmodel = \"mini\"\n"
        );
        // Inline tables and dotted keys are edited in their own spelling.
        for text in [
            "mcp_servers = { other = { command = \"x\" } }\n",
            "mcp_servers = { mcp-vector-search = { command = \"old\", args = [] } }\n",
            "mcp_servers.mcp-vector-search.command = \"old\"\n",
            "[mcp_servers]\n\"mcp-vector-search\".command = \"old\"\n",
        ] {
            let edited = edit_twice(Format::Toml, text, SERVER_NAME, &ours).text;
            let doc: toml_edit::DocumentMut = edited.parse().unwrap_or_else(|err| panic!("{err}\n{edited}"));
            let server = &doc["mcp_servers"][SERVER_NAME];
            assert_eq!(server["command"].as_str(), Some("mcp-vector-search"), "{edited}");
            assert_eq!(server["args"][0].as_str(), Some("mcp"), "{edited}");
            let others = usize::from(text.contains("other"));
            assert_eq!(
                doc["mcp_servers"].as_table_like().unwrap().len(),
                1 + others,
                "{edited}"
            );
        }
    }

    #[test]
    fn json_entries_keep_order_unknown_keys_and_indentation() {
        // An entry written by the old `install`: absolute target/release
        // path and a pinned root; the user added a variable and a key.
        let text = r#"{
    "keep": 1,
    "mcpServers": {
        "mcp-vector-search": {
            "type": "stdio",
            "command": "/home/a/repo/target/release/mcp-vector-search",
            "args": ["mcp"],
            "env": { "MCP_PROJECT_ROOT": "/home/a/repo", "MCP_VECTOR_SEARCH_DEVICE": "cpu" },
            "timeout": 5
        },
        "other": { "command": "x" }
    },
    "z": true
}"#;
        let ours = Entry {
            stdio_type: true,
            ..entry("mcp-vector-search", Root::FromWorkingDirectory)
        };
        let edited = edit_twice(Format::Json, text, SERVER_NAME, &ours);
        assert_eq!(
            edited.text,
            r#"{
    "keep": 1,
    "mcpServers": {
        "mcp-vector-search": {
            "type": "stdio",
            "command": "mcp-vector-search",
            "args": [
                "mcp"
            ],
            "env": {
                "MCP_VECTOR_SEARCH_DEVICE": "cpu"
            },
            "timeout": 5
        },
        "other": {
            "command": "x"
        }
    },
    "z": true
}
"#
        );
        assert_eq!(edited.unpinned.as_deref(), Some("/home/a/repo"));
        // A new file: two-space indentation, no env.
        assert_eq!(
            edit_twice(Format::Json, "", SERVER_NAME, &ours).text,
            "{\n  \"mcpServers\": {\n    \"mcp-vector-search\": {\n      \"type\": \"stdio\",\n      \
             \"command\": \"mcp-vector-search\",\n      \"args\": [\n        \"mcp\"\n      ]\n    }\n  }\n}\n"
        );
    }

    #[test]
    fn cursor_entries_use_the_workspace_folder_variable() {
        let text = r#"{"mcpServers": {"mcp-vector-search": {
            "command": "/abs/mcp-vector-search", "env": {"MCP_PROJECT_ROOT": "/abs/repo"}}}}"#;
        let ours = entry("mcp-vector-search", Root::ClientVariable("${workspaceFolder}"));
        let edited = edit_twice(Format::Json, text, SERVER_NAME, &ours);
        let config: Value = serde_json::from_str(&edited.text).unwrap();
        assert_eq!(config["mcpServers"][SERVER_NAME]["env"][ROOT_VAR], "${workspaceFolder}");
        assert_eq!(edited.unpinned.as_deref(), Some("/abs/repo"));
    }

    #[test]
    fn claude_desktop_entries_are_per_project_and_never_taken_over() {
        assert_eq!(
            desktop_name(Path::new("/home/a/my repo.v2")),
            "mcp-vector-search-my-repo-v2"
        );
        assert_eq!(desktop_name(Path::new("/")), "mcp-vector-search");
        let first = entry("/bin/mcp-vector-search", Root::Pinned("/home/a/app".into()));
        let text = edit_twice(Format::Json, "", "mcp-vector-search-app", &first).text;
        let config: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            config["mcpServers"]["mcp-vector-search-app"]["env"][ROOT_VAR],
            "/home/a/app"
        );
        // Another project of the same directory name must not take it over.
        let second = entry("/bin/mcp-vector-search", Root::Pinned("/work/app".into()));
        let error = format!(
            "{:#}",
            Format::Json.edit(&text, "mcp-vector-search-app", &second).unwrap_err()
        );
        assert!(
            error.contains("serves another project, /home/a/app") && error.contains("--name"),
            "{error}"
        );
        let beside = edit_twice(Format::Json, &text, "mcp-vector-search-app-2", &second).text;
        let config: Value = serde_json::from_str(&beside).unwrap();
        assert_eq!(config["mcpServers"].as_object().unwrap().len(), 2);
    }

    #[test]
    fn broken_or_unexpected_files_are_refused_and_left_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let ours = entry("mcp-vector-search", Root::FromWorkingDirectory);
        let cases = [
            (Format::Json, "{ not json", "not valid JSON"),
            (
                Format::Json,
                "{\n  // a comment\n  \"mcpServers\": {}\n}",
                "not valid JSON",
            ),
            (Format::Json, "[1, 2]", "does not hold a JSON object"),
            (Format::Json, r#"{"mcpServers": []}"#, "mcpServers is not an object"),
            (
                Format::Json,
                r#"{"mcpServers": {"mcp-vector-search": "x"}}"#,
                "is not an object",
            ),
            (Format::Toml, "model = \n", "not valid TOML"),
            // What the old `install` left behind: Codex refuses it too.
            (
                Format::Toml,
                "[mcp_servers.\"mcp-vector-search\"]\ncommand = \"a\"\n\n\
                 [mcp_servers.mcp-vector-search]\ncommand = \"b\"\n",
                "not valid TOML",
            ),
            (Format::Toml, "mcp_servers = 3\n", "mcp_servers is not a table"),
            (
                Format::Toml,
                "[mcp_servers]\nmcp-vector-search = \"x\"\n",
                "is not a table",
            ),
        ];
        for (format, text, expected) in cases {
            let file = dir.path().join("config");
            std::fs::write(&file, text).unwrap();
            let error = format!("{:#}", merge_config(&file, format, SERVER_NAME, &ours).unwrap_err());
            assert!(
                error.contains("left unchanged") && error.contains(expected),
                "{text}: {error}"
            );
            assert_eq!(std::fs::read_to_string(&file).unwrap(), text);
        }
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["config"], "no staged file is left behind");
    }

    #[test]
    fn merging_creates_the_file_and_skips_writes_that_change_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(".gemini").join("settings.json");
        let ours = entry("mcp-vector-search", Root::FromWorkingDirectory);
        assert!(merge_config(&file, Format::Json, SERVER_NAME, &ours).unwrap().is_some());
        let written = std::fs::metadata(&file).unwrap().modified().unwrap();
        assert!(merge_config(&file, Format::Json, SERVER_NAME, &ours).unwrap().is_none());
        assert_eq!(std::fs::metadata(&file).unwrap().modified().unwrap(), written);
        #[cfg(unix)]
        {
            let link = dir.path().join("config.toml");
            let target = dir.path().join("dotfiles").join("codex.toml");
            std::fs::create_dir_all(target.parent().unwrap()).unwrap();
            std::fs::write(&target, "model = \"o4\"\n").unwrap();
            std::os::unix::fs::symlink(&target, &link).unwrap();
            assert!(merge_config(&link, Format::Toml, SERVER_NAME, &ours).unwrap().is_some());
            assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
            assert!(
                std::fs::read_to_string(&target)
                    .unwrap()
                    .contains("[mcp_servers.mcp-vector-search]")
            );
        }
    }

    #[test]
    fn shell_quoting_survives_a_real_shell() {
        assert_eq!(shell_quote("mcp-vector-search"), "mcp-vector-search");
        assert_eq!(
            shell_quote("/usr/local/bin/mcp-vector-search"),
            "/usr/local/bin/mcp-vector-search"
        );
        assert_eq!(shell_quote("/home/a/my project/mvs"), "'/home/a/my project/mvs'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
        for word in [
            "/home/a/my project/target/release/mcp-vector-search",
            "/tmp/it's \"quoted\"/mvs",
            "$HOME `id` $(id) ; & | * ? ~ # ! \\ \t\n",
            "",
        ] {
            let out = std::process::Command::new("sh")
                .arg("-c")
                .arg(format!("printf '%s' {}", shell_quote(word)))
                .output()
                .unwrap();
            assert_eq!(String::from_utf8(out.stdout).unwrap(), word);
        }
    }

    #[cfg(unix)]
    #[test]
    fn the_command_is_the_name_on_path_only_when_that_is_this_binary() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let dir = dir.path().canonicalize().unwrap();
        let program = |sub: &str| {
            let path = dir.join(sub).join("mvs");
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, "#!/bin/sh\n").unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
            path
        };
        let exe = program("target/release");
        let other = program("other");
        let linked = dir.join("bin");
        std::fs::create_dir_all(&linked).unwrap();
        std::os::unix::fs::symlink(&exe, linked.join("mvs")).unwrap();
        let not_executable = dir.join("plain");
        std::fs::create_dir_all(&not_executable).unwrap();
        std::fs::write(not_executable.join("mvs"), "").unwrap();

        let on_path = locate_on_path(
            &exe,
            &[not_executable.clone(), linked.clone(), other.parent().unwrap().into()],
        );
        assert_eq!(
            on_path,
            Program {
                command: "mvs".into(),
                absolute_because: None
            }
        );
        let shadowed = locate_on_path(&exe, &[other.parent().unwrap().into(), linked]);
        assert_eq!(shadowed.command, exe.to_string_lossy());
        assert!(shadowed.absolute_because.unwrap().contains("another binary"));
        let missing = locate_on_path(&exe, &[not_executable]);
        assert_eq!(missing.command, exe.to_string_lossy());
        assert!(missing.absolute_because.unwrap().contains("not on PATH"));
    }
}
