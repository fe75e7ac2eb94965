//! The spreadsheet formula guard. A spreadsheet runs a cell that starts with `=`, `+`, `-` or `@`
//! as a formula (and some also after a tab or carriage return), so a roster exported to CSV could
//! carry a formula a user opens without meaning to. The exporter writes such a cell with one `'`
//! in front, which spreadsheets show as text; the importer takes that `'` off again. A cell that
//! already starts with `'` gets one too, so that taking one off always gives back what was
//! written: `unguard_cell(&guard_cell(x)) == x` for every `x`.

use std::borrow::Cow;

/// The first characters that make the exporter write a `'` in front of a cell.
const GUARDED: [char; 7] = ['=', '+', '-', '@', '\t', '\r', '\''];

/// The cell as the exporter writes it: with one `'` in front when it starts with a character a
/// spreadsheet could read as the start of a formula (or with `'`).
pub fn guard_cell(cell: &str) -> Cow<'_, str> {
    if cell.starts_with(GUARDED) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// The cell as it was before [`guard_cell`]: without its leading `'` when one of the guarded
/// characters follows it, unchanged otherwise.
pub fn unguard_cell(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(GUARDED) => rest,
        _ => cell,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guarding_then_unguarding_gives_back_every_value() {
        let awkward = [
            "",
            "plain",
            "=SUM(A1:A3)",
            "+1 555 0100",
            "-5",
            "@ana",
            "\tindented",
            "\rreturn",
            "'",
            "''",
            "'quoted",
            "'=already guarded",
            "''=twice",
            "a=b",
            " =space first",
            "é=",
            "=",
            "'\u{1F469}",
        ];
        for value in awkward {
            assert_eq!(unguard_cell(&guard_cell(value)), value, "{value:?}");
        }
    }

    #[test]
    fn only_cells_a_spreadsheet_could_run_are_guarded() {
        let guarded: Vec<String> = ["=1+1", "@ana", "-", "'x", "ana", " =x", "1-2"]
            .iter()
            .map(|value| guard_cell(value).into_owned())
            .collect();
        assert_eq!(
            guarded,
            ["'=1+1", "'@ana", "'-", "''x", "ana", " =x", "1-2"]
        );
    }

    #[test]
    fn a_quote_before_anything_else_stays() {
        let unguarded: Vec<&str> = ["'=x", "'abc", "'", "''", "x'=y", "'@ana", "'\tx"]
            .into_iter()
            .map(unguard_cell)
            .collect();
        assert_eq!(unguarded, ["=x", "'abc", "'", "'", "x'=y", "@ana", "\tx"]);
    }
}
