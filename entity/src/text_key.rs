//! The key that names and handles are unique on and searched by.

use icu_casemap::CaseMapper;
use icu_normalizer::ComposingNormalizerBorrowed;

/// The case-insensitive key of a name, a handle or a search term: `NFC(casefold(NFC(text)))`.
///
/// - The inner NFC makes canonically equivalent spellings one (`é` as one code point or as `e`
///   plus a combining acute accent).
/// - Unicode full case folding (not lower-casing) makes `straße` and `STRASSE` one, and is the
///   same on every platform, whatever the database's own `LOWER` does.
/// - Folding can leave text out of NFC (`ΐ` folds to `ι` and two combining marks), so the result
///   is normalised again; the key is then stable: the key of a key is itself.
///
/// The key can hold up to three times as many code points as the text (`ﬃ` folds to three), so
/// the key columns are unbounded `text`; the length limits apply to the text as given.
///
/// Compatibility variants stay apart (full-width `ＡＢ` is not `ab`): `NFKC_Casefold` would merge
/// them, and would also drop the format characters that names refuse anyway; the plain
/// canonical form keeps the key to what case and encoding alone make different.
pub fn text_key(text: &str) -> String {
    let nfc = ComposingNormalizerBorrowed::new_nfc();
    let composed = nfc.normalize(text);
    let folded = CaseMapper::new().fold_string(&composed);
    nfc.normalize(&folded).into_owned()
}

#[cfg(test)]
mod tests {
    use super::text_key;

    #[test]
    fn folds_case_fully_and_composes() {
        assert_eq!(text_key("ÉTÉ Creators"), "été creators");
        assert_eq!(text_key("STRASSE"), text_key("straße"));
        assert_eq!(text_key("Cafe\u{301}"), "caf\u{e9}");
        assert_eq!(text_key("CAFE\u{301}"), text_key("café"));
        assert_eq!(text_key("İ"), "i\u{307}");
        assert_eq!(text_key("ﬃ").chars().count(), 3);
        // ΐ folds to three code points, which compose back to one.
        assert_eq!(text_key("\u{390}"), "\u{390}");
        assert_eq!(text_key("ﬁ"), "fi");
        assert_eq!(text_key("ＡＢ"), "ａｂ");
    }

    #[test]
    fn a_key_is_its_own_key() {
        for text in ["ÉTÉ", "Straße", "İstanbul", "ΐ", "ᾳ", "Ǆ", "\u{1E9E}", "ﬃ"] {
            let key = text_key(text);
            assert_eq!(text_key(&key), key, "{text}");
        }
    }
}
