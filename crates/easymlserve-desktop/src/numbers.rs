//! Numbers as people read them, by the web page's rules (web/assets/numbers.js): "1,234.5" whatever the
//! system's locale, the same digits for every cell of a table column (its format's precision, else the
//! most its values need, at most four), right-aligned in even-width figures; a click (or Enter on a
//! focused number) copies the full value.

use easymlserve_ui::Table;

/// At most this many decimals when the author gave no precision.
pub(crate) const MAX_DIGITS: usize = 4;

/// The number a table cell holds, or `None` when it is text: plain decimal numbers only (`1e3`, `-2.5`
/// and `.5` are numbers; `0x10`, `1,5`, `inf`, `n/a` and an empty cell are text).
pub(crate) fn parse(text: &str) -> Option<f64> {
    let text = text.trim();
    let plain = text
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.' | b'e' | b'E'))
        && text.bytes().any(|b| b.is_ascii_digit());
    plain
        .then(|| text.parse::<f64>().ok())
        .flatten()
        .filter(|x| x.is_finite())
}

/// The fewest decimals (at most `cap`) that show `x` to 12 significant digits: 2.3 -> 1, 2 -> 0,
/// 0.125 -> 3, 0.1 + 0.2 -> 1.
pub(crate) fn digits_needed(x: f64, cap: usize) -> usize {
    (0..cap)
        .find(|&d| {
            let shown: f64 = format!("{x:.d$}").parse().unwrap_or(f64::NAN);
            (shown - x).abs() <= x.abs() * 1e-12
        })
        .unwrap_or(cap)
}

/// The decimals one column shows: the author's precision, else the most any of its values needs.
pub(crate) fn column_digits(values: impl IntoIterator<Item = f64>, precision: Option<u8>) -> usize {
    match precision {
        Some(digits) => usize::from(digits),
        None => values
            .into_iter()
            .map(|x| digits_needed(x, MAX_DIGITS))
            .max()
            .unwrap_or(0),
    }
}

/// `abs` (not negative) with `digits` decimals, halves rounded up as JavaScript's `toFixed` does
/// (Rust's formatting rounds an exact half to even: 2.5 -> "2").
fn fixed(abs: f64, digits: usize) -> String {
    let shown = format!("{abs:.digits$}");
    let finer = format!("{abs:.*}", digits + 1);
    let tie = finer.ends_with('5') && finer.parse::<f64>() == Ok(abs);
    match shown.parse::<f64>() {
        Ok(value) if tie && value < abs => format!("{:.digits$}", value + 10f64.powi(-(digits as i32))),
        _ => shown,
    }
}

/// `x` with `digits` decimals and a comma between thousands; huge values in exponent form ("1.50e15").
pub(crate) fn format(x: f64, digits: usize) -> String {
    if !x.is_finite() {
        return "–".to_owned();
    }
    let abs = x.abs();
    if abs >= 1e15 {
        return format!("{x:.digits$e}");
    }
    let text = fixed(abs, digits);
    let (whole, fraction) = text
        .split_once('.')
        .map_or((text.as_str(), None), |(w, f)| (w, Some(f)));
    let mut grouped = String::with_capacity(whole.len() + whole.len() / 3);
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    let zero = text.bytes().all(|b| b == b'0' || b == b'.');
    let sign = if x < 0.0 && !zero { "-" } else { "" };
    match fraction {
        Some(fraction) => format!("{sign}{grouped}.{fraction}"),
        None => format!("{sign}{grouped}"),
    }
}

/// The full value a number output copies: the shortest text that reads back as the same number.
pub(crate) fn full(x: f64) -> String {
    x.to_string()
}

/// What the last copy in this output said ("Copied 1234.5"), kept in egui's memory per output.
fn copied_id(name: &str) -> egui::Id {
    egui::Id::unique(("copied", name))
}

/// A number that copies `full` when clicked, or on Enter or Space when focused.
fn copyable_ui(ui: &mut egui::Ui, name: &str, text: egui::RichText, full: &str) -> egui::Response {
    let response = ui
        .add(egui::Label::new(text).sense(egui::Sense::click()))
        .on_hover_text(format!("Click to copy {full}"));
    if response.clicked() {
        ui.ctx().copy_text(full.to_owned());
        let message = format!("Copied {full}");
        ui.data_mut(|d| d.insert_temp(copied_id(name), message));
    }
    response
}

/// The line under an output saying what was copied, if anything.
fn copied_ui(ui: &mut egui::Ui, name: &str) {
    if let Some(message) = ui.data(|d| d.get_temp::<String>(copied_id(name))) {
        ui.weak(message);
    }
}

/// A number output: its precision (else the digits it needs) and unit, large; a click copies it.
pub(crate) fn number_ui(ui: &mut egui::Ui, name: &str, x: f64, unit: Option<&str>, precision: Option<u8>) {
    let text = format(x, column_digits([x], precision));
    let shown = unit.map_or_else(|| text.clone(), |u| format!("{text} {u}"));
    copyable_ui(ui, name, egui::RichText::new(shown).size(22.0).strong(), &full(x));
    copied_ui(ui, name);
}

/// A table, at most `max_rows` rows: numeric cells right-aligned in their column's digits, units in
/// the header; a click on a number copies the cell's full text.
pub(crate) fn table_grid_ui(ui: &mut egui::Ui, id: &str, table: &Table, max_rows: usize) {
    let shown = &table.rows[..table.rows.len().min(max_rows)];
    let columns: Vec<(bool, usize)> = (0..table.columns.len())
        .map(|i| {
            let values: Vec<f64> = shown.iter().filter_map(|r| r.get(i).and_then(|c| parse(c))).collect();
            let precision = table.format_of(&table.columns[i]).and_then(|f| f.precision);
            (!values.is_empty(), column_digits(values, precision))
        })
        .collect();
    let right = egui::Layout::right_to_left(egui::Align::Center);
    egui::Grid::new(id).striped(true).show(ui, |ui| {
        for (i, column) in table.columns.iter().enumerate() {
            let header = match table.format_of(column).and_then(|f| f.unit.as_deref()) {
                Some(unit) => format!("{column} [{unit}]"),
                None => column.clone(),
            };
            if columns[i].0 {
                ui.with_layout(right, |ui| ui.strong(header));
            } else {
                ui.strong(header);
            }
        }
        ui.end_row();
        for row in shown {
            for (i, cell) in row.iter().enumerate() {
                match parse(cell) {
                    Some(x) => {
                        let digits = columns.get(i).map_or(0, |c| c.1);
                        let text = egui::RichText::new(format(x, digits)).monospace();
                        ui.with_layout(right, |ui| copyable_ui(ui, id, text, cell.trim()));
                    }
                    None => {
                        ui.label(cell);
                    }
                }
            }
            ui.end_row();
        }
    });
    copied_ui(ui, id);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_column_shows_the_digits_its_values_need() {
        let digits = column_digits([2.3, 2.0], None);
        assert_eq!([format(2.3, digits), format(2.0, digits)], ["2.3", "2.0"]);
        assert_eq!(column_digits([1.0, 2.0], None), 0);
        assert_eq!(column_digits([0.1 + 0.2], None), 1);
        assert_eq!(column_digits([1.0 / 3.0], None), MAX_DIGITS);
        assert_eq!(column_digits([1.0 / 3.0], Some(1)), 1);
        assert_eq!(column_digits([], None), 0);
    }

    #[test]
    fn thousands_are_separated_and_signs_kept() {
        assert_eq!(format(1_234_567.891, 3), "1,234,567.891");
        assert_eq!(format(1_234_567.891, 1), "1,234,567.9");
        assert_eq!(format(-1500.0, 0), "-1,500");
        assert_eq!(format(999.0, 0), "999");
        assert_eq!(format(100_000.0, 2), "100,000.00");
        assert_eq!(format(-0.04, 1), "0.0", "no minus on a shown zero");
        assert_eq!(format(1.5e15, 2), "1.50e15");
        assert_eq!(format(f64::NAN, 2), "–");
    }

    #[test]
    fn halves_round_up_like_the_web_page() {
        assert_eq!(format(2.5, 0), "3");
        assert_eq!(format(0.125, 2), "0.13");
        assert_eq!(format(-2.5, 0), "-3");
        assert_eq!(format(2.45, 1), "2.5", "2.45 is 2.4500000000000001776 as a double");
    }

    #[test]
    fn only_plain_decimal_numbers_are_numbers() {
        assert_eq!(parse(" 2.3 "), Some(2.3));
        assert_eq!(parse("-1e3"), Some(-1000.0));
        assert_eq!(parse(".5"), Some(0.5));
        for text in ["", "n/a", "0x10", "1,5", "inf", "NaN", "1e400", "e", "-", "2019-03-01"] {
            assert_eq!(parse(text), None, "{text:?}");
        }
        assert_eq!(full(1_234_567.891), "1234567.891");
    }
}
