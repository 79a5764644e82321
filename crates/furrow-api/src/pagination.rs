use axum::http::{HeaderMap, HeaderValue};
use furrow_model::{Page, SortOrder};
use serde::Deserialize;

use crate::ApiError;

/// `page`, `size` and `sort` as strings, so a bad value is answered naming the parameter.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct PageQuery {
    pub(crate) page: Option<String>,
    pub(crate) size: Option<String>,
    pub(crate) sort: Option<String>,
}

impl PageQuery {
    pub(crate) fn page(&self) -> Result<Page, ApiError> {
        let num = |name: &'static str, v: &Option<String>, default: i64| -> Result<i64, ApiError> {
            match v.as_deref() {
                None | Some("") => Ok(default),
                Some(s) => s
                    .parse::<i64>()
                    .map_err(|_| ApiError::field(name, "must be an integer")),
            }
        };
        let page = num("page", &self.page, 0)?;
        let size = num("size", &self.size, 20)?;
        Page::new(page, size).map_err(|e| ApiError::field(e.field, e.message))
    }

    /// Parses `sort=<property>,asc|desc` where only `allowed` properties may be named.
    pub(crate) fn sort(&self, allowed: &[&str]) -> Result<SortOrder, ApiError> {
        let Some(sort) = self.sort.as_deref().filter(|s| !s.is_empty()) else {
            return Ok(SortOrder::Desc);
        };
        let (prop, dir) = sort.split_once(',').unwrap_or((sort, "asc"));
        if !allowed.contains(&prop) {
            return Err(ApiError::field(
                "sort",
                format!("cannot sort by `{prop}`; use one of {}", allowed.join(", ")),
            ));
        }
        match dir.to_ascii_lowercase().as_str() {
            "asc" => Ok(SortOrder::Asc),
            "desc" => Ok(SortOrder::Desc),
            _ => Err(ApiError::field("sort", "direction must be asc or desc")),
        }
    }
}

impl PageQuery {
    /// Parses `sort=<property>[,asc|desc]` into `(column, descending)` where `columns` maps the allowed API
    /// property names to store columns; `None` without `sort`.
    pub(crate) fn sort_column(
        &self,
        columns: &[(&str, &'static str)],
    ) -> Result<Option<(&'static str, bool)>, ApiError> {
        let Some(sort) = self.sort.as_deref().filter(|s| !s.is_empty()) else {
            return Ok(None);
        };
        let (prop, dir) = sort.split_once(',').unwrap_or((sort, "asc"));
        let Some((_, column)) = columns.iter().find(|(p, _)| *p == prop) else {
            let names: Vec<&str> = columns.iter().map(|(p, _)| *p).collect();
            return Err(ApiError::field(
                "sort",
                format!("cannot sort by `{prop}`; use one of {}", names.join(", ")),
            ));
        };
        match dir.to_ascii_lowercase().as_str() {
            "asc" => Ok(Some((column, false))),
            "desc" => Ok(Some((column, true))),
            _ => Err(ApiError::field("sort", "direction must be asc or desc")),
        }
    }
}

/// `X-Total-Count` and an RFC 5988 `Link` header (absolute paths keeping the filters).
pub(crate) fn headers(path: &str, filters: &[(&str, &str)], page: Page, total: i64) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert("x-total-count", HeaderValue::from(total));
    let last = page.last_page(total);
    let url = |p: i64| {
        let mut q = String::new();
        for (k, v) in filters {
            q.push_str(&format!("{k}={}&", encode(v)));
        }
        format!("<{path}?{q}page={p}&size={}>", page.size)
    };
    let current = i64::from(page.page);
    let mut links = Vec::new();
    if current < last {
        links.push(format!("{}; rel=\"next\"", url(current + 1)));
    }
    if current > 0 {
        links.push(format!("{}; rel=\"prev\"", url((current - 1).min(last))));
    }
    links.push(format!("{}; rel=\"last\"", url(last)));
    links.push(format!("{}; rel=\"first\"", url(0)));
    if let Ok(v) = HeaderValue::from_str(&links.join(",")) {
        h.insert("link", v);
    }
    h
}

fn encode(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
