//! JSON exactly as Leaf signs webhook bodies: `", "` and `": "` separators, ASCII only (non-ASCII escaped as
//! `\uXXXX`), keys in the given order.

use serde_json::Value;

/// Serialises ordered key/value pairs as one JSON object in Leaf's webhook style.
pub fn object(pairs: &[(&str, Value)]) -> String {
    let mut out = String::from("{");
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        string(&mut out, k);
        out.push_str(": ");
        value(&mut out, v);
    }
    out.push('}');
    out
}

/// Serialises any JSON value in Leaf's webhook style (object keys in their map order).
pub fn to_string(v: &Value) -> String {
    let mut out = String::new();
    value(&mut out, v);
    out
}

fn value(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => string(out, s),
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                value(out, x);
            }
            out.push(']');
        }
        Value::Object(m) => {
            out.push('{');
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                string(out, k);
                out.push_str(": ");
                value(out, x);
            }
            out.push('}');
        }
    }
}

fn string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn matches_python_json_dumps() {
        // json.dumps({"leafUserId": "u", "n": 1.5, "ok": True, "x": None, "list": [1, 2], "é": "😀\n"})
        let s = object(&[
            ("leafUserId", json!("u")),
            ("n", json!(1.5)),
            ("ok", json!(true)),
            ("x", Value::Null),
            ("list", json!([1, 2])),
            ("é", json!("😀\n")),
        ]);
        assert_eq!(
            s,
            r#"{"leafUserId": "u", "n": 1.5, "ok": true, "x": null, "list": [1, 2], "\u00e9": "\ud83d\ude00\n"}"#
        );
        assert_eq!(
            to_string(&json!({"message": "confirmation of webhook upon registration"})),
            r#"{"message": "confirmation of webhook upon registration"}"#
        );
        assert!(s.is_ascii());
        // Still valid JSON with the same content.
        let back: Value = serde_json::from_str(&s).unwrap();
        assert_eq!(back["é"], "😀\n");
    }
}
