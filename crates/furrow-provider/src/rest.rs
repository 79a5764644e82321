//! A configurable JSON API client for providers whose data endpoints are not public: paths, key names and
//! the paging style are configuration (providers.md: "every [A] item is a configuration value"), so an
//! adapter is its auth plus a [`RestSpec`].

use base64::Engine;
use furrow_model::{
    MachineFileDescriptor, MultiPolygon, Polygon, ProviderField, ProviderOrganization,
};
use serde_json::Value;
use time::OffsetDateTime;

use crate::auth::AuthedClient;
use crate::download::{DownloadMode, download};
use crate::error::{Error, Result};
use crate::provider::{ByteStream, FilePage};
use crate::transport::Request;

/// How a list is paged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestPaging {
    /// `?cursor=` → `{items, next}`.
    ItemsNext,
    /// `?page=&pageSize=` (0-based) → `{items, totalCount}`.
    PageNumber,
    /// `?bookmark=` → `{result, bookmark: {token, moreResults}}`.
    Bookmark,
    /// A bare JSON array, no paging.
    BareArray,
    /// JSON:API `{data: [{id, attributes}], links: {next}}` with `page[cursor]`.
    JsonApi,
}

/// Where field boundaries come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RestBoundaries {
    /// None.
    None,
    /// A GeoJSON geometry under this key of each field.
    Inline(&'static str),
    /// A list of `{fieldId, geometry}` per field at this path (`{org}`, `{field}`).
    PerField(&'static str),
    /// A list of `{fieldId, geometry}` for all fields at this path (`{org}`).
    List(&'static str),
}

/// JSON key names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RestKeys {
    /// Item id.
    pub id: &'static str,
    /// Field and organization name.
    pub name: &'static str,
    /// File name.
    pub file_name: &'static str,
    /// File creation time (RFC 3339).
    pub created: &'static str,
    /// File size in bytes.
    pub size: &'static str,
}

impl Default for RestKeys {
    fn default() -> Self {
        RestKeys {
            id: "id",
            name: "name",
            file_name: "fileName",
            created: "createdAt",
            size: "size",
        }
    }
}

/// One provider's JSON API.
#[derive(Debug, Clone)]
pub struct RestSpec {
    /// Organization list path; `None`: one implicit organization.
    pub organizations: Option<&'static str>,
    /// Field list path (`{org}`).
    pub fields: Option<&'static str>,
    /// Boundaries.
    pub boundaries: RestBoundaries,
    /// Machine file list path (`{org}`).
    pub files: Option<&'static str>,
    /// Machine file bytes path (`{org}`, `{id}`).
    pub file: Option<&'static str>,
    /// Paging style.
    pub paging: RestPaging,
    /// Key names.
    pub keys: RestKeys,
    /// Query parameter of the "changed since" filter.
    pub since_param: &'static str,
    /// How bytes are fetched.
    pub download: DownloadMode,
    /// Page size asked for.
    pub page_size: usize,
}

/// The id of the implicit organization of providers without organizations.
pub const IMPLICIT_ORG: &str = "default";

/// A [`RestSpec`] bound to a client and a base URL.
#[derive(Debug, Clone)]
pub struct RestApi {
    /// Authenticated client.
    pub client: AuthedClient,
    /// Base URL (no trailing slash).
    pub base: String,
    /// The API description.
    pub spec: RestSpec,
}

/// A GeoJSON `Polygon`, `MultiPolygon`, `Feature` or `FeatureCollection` as a [`MultiPolygon`].
pub fn geojson_multipolygon(v: &Value) -> Option<MultiPolygon> {
    let ring = |r: &Value| -> Option<Vec<[f64; 2]>> {
        r.as_array()?
            .iter()
            .map(|p| Some([p.get(0)?.as_f64()?, p.get(1)?.as_f64()?]))
            .collect()
    };
    let polygon = |p: &Value| -> Option<Polygon> { p.as_array()?.iter().map(ring).collect() };
    match v.get("type")?.as_str()? {
        "Polygon" => Some(MultiPolygon::new(vec![polygon(v.get("coordinates")?)?])),
        "MultiPolygon" => Some(MultiPolygon::new(
            v.get("coordinates")?
                .as_array()?
                .iter()
                .map(polygon)
                .collect::<Option<_>>()?,
        )),
        "Feature" => geojson_multipolygon(v.get("geometry")?),
        "FeatureCollection" => {
            let mut all = Vec::new();
            for f in v.get("features")?.as_array()? {
                all.extend(geojson_multipolygon(f)?.coordinates);
            }
            Some(MultiPolygon::new(all))
        }
        _ => None,
    }
}

/// A durable page cursor carrying the `since` filter: base64 of `since|token`.
pub fn encode_cursor(since: Option<i64>, token: &str) -> String {
    let s = since.map(|s| s.to_string()).unwrap_or_default();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{s}|{token}"))
}

/// The `(since, token)` of a cursor made by [`encode_cursor`].
pub fn decode_cursor(provider: &'static str, cursor: &str) -> Result<(Option<i64>, String)> {
    let bad = || Error::protocol(provider, "malformed page cursor");
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| bad())?;
    let text = String::from_utf8(raw).map_err(|_| bad())?;
    let (s, t) = text.split_once('|').ok_or_else(bad)?;
    let since = if s.is_empty() {
        None
    } else {
        Some(s.parse().map_err(|_| bad())?)
    };
    Ok((since, t.to_owned()))
}

/// RFC 3339 of Unix seconds.
pub fn rfc3339(unix: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

fn text(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

impl RestApi {
    fn slug(&self) -> &'static str {
        self.client.provider().slug()
    }

    fn url(&self, template: &str, org: &str, field: &str, id: &str) -> String {
        let path = template
            .replace("{org}", org)
            .replace("{field}", field)
            .replace("{id}", id);
        format!("{}{path}", self.base)
    }

    /// One page: (items, next token).
    async fn page(
        &self,
        url: &str,
        query: &[(&str, &str)],
        token: Option<&str>,
    ) -> Result<(Vec<Value>, Option<String>)> {
        let size = self.spec.page_size.to_string();
        let mut q: Vec<(&str, &str)> = query.to_vec();
        let page_no: usize = token.and_then(|t| t.parse().ok()).unwrap_or(0);
        let page_s = page_no.to_string();
        match (self.spec.paging, token) {
            (RestPaging::ItemsNext, Some(t)) => q.push(("cursor", t)),
            (RestPaging::Bookmark, Some(t)) => q.push(("bookmark", t)),
            (RestPaging::JsonApi, Some(t)) => q.push(("page[cursor]", t)),
            (RestPaging::PageNumber, _) => {
                q.push(("page", &page_s));
                q.push(("pageSize", &size));
            }
            _ => {}
        }
        let v: Value = self
            .client
            .json(
                &Request::get(url)
                    .header("Accept", "application/json")
                    .query(&q),
            )
            .await?;
        let bad = |what: &str| Error::protocol(self.slug(), format!("list without {what}"));
        let arr = |v: Option<&Value>, what: &str| -> Result<Vec<Value>> {
            v.and_then(Value::as_array)
                .cloned()
                .ok_or_else(|| bad(what))
        };
        Ok(match self.spec.paging {
            RestPaging::ItemsNext => (
                arr(v.get("items"), "items")?,
                v.get("next").and_then(Value::as_str).map(str::to_owned),
            ),
            RestPaging::PageNumber => {
                let items = arr(v.get("items"), "items")?;
                let total = v
                    .get("totalCount")
                    .and_then(Value::as_u64)
                    .ok_or_else(|| bad("totalCount"))? as usize;
                let seen = (page_no + 1) * items.len();
                let next = (!items.is_empty() && seen < total).then(|| (page_no + 1).to_string());
                (items, next)
            }
            RestPaging::Bookmark => {
                let items = arr(v.get("result"), "result")?;
                let b = v.get("bookmark");
                let more = b
                    .and_then(|b| b.get("moreResults"))
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                let next = b
                    .and_then(|b| b.get("token"))
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                (items, if more { next } else { None })
            }
            RestPaging::BareArray => (arr(Some(&v), "array")?, None),
            RestPaging::JsonApi => {
                let items = arr(v.get("data"), "data")?
                    .into_iter()
                    .map(|d| {
                        let mut attrs = d
                            .get("attributes")
                            .cloned()
                            .unwrap_or(Value::Object(Default::default()));
                        if let (Some(m), Some(id)) = (attrs.as_object_mut(), d.get("id")) {
                            m.insert("id".into(), id.clone());
                        }
                        attrs
                    })
                    .collect();
                let next = v
                    .pointer("/links/next")
                    .and_then(Value::as_str)
                    .and_then(|n| n.split_once("page[cursor]=").map(|(_, c)| c.to_owned()));
                (items, next)
            }
        })
    }

    async fn all(&self, url: &str, query: &[(&str, &str)]) -> Result<Vec<Value>> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..10_000 {
            let (items, next) = self.page(url, query, token.as_deref()).await?;
            out.extend(items);
            match next {
                Some(n) if Some(&n) != token.as_ref() => token = Some(n),
                Some(_) => return Err(Error::protocol(self.slug(), "repeated page token")),
                None => return Ok(out),
            }
        }
        Err(Error::protocol(self.slug(), "too many pages"))
    }

    /// Every item of a list at `path` (below the base, `{org}` replaced), paged in the spec's style: for the
    /// adapter's own endpoints beyond organizations, fields and files (irrigation, ...).
    pub async fn list(&self, path: &str, org: &str, query: &[(&str, &str)]) -> Result<Vec<Value>> {
        self.all(&self.url(path, org, "", ""), query).await
    }

    /// Organizations (or the implicit one).
    pub async fn organizations(&self, implicit_name: &str) -> Result<Vec<ProviderOrganization>> {
        let Some(path) = self.spec.organizations else {
            return Ok(vec![ProviderOrganization {
                id: IMPLICIT_ORG.into(),
                name: implicit_name.into(),
                connected: true,
                connection_uri: None,
            }]);
        };
        let items = self.all(&self.url(path, "", "", ""), &[]).await?;
        items
            .iter()
            .map(|o| {
                Ok(ProviderOrganization {
                    id: text(o, self.spec.keys.id)
                        .ok_or_else(|| Error::protocol(self.slug(), "organization without id"))?,
                    name: text(o, self.spec.keys.name).unwrap_or_default(),
                    connected: true,
                    connection_uri: None,
                })
            })
            .collect()
    }

    /// Fields with boundaries.
    pub async fn fields(&self, org: &str) -> Result<Vec<ProviderField>> {
        let path = self
            .spec
            .fields
            .ok_or_else(|| Error::protocol(self.slug(), "no field path"))?;
        let items = self.all(&self.url(path, org, "", ""), &[]).await?;
        let k = self.spec.keys;
        let mut fields: Vec<ProviderField> = items
            .iter()
            .map(|f| {
                let boundary = match self.spec.boundaries {
                    RestBoundaries::Inline(key) => f.get(key).and_then(geojson_multipolygon),
                    _ => None,
                };
                Ok(ProviderField {
                    id: text(f, k.id)
                        .ok_or_else(|| Error::protocol(self.slug(), "field without id"))?,
                    name: text(f, k.name).unwrap_or_default(),
                    organization_id: org.to_owned(),
                    farm_id: text(f, "farmId"),
                    grower_id: text(f, "growerId"),
                    boundary,
                })
            })
            .collect::<Result<_>>()?;
        let attach = |fields: &mut Vec<ProviderField>, list: Vec<Value>| {
            for b in list {
                let (Some(fid), Some(mp)) = (
                    text(&b, "fieldId"),
                    b.get("geometry").and_then(geojson_multipolygon),
                ) else {
                    continue;
                };
                if let Some(f) = fields.iter_mut().find(|f| f.id == fid) {
                    f.boundary = Some(mp);
                }
            }
        };
        match self.spec.boundaries {
            RestBoundaries::PerField(path) => {
                for i in 0..fields.len() {
                    let id = fields[i].id.clone();
                    let list = self.all(&self.url(path, org, &id, ""), &[]).await?;
                    attach(&mut fields, list);
                }
            }
            RestBoundaries::List(path) => {
                let list = self.all(&self.url(path, org, "", ""), &[]).await?;
                attach(&mut fields, list);
            }
            _ => {}
        }
        Ok(fields)
    }

    /// One page of machine files.
    pub async fn machine_files(
        &self,
        org: &str,
        since: Option<OffsetDateTime>,
        cursor: Option<&str>,
    ) -> Result<FilePage> {
        let path = self
            .spec
            .files
            .ok_or_else(|| Error::protocol(self.slug(), "no file path"))?;
        let (since, token) = match cursor {
            Some(c) => {
                let (s, t) = decode_cursor(self.slug(), c)?;
                (s, Some(t))
            }
            None => (since.map(|s| s.unix_timestamp()), None),
        };
        let since_s = since.map(rfc3339);
        let mut q = Vec::new();
        if let Some(s) = &since_s {
            q.push((self.spec.since_param, s.as_str()));
        }
        let (items, next) = self
            .page(&self.url(path, org, "", ""), &q, token.as_deref())
            .await?;
        let k = self.spec.keys;
        let files = items
            .iter()
            .map(|f| {
                Ok(MachineFileDescriptor {
                    id: text(f, k.id)
                        .ok_or_else(|| Error::protocol(self.slug(), "file without id"))?,
                    name: text(f, k.file_name).unwrap_or_default(),
                    organization_id: org.to_owned(),
                    created_time: text(f, k.created),
                    size: f.get(k.size).and_then(Value::as_u64),
                    format: text(f, "type"),
                    download_ref: None,
                })
            })
            .collect::<Result<_>>()?;
        Ok(FilePage {
            files,
            next_cursor: next.map(|n| encode_cursor(since, &n)),
            changes_cursor: None,
        })
    }

    /// The bytes of a file.
    pub fn download(&self, file: &MachineFileDescriptor) -> Result<ByteStream> {
        let path = self
            .spec
            .file
            .ok_or_else(|| Error::protocol(self.slug(), "no download path"))?;
        let url = self.url(path, &file.organization_id, "", &file.id);
        let req = Request::get(url).header("Accept", "application/zip");
        Ok(download(
            self.client.clone(),
            req,
            self.spec.download,
            file.size,
        ))
    }
}
