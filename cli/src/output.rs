//! Human output: tables for listings, `field: value` lines for one object.

use serde_json::Value;

/// A JSON value as one table cell or field value.
pub fn cell(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "-".to_owned(),
        Some(Value::String(s)) if s.is_empty() => "-".to_owned(),
        Some(Value::String(s)) => s.replace(['\n', '\r', '\t'], " "),
        Some(Value::Array(a)) if a.is_empty() => "-".to_owned(),
        Some(Value::Array(a)) => a.iter().map(|x| cell(Some(x))).collect::<Vec<_>>().join(","),
        Some(other) => other.to_string(),
    }
}

/// Rows under a header, columns padded to their widest cell (the last one not padded).
pub fn table(rows: &[Value], cols: &[(&str, &str)]) -> String {
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| cols.iter().map(|(_, k)| cell(r.get(*k))).collect())
        .collect();
    let widths: Vec<usize> = cols
        .iter()
        .enumerate()
        .map(|(i, (h, _))| {
            cells
                .iter()
                .filter_map(|r| r.get(i))
                .map(|c| c.chars().count())
                .chain([h.len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |row: Vec<String>| {
        let n = row.len();
        let mut s = String::new();
        for (i, (c, &w)) in row.into_iter().zip(&widths).enumerate() {
            if i + 1 == n {
                s.push_str(&c);
            } else {
                s.push_str(&format!("{c:<w$}  "));
            }
        }
        s.trim_end().to_owned() + "\n"
    };
    let mut out = line(cols.iter().map(|(h, _)| h.to_string()).collect());
    for r in cells {
        out.push_str(&line(r));
    }
    out
}

/// One object as aligned `field  value` lines: the `first` fields in that order, then the rest.
pub fn fields(v: &Value, first: &[&str]) -> String {
    let Some(obj) = v.as_object() else {
        return format!("{v}\n");
    };
    let w = obj.keys().map(|k| k.len()).max().unwrap_or(0);
    let ordered = first
        .iter()
        .filter_map(|k| obj.get_key_value(*k))
        .chain(obj.iter().filter(|(k, _)| !first.contains(&k.as_str())));
    ordered
        .map(|(k, val)| {
            let shown = match val {
                Value::Array(a) if a.iter().any(Value::is_object) => {
                    a.iter().map(|x| format!("\n  {x}")).collect::<String>()
                }
                Value::Object(_) => val.to_string(),
                _ => cell(Some(val)),
            };
            format!("{k:<w$}  {shown}\n")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tables_align_and_show_missing_as_dash() {
        let rows = [
            json!({"client_id": "abc", "name": "A long name", "grant_types": ["x", "y"]}),
            json!({"client_id": "d", "name": "B\nC"}),
        ];
        let t = table(
            &rows,
            &[("ID", "client_id"), ("NAME", "name"), ("GRANTS", "grant_types")],
        );
        assert_eq!(
            t,
            "ID   NAME         GRANTS\nabc  A long name  x,y\nd    B C          -\n"
        );
        assert_eq!(table(&[], &[("ID", "id")]), "ID\n");
    }

    #[test]
    fn fields_are_aligned_lines() {
        let f = fields(
            &json!({"client_id": "abc", "trusted": false, "keys": [{"kid": "k"}], "scopes": []}),
            &["trusted", "absent"],
        );
        assert_eq!(
            f,
            "trusted    false\nclient_id  abc\nkeys       \n  {\"kid\":\"k\"}\nscopes     -\n"
        );
    }
}
