//! Lines of single-quoted, space-separated fields (`'bash' '' '5.2.15'`), as
//! the Patchman and pakiti2 shell clients print them.
//!
//! The clients do not escape quotes inside values, so a field ends at the
//! first `'` that is followed by whitespace or the end of the line: a repo
//! name such as `'Joe's repo'` still reads as one field.

/// Splits one line into its field values. The error says what is wrong and
/// where, for the caller to prefix with the field name and line number.
pub(crate) fn split(line: &str) -> Result<Vec<&str>, String> {
    let mut fields = Vec::new();
    let mut rest = line;
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            return Ok(fields);
        }
        let column = line.len() - rest.len() + 1;
        let Some(body) = rest.strip_prefix('\'') else {
            let word: String = rest
                .chars()
                .take_while(|c| !c.is_whitespace())
                .take(30)
                .collect();
            return Err(format!(
                "field {} at column {column} is not single-quoted: `{word}`",
                fields.len() + 1
            ));
        };
        let end = body.match_indices('\'').map(|(i, _)| i).find(|&i| {
            body.get(i + 1..)
                .is_some_and(|after| after.is_empty() || after.starts_with(char::is_whitespace))
        });
        let Some(end) = end else {
            return Err(format!(
                "field {} at column {column} has no closing quote",
                fields.len() + 1
            ));
        };
        fields.push(body.get(..end).unwrap_or_default());
        rest = body.get(end + 1..).unwrap_or_default();
    }
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn splits_fields() {
        assert_eq!(
            split("'bash' '' '5.2.15' '2+b7' 'amd64' 'deb'"),
            Ok(vec!["bash", "", "5.2.15", "2+b7", "amd64", "deb"])
        );
        assert_eq!(split("  'a b'\t'c'  "), Ok(vec!["a b", "c"]));
        assert_eq!(split("'Joe's repo' '1'"), Ok(vec!["Joe's repo", "1"]));
        assert_eq!(split(""), Ok(vec![]));
        assert_eq!(
            split("'a' b"),
            Err("field 2 at column 5 is not single-quoted: `b`".into())
        );
        assert_eq!(
            split("'a' 'b"),
            Err("field 2 at column 5 has no closing quote".into())
        );
        assert_eq!(split("'a''b'"), Ok(vec!["a''b"]));
    }
}
