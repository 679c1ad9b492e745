//! Which rows of a message list are selected: click, Ctrl/Cmd-click, Shift-click ranges and the
//! keyboard cursor. Plain data: the list component renders it.

use std::collections::BTreeSet;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Selection {
    /// Message ids chosen for a batch action.
    pub chosen: BTreeSet<String>,
    /// Where a Shift-click range starts.
    pub anchor: Option<u64>,
    /// The row the keyboard is on (and the open message's row).
    pub cursor: Option<u64>,
}

impl Selection {
    /// A plain click: the cursor moves there and any batch selection ends.
    pub fn click(&mut self, position: u64) {
        self.chosen.clear();
        self.cursor = Some(position);
        self.anchor = Some(position);
    }

    /// Ctrl/Cmd-click, the row's checkbox, or `x`: add or remove one row.
    pub fn toggle(&mut self, position: u64, id: &str) {
        if !self.chosen.remove(id) {
            self.chosen.insert(id.to_owned());
        }
        self.cursor = Some(position);
        self.anchor = Some(position);
    }

    /// Shift-click: every row from the anchor to here joins. `ids_between(a, b)` gives the ids
    /// of rows `a..=b` as the list shows them.
    pub fn extend_to(&mut self, position: u64, ids_between: impl FnOnce(u64, u64) -> Vec<String>) {
        let anchor = self.anchor.unwrap_or(position);
        let (from, to) = if anchor <= position { (anchor, position) } else { (position, anchor) };
        self.chosen.extend(ids_between(from, to));
        self.cursor = Some(position);
    }

    /// Keyboard movement within `0..total`.
    pub fn step(&mut self, delta: i64, total: u64) -> Option<u64> {
        if total == 0 {
            return None;
        }
        let next = match self.cursor {
            None => 0,
            Some(c) => (c as i64 + delta).clamp(0, total as i64 - 1) as u64,
        };
        self.cursor = Some(next);
        Some(next)
    }

    /// What a batch action acts on: the chosen rows, else the cursor's row.
    pub fn targets(&self, cursor_id: Option<String>) -> Vec<String> {
        if self.chosen.is_empty() {
            cursor_id.into_iter().collect()
        } else {
            self.chosen.iter().cloned().collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(from: u64, to: u64) -> Vec<String> {
        (from..=to).map(|p| format!("m{p}")).collect()
    }

    #[test]
    fn a_shift_click_range_runs_from_the_anchor_either_way() {
        let mut s = Selection::default();
        s.click(5);
        s.extend_to(2, ids);
        assert_eq!(s.chosen.iter().cloned().collect::<Vec<_>>(), ["m2", "m3", "m4", "m5"]);
        assert_eq!(s.cursor, Some(2));
        s.toggle(3, "m3");
        assert!(!s.chosen.contains("m3"), "a toggle takes one row out of the range");
        assert_eq!(s.targets(Some("m9".into())).len(), 3, "a batch acts on the chosen rows, not the cursor's");
        s.click(7);
        assert!(s.chosen.is_empty(), "a plain click ends the batch");
        assert_eq!(s.targets(Some("m7".into())), ["m7"]);
    }

    #[test]
    fn the_keyboard_stays_inside_the_list() {
        let mut s = Selection::default();
        assert_eq!(s.step(1, 0), None, "an empty list has no row to go to");
        assert_eq!(s.step(1, 3), Some(0), "the first key press lands on the first row");
        assert_eq!(s.step(5, 3), Some(2));
        assert_eq!(s.step(-9, 3), Some(0));
    }
}
