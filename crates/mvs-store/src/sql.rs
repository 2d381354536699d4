//! The SQL text the store hands LanceDB (predicates of deletes, queries and
//! prefilters). Values always go through [`quote`]; the search filter's
//! composition lives in `filter`, on top of these pieces.

use crate::schema::chunk_col;

/// A SQL string literal: `'value'`, inner quotes doubled.
pub(crate) fn quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// `column = 'value'`.
pub(crate) fn equals(column: &str, value: &str) -> String {
    format!("{column} = {}", quote(value))
}

/// `column IN ('a', 'b')`, values quoted as they are.
pub(crate) fn in_list<S: AsRef<str>>(column: &str, values: &[S]) -> String {
    let quoted: Vec<String> = values.iter().map(|v| quote(v.as_ref())).collect();
    format!("{column} IN ({})", quoted.join(", "))
}

/// Chunks whose name or qualified name is exactly `name`.
pub(crate) fn name_clause(name: &str) -> String {
    let name = quote(name);
    format!(
        "({} = {name} OR {} = {name})",
        chunk_col::NAME,
        chunk_col::QUALIFIED_NAME
    )
}

/// `value` with `LIKE`'s wildcards (and its escape character) escaped, to
/// be matched literally inside a pattern.
pub(crate) fn escape_like(value: &str) -> String {
    value.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

/// Rows whose vector is still pending (two-phase indexing).
pub(crate) fn vector_pending() -> String {
    format!("{} IS NULL", chunk_col::MODEL_ID)
}

/// Rows with a real vector (among those matching `predicate`, if given).
pub(crate) fn vector_ready(predicate: Option<&str>) -> String {
    let ready = format!("{} IS NOT NULL", chunk_col::MODEL_ID);
    match predicate {
        Some(predicate) => format!("({predicate}) AND {ready}"),
        None => ready,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_are_quoted() {
        assert_eq!(in_list("path", &["a", "o'b"]), "path IN ('a', 'o''b')");
        assert_eq!(equals("chunk_id", "x' OR '1'='1"), "chunk_id = 'x'' OR ''1''=''1'");
    }

    #[test]
    fn ready_rows_keep_the_predicate_whole() {
        assert_eq!(vector_ready(None), "model_id IS NOT NULL");
        assert_eq!(
            vector_ready(Some("a = 1 OR b = 2")),
            "(a = 1 OR b = 2) AND model_id IS NOT NULL"
        );
    }
}
