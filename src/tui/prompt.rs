//! The prompt `g` (or `:`) opens: a line of text with history and node-name completion. The
//! language it takes is [`control::command`](crate::control::command).

use crate::control::command::KEYWORDS;
use crate::engine::Graph;

/// The line being typed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Prompt {
    pub text: String,
    /// Position in the command history while browsing it (↑ ↓).
    pub browsing: Option<usize>,
    /// A message under the line: completions, or why the last command was not understood.
    pub message: Option<String>,
}

impl Prompt {
    /// Tab: completes the last word with a node name or keyword; lists the choices when
    /// several fit.
    pub fn complete(&mut self, graph: &Graph) {
        let start = self.text.rfind(' ').map(|i| i + 1).unwrap_or(0);
        let word = self.text[start..].to_string();
        let mut choices: Vec<String> = graph
            .nodes()
            .iter()
            .map(|n| n.name.clone())
            .chain(KEYWORDS.iter().filter(|k| k.len() > 1).map(|k| k.to_string()))
            .filter(|c| c.starts_with(&word) && !c.contains(' '))
            .collect();
        choices.sort();
        choices.dedup();
        match choices.len() {
            0 => self.message = Some(format!("nothing starts with `{word}`")),
            1 => {
                self.text.truncate(start);
                self.text.push_str(&choices[0]);
                self.text.push(' ');
                self.message = None;
            }
            _ => {
                let common = choices.iter().skip(1).fold(choices[0].clone(), |acc, c| {
                    acc.chars().zip(c.chars()).take_while(|(a, b)| a == b).map(|(a, _)| a).collect()
                });
                self.text.truncate(start);
                self.text.push_str(&common);
                self.message = Some(choices.join("  "));
            }
        }
    }

    /// ↑ / ↓: an earlier or later command of `history`.
    pub fn browse(&mut self, history: &[String], older: bool) {
        if history.is_empty() {
            return;
        }
        let next = match (self.browsing, older) {
            (None, true) => Some(history.len() - 1),
            (None, false) => None,
            (Some(i), true) => Some(i.saturating_sub(1)),
            (Some(i), false) if i + 1 < history.len() => Some(i + 1),
            (Some(_), false) => None,
        };
        self.browsing = next;
        self.text = next.map(|i| history[i].clone()).unwrap_or_default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph() -> Graph {
        let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models/two_layer.yaml");
        crate::model::Model::load(&path).unwrap().graph().clone()
    }

    #[test]
    fn completion_and_history() {
        let g = graph();
        let mut p = Prompt { text: "backward al".into(), ..Prompt::default() };
        p.complete(&g);
        assert_eq!(p.text, "backward alpha ");
        let mut p = Prompt { text: "node b".into(), ..Prompt::default() };
        p.complete(&g);
        assert!(p.message.as_deref().is_some_and(|m| m.contains("beta") && m.contains("backward")), "{p:?}");
        let history = vec!["e 1 x 5".to_string(), "break nan".to_string()];
        let mut p = Prompt::default();
        p.browse(&history, true);
        assert_eq!(p.text, "break nan");
        p.browse(&history, true);
        assert_eq!(p.text, "e 1 x 5");
        p.browse(&history, false);
        assert_eq!(p.text, "break nan");
    }
}
