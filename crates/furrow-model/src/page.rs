use std::fmt;

/// Largest page size; bigger requests are clamped (Leaf's rule).
pub(crate) const MAX_PAGE_SIZE: u32 = 100;

/// A page request: `page` counts from 0, `size` is between 1 and 100.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// Zero-based page number.
    pub page: u32,
    /// Items per page, 1..=100.
    pub size: u32,
}

/// Why a page request was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageError {
    /// The query parameter at fault (`page` or `size`).
    pub field: &'static str,
    /// What is wrong with it.
    pub message: String,
}

impl fmt::Display for PageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for PageError {}

impl Page {
    /// Validates a request: `size` < 1 is an error, `size` > 100 is clamped to 100.
    pub fn new(page: i64, size: i64) -> Result<Self, PageError> {
        if page < 0 {
            return Err(PageError {
                field: "page",
                message: "must be 0 or more".into(),
            });
        }
        if size < 1 {
            return Err(PageError {
                field: "size",
                message: "must be 1 or more".into(),
            });
        }
        let page = u32::try_from(page).map_err(|_| PageError {
            field: "page",
            message: "is too large".into(),
        })?;
        let size = size.min(i64::from(MAX_PAGE_SIZE)) as u32;
        Ok(Self { page, size })
    }

    /// Rows to skip.
    pub fn offset(&self) -> i64 {
        i64::from(self.page) * i64::from(self.size)
    }

    /// Rows to take.
    pub fn limit(&self) -> i64 {
        i64::from(self.size)
    }

    /// The index of the last page for `total` items (0 when empty).
    pub fn last_page(&self, total: i64) -> i64 {
        if total <= 0 {
            0
        } else {
            (total - 1) / i64::from(self.size)
        }
    }
}

impl Default for Page {
    fn default() -> Self {
        Self { page: 0, size: 20 }
    }
}

/// Sort direction of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortOrder {
    /// Oldest first.
    Asc,
    /// Newest first.
    #[default]
    Desc,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clamps_and_rejects() {
        assert_eq!(Page::new(2, 500).unwrap(), Page { page: 2, size: 100 });
        assert_eq!(Page::new(0, 0).unwrap_err().field, "size");
        assert_eq!(Page::new(-1, 5).unwrap_err().field, "page");
        assert_eq!(Page::new(3, 10).unwrap().offset(), 30);
    }

    #[test]
    fn last_page() {
        let p = Page::new(0, 20).unwrap();
        assert_eq!(p.last_page(0), 0);
        assert_eq!(p.last_page(20), 0);
        assert_eq!(p.last_page(21), 1);
    }
}
