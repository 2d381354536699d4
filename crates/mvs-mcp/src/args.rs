//! The tools' arguments: their JSON schemas (from the doc comments, with
//! real bounds, defaults and enums), and one way of reading them: every bad
//! argument is a JSON-RPC -32602 error naming the field, what it takes and
//! the value received. Numbers, booleans and lists are also accepted as
//! text, as some clients send them.

use mvs_index::{LIMIT, SEARCH_MODES, WholeNumber};
use rmcp::ErrorData;
use rmcp::handler::server::common::FromContextPart;
use rmcp::handler::server::tool::ToolCallContext;
use rmcp::model::JsonObject;
use schemars::{JsonSchema, Schema};
use serde::Deserialize;
use serde::de::{DeserializeOwned, DeserializeSeed, IntoDeserializer, MapAccess};
use serde_json::Value;

use crate::error::invalid_params;
use crate::render::{DEFAULT_MAX_TOKENS, ECHO_BYTES, MAX_TOKENS_CAP, clip};

/// The `max_tokens` of every tool.
pub const MAX_TOKENS: WholeNumber = WholeNumber {
    field: "max_tokens",
    min: 100,
    max: MAX_TOKENS_CAP,
    default: DEFAULT_MAX_TOKENS,
};
/// Most `focus_areas` of one `search_context` call: each is a search.
pub const MAX_FOCUS_AREAS: usize = 10;
/// `get_chunk`'s `context_lines`.
pub const CONTEXT_LINES: WholeNumber = WholeNumber {
    field: "context_lines",
    min: 0,
    max: 200,
    default: 0,
};
/// What `detail` takes (`signature` and `snippet` are accepted too).
pub const DETAILS: [&str; 3] = ["signatures", "snippets", "full"];

/// Arguments of `search_code`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct SearchCodeArgs {
    /// What to find: a description of behaviour or an identifier.
    #[serde(deserialize_with = "lenient::string")]
    #[schemars(length(min = 1))]
    pub query: String,
    /// Maximum results.
    #[serde(default, deserialize_with = "lenient::limit")]
    #[schemars(range(min = LIMIT.min, max = LIMIT.max), extend("default" = LIMIT.default))]
    pub limit: Option<usize>,
    /// `hybrid` (both lanes), `vector` (by meaning) or `keyword` (BM25);
    /// `semantic` and `bm25` are accepted too, in any case.
    #[serde(default, deserialize_with = "lenient::text")]
    #[schemars(extend("enum" = SEARCH_MODES, "default" = "hybrid"))]
    pub search_mode: Option<String>,
    /// Only these languages; any case, and extensions or aliases (`py`,
    /// `ts`, `golang`, `c++`) too.
    #[serde(default, deserialize_with = "lenient::list")]
    #[schemars(transform = language_items)]
    pub language: Option<Vec<String>>,
    /// Only files with these extensions (`.rs`, `py`).
    #[serde(default, deserialize_with = "lenient::list")]
    pub file_extensions: Option<Vec<String>>,
    /// Only paths matching these globs, relative to the project root
    /// (`src/**/*.rs`, `*.py`); a directory means everything under it
    /// (`src/api`), and an absolute path under the root is made relative.
    #[serde(default, deserialize_with = "lenient::list")]
    pub files: Option<Vec<String>>,
    /// Leave out paths matching these globs (directories as for `files`).
    #[serde(default, deserialize_with = "lenient::list")]
    pub exclude: Option<Vec<String>>,
    /// Only these chunk kinds; any case, plurals too.
    #[serde(default, deserialize_with = "lenient::list")]
    #[schemars(transform = kind_items)]
    pub kind: Option<Vec<String>>,
    /// Only the definition with this name (or qualified name).
    #[serde(default, deserialize_with = "lenient::text")]
    pub function_name: Option<String>,
    /// Only this class/type and what it contains.
    #[serde(default, deserialize_with = "lenient::text")]
    pub class_name: Option<String>,
    /// Only test code: test files and inline test modules (`mod tests`).
    #[serde(default, deserialize_with = "lenient::boolean")]
    #[schemars(extend("default" = false))]
    pub tests_only: Option<bool>,
    /// Leave out test code: test files and inline test modules.
    #[serde(default, deserialize_with = "lenient::boolean")]
    #[schemars(extend("default" = false))]
    pub exclude_tests: Option<bool>,
    /// Per result: `signatures` (no code), `snippets` (first 20 lines) or
    /// `full`.
    #[serde(default, deserialize_with = "lenient::text")]
    #[schemars(extend("enum" = DETAILS, "default" = "snippets"))]
    pub detail: Option<String>,
    /// Budget of the whole answer in tokens; results beyond it are left
    /// out and counted.
    #[serde(default, deserialize_with = "lenient::max_tokens")]
    #[schemars(range(min = MAX_TOKENS.min, max = MAX_TOKENS.max), extend("default" = MAX_TOKENS.default))]
    pub max_tokens: Option<usize>,
    /// Drop results scoring below this (scores mean the same in every
    /// mode).
    #[serde(default, deserialize_with = "lenient::float")]
    #[schemars(range(min = 0, max = 1), extend("default" = 0))]
    pub similarity_threshold: Option<f32>,
}

/// Arguments of `index_project`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct IndexProjectArgs {
    /// Re-index every file, ignoring change detection.
    #[serde(default, deserialize_with = "lenient::boolean")]
    #[schemars(extend("default" = false))]
    pub force: Option<bool>,
    /// Only these files or directories (relative to the project root);
    /// deleted ones are dropped from the index.
    #[serde(default, deserialize_with = "lenient::list")]
    pub paths: Option<Vec<String>>,
    /// Report what a run would do (files and chunks per language, skips,
    /// largest directories, estimated seconds) without indexing.
    #[serde(default, deserialize_with = "lenient::boolean")]
    #[schemars(extend("default" = false))]
    pub dry_run: Option<bool>,
    /// Answer when the job ends instead of at once (cancelling the request
    /// cancels the job).
    #[serde(default, deserialize_with = "lenient::boolean")]
    #[schemars(extend("default" = false))]
    pub wait: Option<bool>,
    /// Stop the running job (files done so far stay indexed).
    #[serde(default, deserialize_with = "lenient::boolean")]
    #[schemars(extend("default" = false))]
    pub cancel: Option<bool>,
}

/// Arguments of `search_context`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct SearchContextArgs {
    /// The task or feature to gather code for, in words.
    #[serde(deserialize_with = "lenient::string")]
    #[schemars(length(min = 1))]
    pub description: String,
    /// Aspects to cover too (`error handling`, `tests`, `config`): each
    /// adds its own search, so every aspect is represented.
    #[serde(default, deserialize_with = "lenient::list")]
    #[schemars(length(max = MAX_FOCUS_AREAS))]
    pub focus_areas: Option<Vec<String>>,
    /// Maximum results.
    #[serde(default, deserialize_with = "lenient::limit")]
    #[schemars(range(min = LIMIT.min, max = LIMIT.max), extend("default" = LIMIT.default))]
    pub limit: Option<usize>,
    /// Per result: `signatures`, `snippets` or `full`.
    #[serde(default, deserialize_with = "lenient::text")]
    #[schemars(extend("enum" = DETAILS, "default" = "snippets"))]
    pub detail: Option<String>,
    /// Budget of the answer in tokens.
    #[serde(default, deserialize_with = "lenient::max_tokens")]
    #[schemars(range(min = MAX_TOKENS.min, max = MAX_TOKENS.max), extend("default" = MAX_TOKENS.default))]
    pub max_tokens: Option<usize>,
}

/// Arguments of `search_similar`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct SearchSimilarArgs {
    /// The file whose code to match (relative to the project root).
    #[serde(default, deserialize_with = "lenient::text")]
    pub file_path: Option<String>,
    /// Only this definition of the file (name or qualified name).
    #[serde(default, deserialize_with = "lenient::text")]
    pub function_name: Option<String>,
    /// A chunk id from a search result (instead of `file_path`).
    #[serde(default, deserialize_with = "lenient::text")]
    pub chunk_id: Option<String>,
    /// Maximum results.
    #[serde(default, deserialize_with = "lenient::limit")]
    #[schemars(range(min = LIMIT.min, max = LIMIT.max), extend("default" = LIMIT.default))]
    pub limit: Option<usize>,
    /// Only these languages (as for `search_code`).
    #[serde(default, deserialize_with = "lenient::list")]
    #[schemars(transform = language_items)]
    pub language: Option<Vec<String>>,
    /// Per result: `signatures`, `snippets` or `full`.
    #[serde(default, deserialize_with = "lenient::text")]
    #[schemars(extend("enum" = DETAILS, "default" = "snippets"))]
    pub detail: Option<String>,
    /// Budget of the answer in tokens.
    #[serde(default, deserialize_with = "lenient::max_tokens")]
    #[schemars(range(min = MAX_TOKENS.min, max = MAX_TOKENS.max), extend("default" = MAX_TOKENS.default))]
    pub max_tokens: Option<usize>,
}

/// Arguments of `get_chunk`: a `chunk_id`, or a `file_path` and lines.
#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct GetChunkArgs {
    /// A chunk id from a search result.
    pub chunk_id: Option<String>,
    /// A file, relative to the project root (instead of `chunk_id`).
    pub file_path: Option<String>,
    /// First line (1-based) with `file_path`; default 1.
    #[serde(default, deserialize_with = "lenient::number")]
    pub start_line: Option<usize>,
    /// Last line (inclusive) with `file_path`; default `start_line` + 99.
    #[serde(default, deserialize_with = "lenient::number")]
    pub end_line: Option<usize>,
    /// Lines of surrounding code to add before and after.
    #[serde(default, deserialize_with = "lenient::context_lines")]
    #[schemars(range(min = CONTEXT_LINES.min, max = CONTEXT_LINES.max), extend("default" = CONTEXT_LINES.default))]
    pub context_lines: Option<usize>,
    /// Budget of the answer in tokens; lines beyond it are left out and the
    /// answer names the next `start_line`.
    #[serde(default, deserialize_with = "lenient::max_tokens")]
    #[schemars(range(min = MAX_TOKENS.min, max = MAX_TOKENS.max), extend("default" = MAX_TOKENS.default))]
    pub max_tokens: Option<usize>,
}

/// Arguments of `get_project_status` (none).
#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct StatusArgs {}

/// A tool's arguments, read so that a bad one is answered with JSON-RPC
/// -32602 naming it (rmcp's own extractor passes on serde's message, which
/// names no field), and an argument the tool does not take is refused with
/// the list of those it does. Named like rmcp's extractor on purpose:
/// `#[tool]` takes a tool's input schema from its parameter of a type
/// called `Parameters`, so the schema and this reader cover the same `T`.
pub struct Parameters<T>(pub T);

impl<T: JsonSchema> JsonSchema for Parameters<T> {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        T::schema_name()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> Schema {
        T::json_schema(generator)
    }
}

impl<S, T: DeserializeOwned + JsonSchema + 'static> FromContextPart<ToolCallContext<'_, S>> for Parameters<T> {
    fn from_context_part(context: &mut ToolCallContext<S>) -> Result<Self, ErrorData> {
        let arguments = context.arguments.take().unwrap_or_default();
        read::<T>(context.name(), arguments).map(Parameters)
    }
}

/// `arguments` as `T`, or the -32602 error for the first bad one.
fn read<T: DeserializeOwned + JsonSchema + 'static>(tool: &str, arguments: JsonObject) -> Result<T, ErrorData> {
    let schema = rmcp::handler::server::tool::schema_for_type::<T>();
    let known: Vec<&str> = schema
        .get("properties")
        .and_then(Value::as_object)
        .map(|properties| properties.keys().map(String::as_str).collect())
        .unwrap_or_default();
    if let Some(unknown) = arguments.keys().find(|key| !known.contains(&key.as_str())) {
        let takes = match known.is_empty() {
            true => "no arguments".to_string(),
            false => format!("only {}", known.join(", ")),
        };
        return Err(invalid_params(
            unknown,
            format!(
                "{}: {tool} has no such argument; it takes {takes}",
                clip(unknown, ECHO_BYTES)
            ),
        ));
    }
    let fields = Fields {
        entries: arguments.into_iter(),
        current: None,
    };
    T::deserialize(serde::de::value::MapAccessDeserializer::new(fields)).map_err(|err| {
        invalid_params(
            &err.field,
            format!("{}: {}", err.field, clip(&err.message, 2 * ECHO_BYTES)),
        )
    })
}

/// The answer to a request rmcp could not parse: a `tools/call` whose
/// params are not an object with a string `name` and an object of
/// `arguments` is -32602 naming the part at fault; any other method is one
/// this server does not have (-32601).
pub(crate) fn unparsed_request(request: &rmcp::model::CustomRequest) -> ErrorData {
    if request.method != "tools/call" {
        return ErrorData::new(rmcp::model::ErrorCode::METHOD_NOT_FOUND, request.method.clone(), None);
    }
    let params = request.params.as_ref().unwrap_or(&Value::Null);
    let (field, expected, received) = match (params.get("name"), params.get("arguments")) {
        (Some(name), _) if !name.is_string() => ("name", "the name of a tool, as a string", name),
        (Some(_), Some(arguments)) if !arguments.is_object() => {
            ("arguments", "an object of named arguments", arguments)
        }
        _ => (
            "params",
            "an object with a string `name` and an object of `arguments`",
            params,
        ),
    };
    invalid_params(
        field,
        format!(
            "tools/call {field}: expected {expected}, received {}",
            clip(&received.to_string(), ECHO_BYTES)
        ),
    )
}

/// The error of one argument: its name and what is wrong with it.
#[derive(Debug)]
struct ArgumentError {
    field: String,
    message: String,
}

impl std::fmt::Display for ArgumentError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for ArgumentError {}

impl serde::de::Error for ArgumentError {
    /// Errors about no single value (rare: the arguments as a whole).
    fn custom<M: std::fmt::Display>(message: M) -> Self {
        Self {
            field: "arguments".into(),
            message: message.to_string(),
        }
    }

    fn missing_field(field: &'static str) -> Self {
        Self {
            field: field.into(),
            message: "required, but not given".into(),
        }
    }
}

/// The arguments object, handed to serde one field at a time so that each
/// value's error carries its field's name.
struct Fields {
    entries: serde_json::map::IntoIter,
    current: Option<(String, Value)>,
}

impl<'de> MapAccess<'de> for Fields {
    type Error = ArgumentError;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, ArgumentError> {
        let Some((key, value)) = self.entries.next() else {
            return Ok(None);
        };
        self.current = Some((key.clone(), value));
        seed.deserialize(key.into_deserializer()).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, ArgumentError> {
        let (field, value) = self.current.take().ok_or_else(|| ArgumentError {
            field: "arguments".into(),
            message: "a value without its name".into(),
        })?;
        seed.deserialize(value).map_err(|err| ArgumentError {
            field,
            message: err.to_string(),
        })
    }
}

/// Lists the known language names as the `enum` of a language list's items
/// (extensions and aliases are accepted too).
fn language_items(schema: &mut Schema) {
    items_enum(schema, mvs_index::known_languages());
}

/// Lists the chunk kinds as the `enum` of a kind list's items.
fn kind_items(schema: &mut Schema) {
    items_enum(schema, mvs_index::known_kinds());
}

fn items_enum(schema: &mut Schema, names: Vec<&'static str>) {
    if let Some(items) = schema.get_mut("items").and_then(Value::as_object_mut) {
        items.insert("enum".into(), names.into());
    }
}

/// Values as clients send them: JSON's own types, or text (the MCP
/// inspector's `--tool-arg k=v`, several agents): `"5"`, `"true"`, and a
/// list as one comma-separated string. `null` is "not given". Errors say
/// what the argument takes and echo the value received.
mod lenient {
    use mvs_index::{LIMIT, WholeNumber, whole_number};
    use serde::{Deserialize, Deserializer, de::Error};
    use serde_json::Value;

    use crate::render::{ECHO_BYTES, clip};

    fn given<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Value>, D::Error> {
        Option::<Value>::deserialize(deserializer)
    }

    fn invalid<E: Error>(expected: &str, received: &Value) -> E {
        E::custom(format!(
            "expected {expected}, received {}",
            clip(&received.to_string(), ECHO_BYTES)
        ))
    }

    /// A JSON number, or text that reads as one.
    fn as_number(value: &Value) -> Option<f64> {
        match value {
            Value::Number(number) => number.as_f64(),
            Value::String(text) => text.trim().parse().ok(),
            _ => None,
        }
    }

    fn in_range<'de, D: Deserializer<'de>>(deserializer: D, bounds: WholeNumber) -> Result<Option<usize>, D::Error> {
        let Some(value) = given(deserializer)? else {
            return Ok(None);
        };
        whole_number(as_number(&value))
            .and_then(|number| bounds.check(Some(number)).ok())
            .map(Some)
            .ok_or_else(|| invalid(&bounds.expected(), &value))
    }

    /// A whole number of 0 or more: `5`, `5.0` or `"5"`.
    pub fn number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<usize>, D::Error> {
        let Some(value) = given(deserializer)? else {
            return Ok(None);
        };
        whole_number(as_number(&value))
            .map(Some)
            .ok_or_else(|| invalid("a whole number", &value))
    }

    /// A result count within [`LIMIT`].
    pub fn limit<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<usize>, D::Error> {
        in_range(deserializer, LIMIT)
    }

    /// A token budget within [`super::MAX_TOKENS`].
    pub fn max_tokens<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<usize>, D::Error> {
        in_range(deserializer, super::MAX_TOKENS)
    }

    /// Lines of context within [`super::CONTEXT_LINES`].
    pub fn context_lines<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<usize>, D::Error> {
        in_range(deserializer, super::CONTEXT_LINES)
    }

    /// A number (its range is checked where it is used).
    pub fn float<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<f32>, D::Error> {
        let Some(value) = given(deserializer)? else {
            return Ok(None);
        };
        as_number(&value)
            .map(|number| Some(number as f32))
            .ok_or_else(|| invalid("a number", &value))
    }

    /// `true` or `false`, as JSON or as text in any case.
    pub fn boolean<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<bool>, D::Error> {
        let Some(value) = given(deserializer)? else {
            return Ok(None);
        };
        match &value {
            Value::Bool(flag) => Ok(Some(*flag)),
            Value::String(text) if text.trim().eq_ignore_ascii_case("true") => Ok(Some(true)),
            Value::String(text) if text.trim().eq_ignore_ascii_case("false") => Ok(Some(false)),
            _ => Err(invalid("true or false", &value)),
        }
    }

    /// A string.
    pub fn text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
        match given(deserializer)? {
            None => Ok(None),
            Some(Value::String(text)) => Ok(Some(text)),
            Some(other) => Err(invalid("a string", &other)),
        }
    }

    /// A string that must be there (`null` is not one).
    pub fn string<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::String(text) => Ok(text),
            other => Err(invalid("a string", &other)),
        }
    }

    /// A list of strings, or one string of comma-separated items.
    pub fn list<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Vec<String>>, D::Error> {
        let expected = "a list of strings (or one comma-separated string)";
        match given(deserializer)? {
            None => Ok(None),
            Some(Value::String(text)) => Ok(Some(
                text.split(',')
                    .map(str::trim)
                    .filter(|item| !item.is_empty())
                    .map(str::to_string)
                    .collect(),
            )),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| item.as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>()
                .map(Some)
                .ok_or_else(|| invalid(expected, &Value::Array(items.clone()))),
            Some(other) => Err(invalid(expected, &other)),
        }
    }
}
