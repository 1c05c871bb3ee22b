//! Terminal colours for human output: on only for a terminal, never with `NO_COLOR`.

use std::io::IsTerminal;

/// A colour for one piece of text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Colour {
    Bold,
    Red,
    Green,
    Yellow,
    Cyan,
    Dim,
}

impl Colour {
    /// The SGR parameter of the colour.
    fn code(self) -> &'static str {
        match self {
            Colour::Bold => "1",
            Colour::Red => "31",
            Colour::Green => "32",
            Colour::Yellow => "33",
            Colour::Cyan => "36",
            Colour::Dim => "2",
        }
    }
}

/// Whether output is coloured; [`Style::Plain`] writes text unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Plain,
    Ansi,
}

impl Style {
    /// The style for stdout in this process: colours only when stdout is a terminal and
    /// `NO_COLOR` is unset or empty (<https://no-color.org>).
    pub fn for_stdout() -> Style {
        let no_color = std::env::var_os("NO_COLOR");
        Style::choose(
            std::io::stdout().is_terminal(),
            no_color.as_deref().and_then(|v| v.to_str()),
        )
    }

    /// The decision itself: `NO_COLOR` (any non-empty value) wins over a terminal.
    pub fn choose(is_terminal: bool, no_color: Option<&str>) -> Style {
        let disabled = no_color.is_some_and(|v| !v.is_empty());
        if is_terminal && !disabled {
            Style::Ansi
        } else {
            Style::Plain
        }
    }

    /// `text` in `colour` (unchanged when plain).
    pub fn paint(self, colour: Colour, text: &str) -> String {
        match self {
            Style::Plain => text.to_string(),
            Style::Ansi if text.is_empty() => String::new(),
            Style::Ansi => format!("\x1b[{}m{text}\x1b[0m", colour.code()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_only_on_a_terminal_without_no_color() {
        assert_eq!(Style::choose(true, None), Style::Ansi);
        assert_eq!(Style::choose(true, Some("")), Style::Ansi);
        assert_eq!(Style::choose(true, Some("1")), Style::Plain);
        assert_eq!(Style::choose(false, None), Style::Plain);
        assert_eq!(Style::choose(false, Some("1")), Style::Plain);
    }

    #[test]
    fn paint() {
        assert_eq!(Style::Plain.paint(Colour::Red, "x"), "x");
        assert_eq!(Style::Ansi.paint(Colour::Red, "x"), "\x1b[31mx\x1b[0m");
        assert_eq!(Style::Ansi.paint(Colour::Red, ""), "");
    }
}
