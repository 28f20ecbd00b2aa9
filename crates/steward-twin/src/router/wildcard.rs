//! EventBridge's `wildcard` filter: `*` matches any run of characters
//! (including none); `\*` is a literal star and `\\` a literal backslash.

#[derive(Debug, PartialEq)]
enum Token {
    Char(char),
    Star,
}

fn tokens(glob: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut chars = glob.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push(Token::Char(chars.next().unwrap_or('\\'))),
            '*' => out.push(Token::Star),
            c => out.push(Token::Char(c)),
        }
    }
    out
}

/// Whether `text` matches `glob` (greedy with backtracking to the last star,
/// linear in practice for the short globs rules use).
pub fn wildcard_match(glob: &str, text: &str) -> bool {
    let glob = tokens(glob);
    let text: Vec<char> = text.chars().collect();
    let (mut g, mut t) = (0, 0);
    let mut backtrack: Option<(usize, usize)> = None;
    while t < text.len() {
        match glob.get(g) {
            Some(Token::Star) => {
                backtrack = Some((g, t));
                g += 1;
            }
            Some(Token::Char(c)) if *c == text[t] => {
                g += 1;
                t += 1;
            }
            _ => match backtrack {
                Some((star, from)) => {
                    g = star + 1;
                    t = from + 1;
                    backtrack = Some((star, from + 1));
                }
                None => return false,
            },
        }
    }
    glob[g..].iter().all(|token| *token == Token::Star)
}

#[cfg(test)]
mod tests {
    use super::wildcard_match;

    #[test]
    fn stars_match_any_run_and_escapes_are_literal() {
        assert!(wildcard_match("dir/*.png", "dir/a.png"));
        assert!(wildcard_match("dir/*.png", "dir/.png"));
        assert!(!wildcard_match("dir/*.png", "dir/a.jpg"));
        assert!(wildcard_match("*/lib/*", "usr/lib/x"));
        assert!(wildcard_match("a*b*c", "aXXbYYbc"));
        assert!(!wildcard_match("a*b*c", "aXXbYY"));
        assert!(wildcard_match(r"a\*b", "a*b"));
        assert!(!wildcard_match(r"a\*b", "axb"));
        assert!(wildcard_match(r"a\\b", r"a\b"));
        assert!(wildcard_match("*", ""));
    }
}
