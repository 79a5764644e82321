use furrow_credentials::Provider;

/// docs/CREDENTIALS.md's catalogue table must match the field tables.
#[test]
fn credentials_doc_matches_the_catalogue() {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/CREDENTIALS.md"
    ))
    .unwrap();
    let mut rows = 0;
    for p in Provider::ALL {
        let prefix = format!(
            "| `{}` | {} | `{}` | ",
            p.slug(),
            p.display_name(),
            p.leaf_name()
        );
        let row = doc
            .lines()
            .find(|l| l.starts_with(&prefix))
            .unwrap_or_else(|| panic!("no row for {p:?}"));
        let cells: Vec<&str> = row.split(" | ").collect();
        assert_eq!(cells[3], format!("{:?}", p.auth_kind()), "{p:?}");
        assert_eq!(
            cells[4],
            if p.has_environments() { "yes" } else { "—" },
            "{p:?}"
        );
        assert_eq!(
            cells[7].trim_end_matches(" |"),
            if p.has_token_metadata() { "yes" } else { "—" },
            "{p:?}"
        );
        let create: Vec<String> = p
            .fields()
            .iter()
            .filter(|f| f.in_create)
            .map(|f| {
                let star = if f.secret { "*" } else { "" };
                let cell = if f.required {
                    format!("**{}{star}**", f.name)
                } else {
                    format!("{}{star}", f.name)
                };
                if f.secret && !f.in_response {
                    format!("{cell} (never returned)")
                } else {
                    cell
                }
            })
            .collect();
        assert_eq!(cells[5], create.join(", "), "{p:?}");
        let generated: Vec<String> = p
            .fields()
            .iter()
            .filter(|f| !f.in_create && f.in_response)
            .map(|f| format!("{}{}", f.name, if f.secret { "*" } else { "" }))
            .collect();
        let expected = if generated.is_empty() {
            "—".to_owned()
        } else {
            generated.join(", ")
        };
        assert_eq!(cells[6], expected, "{p:?}");
        rows += 1;
    }
    assert_eq!(rows, 15);
}
