//! XML element tree → typed model, with warnings for everything unexpected.

use std::borrow::Cow;
use std::collections::HashMap;
use std::str::FromStr;

use crate::error::{Warning, WarningKind, Warnings};
use crate::grid::Grid;
use crate::model::*;
use crate::taskdata::TaskData;
use crate::timelog::parse_hex_u16;
use crate::xml::Node;

/// Parsing state shared by every file of a data set.
#[derive(Debug, Default)]
pub(crate) struct Ctx {
    pub(crate) file: String,
    pub(crate) warnings: Warnings,
    /// id → (element code, file) of every object with an XML id.
    ids: HashMap<String, (String, String)>,
    refs: Vec<PendingRef>,
}

#[derive(Debug)]
struct PendingRef {
    target: String,
    code: &'static str,
    file: String,
    element: String,
    attribute: &'static str,
}

impl Ctx {
    pub(crate) fn warn(&mut self, kind: WarningKind, element: &str, message: impl Into<String>) {
        let w = Warning::new(kind, message)
            .file(self.file.clone())
            .element(element);
        self.warnings.push(w);
    }

    fn warn_attr(
        &mut self,
        kind: WarningKind,
        element: &str,
        attribute: &str,
        message: impl Into<String>,
    ) {
        let w = Warning::new(kind, message)
            .file(self.file.clone())
            .element(element)
            .attribute(attribute);
        self.warnings.push(w);
    }

    /// Registers an object id; a second object with the same id is a warning.
    fn id(&mut self, code: &str, id: &str, label: &str) {
        if id.is_empty() {
            return;
        }
        if let Some((other_code, other_file)) = self.ids.get(id) {
            let msg = format!("duplicate id `{id}` (first used by a {other_code} in {other_file})");
            self.warn_attr(WarningKind::DuplicateId, label, "A", msg);
        } else {
            self.ids
                .insert(id.to_owned(), (code.to_owned(), self.file.clone()));
        }
    }

    /// Records a reference to check once every file is read.
    fn reference(
        &mut self,
        code: &'static str,
        target: &Option<String>,
        element: &str,
        attribute: &'static str,
    ) {
        if let Some(t) = target {
            self.refs.push(PendingRef {
                target: t.clone(),
                code,
                file: self.file.clone(),
                element: element.to_owned(),
                attribute,
            });
        }
    }

    /// Warns about references to ids that do not exist.
    pub(crate) fn check_references(&mut self) {
        let refs = std::mem::take(&mut self.refs);
        for r in refs {
            let ok = self
                .ids
                .get(&r.target)
                .is_some_and(|(code, _)| code == r.code);
            if !ok {
                let found = match self.ids.get(&r.target) {
                    Some((code, _)) => format!(" (it is a {code})"),
                    None => String::new(),
                };
                self.warnings.push(
                    Warning::new(
                        WarningKind::DanglingReference,
                        format!(
                            "reference to {} `{}` that does not exist{found}",
                            r.code, r.target
                        ),
                    )
                    .file(r.file)
                    .element(r.element)
                    .attribute(r.attribute),
                );
            }
        }
    }

    pub(crate) fn has_id(&self, id: &str) -> bool {
        self.ids.contains_key(id)
    }
}

/// Reads the attributes of one element, remembering which were used.
struct Attrs<'e> {
    el: &'e Node<'e>,
    /// Bit i: attribute i was read (attributes past 64 are in `used_more`).
    used: u64,
    used_more: Vec<bool>,
    label: Cow<'static, str>,
}

fn is_proprietary_name(name: &str) -> bool {
    let Some(rest) = name.strip_prefix('P') else {
        return false;
    };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    digits > 0 && rest.as_bytes().get(digits) == Some(&b'_')
}

impl<'e> Attrs<'e> {
    fn new(el: &'e Node<'e>) -> Self {
        // Built by hand: `format!` is a measurable share of reading a large device description.
        let name = el.name();
        let label = match el.attribute("A") {
            Some(id) if !id.is_empty() && id.len() <= 32 => {
                let mut l = String::with_capacity(name.len() + 1 + id.len());
                l.push_str(name);
                l.push(' ');
                l.push_str(id);
                l
            }
            _ => name.to_owned(),
        };
        Self::labelled(el, label)
    }

    /// With a fixed label (elements without an id: no formatting per element).
    fn labelled(el: &'e Node<'e>, label: impl Into<Cow<'static, str>>) -> Self {
        Attrs {
            el,
            used: 0,
            used_more: vec![false; el.attributes.len().saturating_sub(64)],
            label: label.into(),
        }
    }

    fn is_used(&self, i: usize) -> bool {
        match i.checked_sub(64) {
            None => self.used & (1 << i) != 0,
            Some(j) => self.used_more.get(j).copied().unwrap_or(false),
        }
    }

    fn raw(&mut self, key: &str) -> Option<&'e str> {
        let i = self.el.attributes.iter().position(|(k, _)| k == key)?;
        match i.checked_sub(64) {
            None => self.used |= 1 << i,
            Some(j) => {
                if let Some(u) = self.used_more.get_mut(j) {
                    *u = true;
                }
            }
        }
        self.el.attributes.get(i).map(|(_, v)| &**v)
    }

    /// An optional string; empty counts as absent.
    fn s(&mut self, key: &str) -> Option<String> {
        self.raw(key)
            .filter(|v| !v.trim().is_empty())
            .map(str::to_owned)
    }

    /// A required string; missing gives a warning and `""`.
    fn req(&mut self, cx: &mut Ctx, key: &str) -> String {
        match self.s(key) {
            Some(v) => v,
            None => {
                let label = self.label.clone();
                cx.warn_attr(
                    WarningKind::MissingAttribute,
                    &label,
                    key,
                    "required attribute missing",
                );
                String::new()
            }
        }
    }

    fn n<T: FromStr>(&mut self, cx: &mut Ctx, key: &str) -> Option<T> {
        let v = self.raw(key)?.trim();
        if v.is_empty() {
            return None;
        }
        match v.parse::<T>() {
            Ok(x) => Some(x),
            Err(_) => {
                // Integers written with a fraction of zero ("12.0") are accepted.
                if let Some(x) = v
                    .parse::<f64>()
                    .ok()
                    .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                    .and_then(|f| format!("{f:.0}").parse::<T>().ok())
                {
                    return Some(x);
                }
                let label = self.label.clone();
                cx.warn_attr(
                    WarningKind::InvalidValue,
                    &label,
                    key,
                    format!("value `{v}` unreadable"),
                );
                None
            }
        }
    }

    fn req_n<T: FromStr + Default>(&mut self, cx: &mut Ctx, key: &str) -> T {
        if self.raw(key).is_none_or(|v| v.trim().is_empty()) {
            let label = self.label.clone();
            cx.warn_attr(
                WarningKind::MissingAttribute,
                &label,
                key,
                "required attribute missing",
            );
            return T::default();
        }
        self.n(cx, key).unwrap_or_default()
    }

    fn f(&mut self, cx: &mut Ctx, key: &str) -> Option<f64> {
        self.n::<f64>(cx, key).filter(|v| v.is_finite())
    }

    fn hex(&mut self, cx: &mut Ctx, key: &str) -> Option<u16> {
        let v = self.raw(key)?;
        if v.trim().is_empty() {
            return None;
        }
        let parsed = parse_hex_u16(v);
        if parsed.is_none() {
            let label = self.label.clone();
            cx.warn_attr(
                WarningKind::InvalidValue,
                &label,
                key,
                format!("DDI `{v}` is not 4 hex digits"),
            );
        }
        parsed
    }

    fn req_hex(&mut self, cx: &mut Ctx, key: &str) -> u16 {
        match self.hex(cx, key) {
            Some(v) => v,
            None => {
                if self.raw(key).is_none() {
                    let label = self.label.clone();
                    cx.warn_attr(
                        WarningKind::MissingAttribute,
                        &label,
                        key,
                        "required attribute missing",
                    );
                }
                0xFFFF
            }
        }
    }

    /// Attributes not read: proprietary ones kept quietly, others kept with a warning.
    fn extra(self, cx: &mut Ctx) -> ExtraAttributes {
        let mut out = Vec::new();
        for (i, (k, v)) in self.el.attributes.iter().enumerate() {
            if self.is_used(i) {
                continue;
            }
            if !is_proprietary_name(k) && !k.starts_with("xmlns") && !k.starts_with("xsi:") {
                cx.warn_attr(
                    WarningKind::UnknownAttribute,
                    &self.label,
                    k,
                    "unknown attribute kept",
                );
            }
            out.push((k.to_string(), v.to_string()));
        }
        out
    }
}

/// Keeps an element this crate does not model, warning unless it is proprietary.
fn unknown(
    cx: &mut Ctx,
    parent: &str,
    el: &Node<'_>,
    keep: Option<&mut Vec<crate::xml::XmlElement>>,
) {
    let proprietary = is_proprietary_name(&el.name);
    match keep {
        Some(list) => {
            if !proprietary {
                cx.warn(
                    WarningKind::UnknownElement,
                    parent,
                    format!("unknown element `{}` kept", el.name),
                );
            }
            list.push(el.to_element());
        }
        None => cx.warn(
            WarningKind::UnknownElement,
            parent,
            format!("unknown element `{}` skipped", el.name),
        ),
    }
}

/// Reads the root element's attributes.
pub(crate) fn root_attributes(cx: &mut Ctx, el: &Node<'_>, td: &mut TaskData) {
    let mut a = Attrs::new(el);
    td.version_major = a.n(cx, "VersionMajor");
    td.version_minor = a.n(cx, "VersionMinor");
    td.management_software_manufacturer = a.s("ManagementSoftwareManufacturer");
    td.management_software_version = a.s("ManagementSoftwareVersion");
    td.task_controller_manufacturer = a.s("TaskControllerManufacturer");
    td.task_controller_version = a.s("TaskControllerVersion");
    td.data_transfer_origin = a.n(cx, "DataTransferOrigin");
    td.lang = a.s("lang");
    if td.version_major.is_none() {
        cx.warn_attr(
            WarningKind::MissingAttribute,
            &el.name,
            "VersionMajor",
            "version missing",
        );
    }
    td.extra = a.extra(cx);
}

/// Adds one top-level element (child of the root or of an `XFC`).
pub(crate) fn top_level(cx: &mut Ctx, el: &Node<'_>, td: &mut TaskData) {
    match el.name() {
        "CTR" => td.customers.push(customer(cx, el)),
        "FRM" => td.farms.push(farm(cx, el)),
        "PFD" => td.partfields.push(partfield(cx, el)),
        "WKR" => td.workers.push(worker(cx, el)),
        "PDT" => td.products.push(product(cx, el)),
        "PGP" => td.product_groups.push(product_group(cx, el)),
        "CTP" => td.crop_types.push(crop_type(cx, el)),
        "VPN" => td.value_presentations.push(vpn(cx, el)),
        "CCT" => td.coded_comments.push(coded_comment(cx, el)),
        "CCG" => td.coded_comment_groups.push(named(cx, el, "CCG")),
        "CLD" => td.colour_legends.push(colour_legend(cx, el)),
        "CPC" => td.cultural_practices.push(cultural_practice(cx, el)),
        "OTQ" => td.operation_techniques.push(named(cx, el, "OTQ")),
        "BSN" => td.base_stations.push(base_station(cx, el)),
        "AFE" => td.attached_files.push(attached_file(cx, el)),
        "TCC" => {
            let tcc = tcc(cx, el);
            if td.task_controller_capabilities.is_some() {
                cx.warn(
                    WarningKind::DuplicateReference,
                    "TCC",
                    "more than one TCC; the first is kept",
                );
            } else {
                td.task_controller_capabilities = Some(tcc);
            }
        }
        "DVC" => td.devices.push(device(cx, el)),
        "TSK" => td.tasks.push(task(cx, el)),
        "XFR" => {
            let mut a = Attrs::new(el);
            let file_name = a.req(cx, "A");
            let file_type = a.n(cx, "B");
            a.extra(cx);
            td.external_files.push(ExternalFileReference {
                file_name,
                file_type,
                merged: false,
            });
        }
        _ => unknown(cx, "ISO11783_TaskData", el, Some(&mut td.other_elements)),
    }
}

fn customer(cx: &mut Ctx, el: &Node<'_>) -> Customer {
    let mut a = Attrs::new(el);
    let c = Customer {
        id: a.req(cx, "A"),
        last_name: a.req(cx, "B"),
        first_name: a.s("C"),
        street: a.s("D"),
        po_box: a.s("E"),
        postal_code: a.s("F"),
        city: a.s("G"),
        state: a.s("H"),
        country: a.s("I"),
        phone: a.s("J"),
        mobile: a.s("K"),
        fax: a.s("L"),
        email: a.s("M"),
        extra: Vec::new(),
    };
    cx.id("CTR", &c.id, &a.label);
    no_children(cx, el, &a.label);
    Customer {
        extra: a.extra(cx),
        ..c
    }
}

fn no_children(cx: &mut Ctx, el: &Node<'_>, label: &str) {
    for c in &el.children {
        unknown(cx, label, c, None);
    }
}

fn farm(cx: &mut Ctx, el: &Node<'_>) -> Farm {
    let mut a = Attrs::new(el);
    let f = Farm {
        id: a.req(cx, "A"),
        designator: a.req(cx, "B"),
        street: a.s("C"),
        po_box: a.s("D"),
        postal_code: a.s("E"),
        city: a.s("F"),
        state: a.s("G"),
        country: a.s("H"),
        customer_id: a.s("I"),
        extra: Vec::new(),
    };
    cx.id("FRM", &f.id, &a.label);
    cx.reference("CTR", &f.customer_id, &a.label, "I");
    no_children(cx, el, &a.label);
    Farm {
        extra: a.extra(cx),
        ..f
    }
}

fn worker(cx: &mut Ctx, el: &Node<'_>) -> Worker {
    let mut a = Attrs::new(el);
    let w = Worker {
        id: a.req(cx, "A"),
        last_name: a.req(cx, "B"),
        first_name: a.s("C"),
        street: a.s("D"),
        po_box: a.s("E"),
        postal_code: a.s("F"),
        city: a.s("G"),
        state: a.s("H"),
        country: a.s("I"),
        phone: a.s("J"),
        mobile: a.s("K"),
        licence_number: a.s("L"),
        email: a.s("M"),
        extra: Vec::new(),
    };
    cx.id("WKR", &w.id, &a.label);
    no_children(cx, el, &a.label);
    Worker {
        extra: a.extra(cx),
        ..w
    }
}

fn partfield(cx: &mut Ctx, el: &Node<'_>) -> Partfield {
    let mut a = Attrs::new(el);
    let mut p = Partfield {
        id: a.req(cx, "A"),
        code: a.s("B"),
        designator: a.req(cx, "C"),
        area: a.n(cx, "D"),
        customer_id: a.s("E"),
        farm_id: a.s("F"),
        crop_type_id: a.s("G"),
        crop_variety_id: a.s("H"),
        field_id: a.s("I"),
        ..Default::default()
    };
    let label = a.label.clone();
    cx.id("PFD", &p.id, &label);
    cx.reference("CTR", &p.customer_id, &label, "E");
    cx.reference("FRM", &p.farm_id, &label, "F");
    cx.reference("CTP", &p.crop_type_id, &label, "G");
    cx.reference("CVT", &p.crop_variety_id, &label, "H");
    cx.reference("PFD", &p.field_id, &label, "I");
    for c in &el.children {
        match c.name() {
            "PLN" => p.polygons.push(polygon(cx, c)),
            "LSG" => p.line_strings.push(line_string(cx, c)),
            "PNT" => p.points.push(point(cx, c)),
            "GGP" => p.guidance_groups.push(guidance_group(cx, c)),
            _ => unknown(cx, &label, c, Some(&mut p.other_elements)),
        }
    }
    p.extra = a.extra(cx);
    p
}

fn polygon(cx: &mut Ctx, el: &Node<'_>) -> Polygon {
    let mut a = Attrs::labelled(el, "PLN");
    let mut p = Polygon {
        polygon_type: a.req_n(cx, "A"),
        designator: a.s("B"),
        area: a.n(cx, "C"),
        colour: a.n(cx, "D"),
        id: a.s("E"),
        ..Default::default()
    };
    a.label = match &p.id {
        Some(id) => format!("PLN {id}").into(),
        None => "PLN".into(),
    };
    if let Some(id) = &p.id {
        cx.id("PLN", id, &a.label);
    }
    for c in &el.children {
        match c.name() {
            "LSG" => p.line_strings.push(line_string(cx, c)),
            _ => unknown(cx, &a.label, c, None),
        }
    }
    p.extra = a.extra(cx);
    p
}

fn line_string(cx: &mut Ctx, el: &Node<'_>) -> LineString {
    let mut a = Attrs::labelled(el, "LSG");
    let mut l = LineString {
        line_string_type: a.req_n(cx, "A"),
        designator: a.s("B"),
        width: a.n(cx, "C"),
        length: a.n(cx, "D"),
        colour: a.n(cx, "E"),
        id: a.s("F"),
        ..Default::default()
    };
    if let Some(id) = &l.id {
        cx.id("LSG", id, "LSG");
    }
    l.points.reserve(el.children.len());
    for c in &el.children {
        match c.name() {
            "PNT" => l.points.push(point(cx, c)),
            _ => unknown(cx, "LSG", c, None),
        }
    }
    l.extra = a.extra(cx);
    l
}

fn point(cx: &mut Ctx, el: &Node<'_>) -> Point {
    let mut a = Attrs::labelled(el, "PNT");
    // A binary point file (`J`) holds what the element leaves empty: the tri-state rule of time logs, with
    // the required `A`, `C`, `D` also read from the file when absent (as isoxml_dart does).
    let binary_layout = a.s("J").map(|_| {
        let mut stored = |key: &str, required: bool| match a.raw(key) {
            None => required,
            Some(v) => v.trim().is_empty(),
        };
        PointFileLayout {
            point_type: stored("A", true),
            north: stored("C", true),
            east: stored("D", true),
            up: stored("E", false),
            colour: stored("F", false),
            horizontal_accuracy: stored("H", false),
            vertical_accuracy: stored("I", false),
        }
    });
    let north = a.f(cx, "C");
    let east = a.f(cx, "D");
    if binary_layout.is_none() && (north.is_none() || east.is_none()) {
        cx.warn(
            WarningKind::MissingAttribute,
            "PNT",
            "point without usable C/D coordinates",
        );
    }
    let point_type = if binary_layout.is_some_and(|l| l.point_type) {
        a.raw("A");
        0
    } else {
        a.req_n(cx, "A")
    };
    let p = Point {
        point_type,
        designator: a.s("B"),
        north: north.unwrap_or(0.0),
        east: east.unwrap_or(0.0),
        up: a.n(cx, "E"),
        colour: a.n(cx, "F"),
        id: a.s("G"),
        horizontal_accuracy: a.f(cx, "H"),
        vertical_accuracy: a.f(cx, "I"),
        file_name: a.s("J"),
        file_length: a.n(cx, "K"),
        binary_layout,
        binary_points: Vec::new(),
        extra: Vec::new(),
    };
    if let Some(id) = &p.id {
        cx.id("PNT", id, "PNT");
    }
    no_children(cx, el, "PNT");
    Point {
        extra: a.extra(cx),
        ..p
    }
}

fn guidance_group(cx: &mut Ctx, el: &Node<'_>) -> GuidanceGroup {
    let mut a = Attrs::new(el);
    let mut g = GuidanceGroup {
        id: a.req(cx, "A"),
        designator: a.s("B"),
        ..Default::default()
    };
    let label = a.label.clone();
    cx.id("GGP", &g.id, &label);
    for c in &el.children {
        match c.name() {
            "GPN" => g.patterns.push(guidance_pattern(cx, c)),
            "PLN" => g.polygons.push(polygon(cx, c)),
            _ => unknown(cx, &label, c, None),
        }
    }
    g.extra = a.extra(cx);
    g
}

fn guidance_pattern(cx: &mut Ctx, el: &Node<'_>) -> GuidancePattern {
    let mut a = Attrs::new(el);
    let mut g = GuidancePattern {
        id: a.req(cx, "A"),
        designator: a.s("B"),
        pattern_type: a.n(cx, "C"),
        options: a.n(cx, "D"),
        propagation_direction: a.n(cx, "E"),
        extension: a.n(cx, "F"),
        heading: a.f(cx, "G"),
        radius: a.n(cx, "H"),
        gnss_method: a.n(cx, "I"),
        horizontal_accuracy: a.f(cx, "J"),
        vertical_accuracy: a.f(cx, "K"),
        base_station_id: a.s("L"),
        original_srid: a.s("M"),
        swaths_left: a.n(cx, "N"),
        swaths_right: a.n(cx, "O"),
        ..Default::default()
    };
    let label = a.label.clone();
    cx.id("GPN", &g.id, &label);
    cx.reference("BSN", &g.base_station_id, &label, "L");
    for c in &el.children {
        match c.name() {
            "LSG" => g.line_strings.push(line_string(cx, c)),
            "PLN" => g.polygons.push(polygon(cx, c)),
            _ => unknown(cx, &label, c, None),
        }
    }
    g.extra = a.extra(cx);
    g
}

fn base_station(cx: &mut Ctx, el: &Node<'_>) -> BaseStation {
    let mut a = Attrs::new(el);
    let b = BaseStation {
        id: a.req(cx, "A"),
        designator: a.s("B"),
        north: a.f(cx, "C"),
        east: a.f(cx, "D"),
        up: a.n(cx, "E"),
        extra: Vec::new(),
    };
    cx.id("BSN", &b.id, &a.label);
    no_children(cx, el, &a.label);
    BaseStation {
        extra: a.extra(cx),
        ..b
    }
}

fn product(cx: &mut Ctx, el: &Node<'_>) -> Product {
    let mut a = Attrs::new(el);
    let mut p = Product {
        id: a.req(cx, "A"),
        designator: a.req(cx, "B"),
        product_group_id: a.s("C"),
        value_presentation_id: a.s("D"),
        quantity_ddi: a.hex(cx, "E"),
        product_type: a.n(cx, "F"),
        mixture_recipe_quantity: a.n(cx, "G"),
        density_mass_per_volume: a.n(cx, "H"),
        density_mass_per_count: a.n(cx, "I"),
        density_volume_per_count: a.n(cx, "J"),
        ..Default::default()
    };
    let label = a.label.clone();
    cx.id("PDT", &p.id, &label);
    cx.reference("PGP", &p.product_group_id, &label, "C");
    cx.reference("VPN", &p.value_presentation_id, &label, "D");
    for c in &el.children {
        match c.name() {
            "PRN" => {
                let mut r = Attrs::new(c);
                let rel = ProductRelation {
                    product_id: r.req(cx, "A"),
                    quantity_value: r.n(cx, "B"),
                };
                cx.reference("PDT", &Some(rel.product_id.clone()), "PRN", "A");
                r.extra(cx);
                p.relations.push(rel);
            }
            _ => unknown(cx, &label, c, None),
        }
    }
    p.extra = a.extra(cx);
    p
}

fn product_group(cx: &mut Ctx, el: &Node<'_>) -> ProductGroup {
    let mut a = Attrs::new(el);
    let g = ProductGroup {
        id: a.req(cx, "A"),
        designator: a.req(cx, "B"),
        group_type: a.n(cx, "C"),
        extra: Vec::new(),
    };
    cx.id("PGP", &g.id, &a.label);
    no_children(cx, el, &a.label);
    ProductGroup {
        extra: a.extra(cx),
        ..g
    }
}

fn crop_type(cx: &mut Ctx, el: &Node<'_>) -> CropType {
    let mut a = Attrs::new(el);
    let mut t = CropType {
        id: a.req(cx, "A"),
        designator: a.req(cx, "B"),
        product_group_id: a.s("C"),
        ..Default::default()
    };
    let label = a.label.clone();
    cx.id("CTP", &t.id, &label);
    cx.reference("PGP", &t.product_group_id, &label, "C");
    for c in &el.children {
        match c.name() {
            "CVT" => {
                let mut v = Attrs::new(c);
                let cvt = CropVariety {
                    id: v.req(cx, "A"),
                    designator: v.req(cx, "B"),
                    product_id: v.s("C"),
                    extra: Vec::new(),
                };
                cx.id("CVT", &cvt.id, &v.label);
                cx.reference("PDT", &cvt.product_id, &v.label, "C");
                t.varieties.push(CropVariety {
                    extra: v.extra(cx),
                    ..cvt
                });
            }
            _ => unknown(cx, &label, c, None),
        }
    }
    t.extra = a.extra(cx);
    t
}

fn vpn(cx: &mut Ctx, el: &Node<'_>) -> ValuePresentationElement {
    let mut a = Attrs::new(el);
    let v = ValuePresentationElement {
        id: a.req(cx, "A"),
        offset: a.req_n(cx, "B"),
        scale: a.f(cx, "C").unwrap_or(1.0),
        decimals: a.req_n(cx, "D"),
        unit: a.s("E"),
        colour_legend_id: a.s("F"),
        extra: Vec::new(),
    };
    cx.id("VPN", &v.id, &a.label);
    cx.reference("CLD", &v.colour_legend_id, &a.label, "F");
    no_children(cx, el, &a.label);
    ValuePresentationElement {
        extra: a.extra(cx),
        ..v
    }
}

fn coded_comment(cx: &mut Ctx, el: &Node<'_>) -> CodedComment {
    let mut a = Attrs::new(el);
    let mut c = CodedComment {
        id: a.req(cx, "A"),
        designator: a.req(cx, "B"),
        scope: a.n(cx, "C"),
        group_id: a.s("D"),
        ..Default::default()
    };
    let label = a.label.clone();
    cx.id("CCT", &c.id, &label);
    cx.reference("CCG", &c.group_id, &label, "D");
    for ch in &el.children {
        match ch.name() {
            "CCL" => {
                let mut l = Attrs::new(ch);
                let id = l.req(cx, "A");
                let designator = l.req(cx, "B");
                cx.id("CCL", &id, &l.label);
                l.extra(cx);
                c.list_values.push((id, designator));
            }
            _ => unknown(cx, &label, ch, None),
        }
    }
    c.extra = a.extra(cx);
    c
}

fn named(cx: &mut Ctx, el: &Node<'_>, code: &str) -> Named {
    let mut a = Attrs::new(el);
    let n = Named {
        id: a.req(cx, "A"),
        designator: a.req(cx, "B"),
        extra: Vec::new(),
    };
    cx.id(code, &n.id, &a.label);
    no_children(cx, el, &a.label);
    Named {
        extra: a.extra(cx),
        ..n
    }
}

fn colour_legend(cx: &mut Ctx, el: &Node<'_>) -> ColourLegend {
    let mut a = Attrs::new(el);
    let mut l = ColourLegend {
        id: a.req(cx, "A"),
        default_colour: a.n(cx, "B"),
        ..Default::default()
    };
    let label = a.label.clone();
    cx.id("CLD", &l.id, &label);
    for c in &el.children {
        match c.name() {
            "CRG" => {
                let mut r = Attrs::new(c);
                let range = (r.req_n(cx, "A"), r.req_n(cx, "B"), r.req_n(cx, "C"));
                r.extra(cx);
                l.ranges.push(range);
            }
            _ => unknown(cx, &label, c, None),
        }
    }
    l.extra = a.extra(cx);
    l
}

fn cultural_practice(cx: &mut Ctx, el: &Node<'_>) -> CulturalPractice {
    let mut a = Attrs::new(el);
    let mut p = CulturalPractice {
        id: a.req(cx, "A"),
        designator: a.req(cx, "B"),
        ..Default::default()
    };
    let label = a.label.clone();
    cx.id("CPC", &p.id, &label);
    for c in &el.children {
        match c.name() {
            "OTR" => {
                let mut r = Attrs::new(c);
                let id = r.req(cx, "A");
                cx.reference("OTQ", &Some(id.clone()), "OTR", "A");
                r.extra(cx);
                p.operation_technique_ids.push(id);
            }
            _ => unknown(cx, &label, c, None),
        }
    }
    p.extra = a.extra(cx);
    p
}

fn attached_file(cx: &mut Ctx, el: &Node<'_>) -> AttachedFile {
    let mut a = Attrs::new(el);
    let f = AttachedFile {
        file_name: a.req(cx, "A"),
        preserve: a.n(cx, "B"),
        manufacturer_gln: a.s("C"),
        file_type: a.n(cx, "D"),
        version: a.s("E"),
        length: a.n(cx, "F"),
        present: false,
        extra: Vec::new(),
    };
    no_children(cx, el, &a.label);
    AttachedFile {
        extra: a.extra(cx),
        ..f
    }
}

fn tcc(cx: &mut Ctx, el: &Node<'_>) -> TaskControllerCapabilities {
    let mut a = Attrs::labelled(el, "TCC");
    let t = TaskControllerCapabilities {
        client_name: a.s("A"),
        designator: a.s("B"),
        version: a.n(cx, "C"),
        provided_capabilities: a.n(cx, "D"),
        booms: a.n(cx, "E"),
        sections: a.n(cx, "F"),
        control_channels: a.n(cx, "G"),
        extra: Vec::new(),
    };
    no_children(cx, el, "TCC");
    TaskControllerCapabilities {
        extra: a.extra(cx),
        ..t
    }
}

const DET_BIT: u8 = 1;
const DPD_BIT: u8 = 2;
const DPT_BIT: u8 = 4;
const DVP_BIT: u8 = 8;

fn device(cx: &mut Ctx, el: &Node<'_>) -> Device {
    let mut a = Attrs::new(el);
    let mut d = Device {
        id: a.req(cx, "A"),
        designator: a.s("B"),
        software_version: a.s("C"),
        client_name: a.req(cx, "D"),
        serial_number: a.s("E"),
        structure_label: a.s("F"),
        localization_label: a.s("G"),
        ..Default::default()
    };
    let label = a.label.clone();
    cx.id("DVC", &d.id, &label);
    for c in &el.children {
        match c.name() {
            "DET" => {
                let mut e = Attrs::new(c);
                let mut det = DeviceElement {
                    id: e.req(cx, "A"),
                    object_id: e.req_n(cx, "B"),
                    element_type: e.req_n(cx, "C"),
                    designator: e.s("D"),
                    number: e.req_n(cx, "E"),
                    parent_object_id: e.req_n(cx, "F"),
                    ..Default::default()
                };
                let elabel = e.label.clone();
                cx.id("DET", &det.id, &elabel);
                for dor in &c.children {
                    match dor.name() {
                        "DOR" => {
                            let mut r = Attrs::new(dor);
                            let v: u16 = r.req_n(cx, "A");
                            r.extra(cx);
                            det.object_references.push(v);
                        }
                        _ => unknown(cx, &elabel, dor, None),
                    }
                }
                det.extra = e.extra(cx);
                d.elements.push(det);
            }
            "DPD" => {
                let mut p = Attrs::new(c);
                let dpd = DeviceProcessData {
                    object_id: p.req_n(cx, "A"),
                    ddi: p.req_hex(cx, "B"),
                    property: p.req_n(cx, "C"),
                    trigger_methods: p.req_n(cx, "D"),
                    designator: p.s("E"),
                    presentation_object_id: p.n(cx, "F"),
                    extra: Vec::new(),
                };
                no_children(cx, c, "DPD");
                d.process_data.push(DeviceProcessData {
                    extra: p.extra(cx),
                    ..dpd
                });
            }
            "DPT" => {
                let mut p = Attrs::new(c);
                let dpt = DeviceProperty {
                    object_id: p.req_n(cx, "A"),
                    ddi: p.req_hex(cx, "B"),
                    value: p.req_n(cx, "C"),
                    designator: p.s("D"),
                    presentation_object_id: p.n(cx, "E"),
                    extra: Vec::new(),
                };
                no_children(cx, c, "DPT");
                d.properties.push(DeviceProperty {
                    extra: p.extra(cx),
                    ..dpt
                });
            }
            "DVP" => {
                let mut p = Attrs::new(c);
                let dvp = DeviceValuePresentation {
                    object_id: p.req_n(cx, "A"),
                    offset: p.req_n(cx, "B"),
                    scale: p.f(cx, "C").unwrap_or(1.0),
                    decimals: p.req_n(cx, "D"),
                    unit: p.s("E"),
                    extra: Vec::new(),
                };
                no_children(cx, c, "DVP");
                d.value_presentations.push(DeviceValuePresentation {
                    extra: p.extra(cx),
                    ..dvp
                });
            }
            _ => unknown(cx, &label, c, Some(&mut d.other_elements)),
        }
    }
    // Object ids are unique within one device; references between them must resolve.
    let mut seen: HashMap<u16, &str> = HashMap::new();
    let objects = d
        .elements
        .iter()
        .map(|e| (e.object_id, "DET"))
        .chain(d.process_data.iter().map(|p| (p.object_id, "DPD")))
        .chain(d.properties.iter().map(|p| (p.object_id, "DPT")))
        .chain(d.value_presentations.iter().map(|p| (p.object_id, "DVP")));
    let mut dup_msgs = Vec::new();
    for (oid, code) in objects {
        if let Some(first) = seen.insert(oid, code) {
            dup_msgs.push(format!("object id {oid} used by a {first} and a {code}"));
        }
    }
    for m in dup_msgs {
        cx.warn(WarningKind::DuplicateId, &label, m);
    }
    // Which kinds of object each id names (a duplicate id may name several).
    let mut kinds: HashMap<u16, u8> = HashMap::with_capacity(seen.len());
    let all = d
        .elements
        .iter()
        .map(|e| (e.object_id, DET_BIT))
        .chain(d.process_data.iter().map(|p| (p.object_id, DPD_BIT)))
        .chain(d.properties.iter().map(|p| (p.object_id, DPT_BIT)))
        .chain(d.value_presentations.iter().map(|p| (p.object_id, DVP_BIT)));
    for (oid, bit) in all {
        *kinds.entry(oid).or_default() |= bit;
    }
    let is = |oid: u16, bits: u8| kinds.get(&oid).is_some_and(|k| k & bits != 0);
    let mut dangling = Vec::new();
    for e in &d.elements {
        for r in &e.object_references {
            if !is(*r, DPD_BIT | DPT_BIT) {
                dangling.push(format!(
                    "{} DOR references object {r} which is no DPD or DPT",
                    e.id
                ));
            }
        }
        if e.parent_object_id != 0 && !is(e.parent_object_id, DET_BIT) {
            dangling.push(format!(
                "{} has parent object {} which does not exist",
                e.id, e.parent_object_id
            ));
        }
    }
    // 65534/65535 are the null object id some writers use for "no presentation".
    let dvp_ok = |id: Option<u16>| id.is_none_or(|i| i >= 65534 || is(i, DVP_BIT));
    for p in &d.process_data {
        if !dvp_ok(p.presentation_object_id) {
            dangling.push(format!("DPD {} references a missing DVP", p.object_id));
        }
    }
    for p in &d.properties {
        if !dvp_ok(p.presentation_object_id) {
            dangling.push(format!("DPT {} references a missing DVP", p.object_id));
        }
    }
    for m in dangling {
        cx.warn(WarningKind::DanglingReference, &label, m);
    }
    d.extra = a.extra(cx);
    d
}

fn position(cx: &mut Ctx, el: &Node<'_>) -> Position {
    let mut a = Attrs::labelled(el, "PTN");
    let p = Position {
        north: a.f(cx, "A"),
        east: a.f(cx, "B"),
        up: a.n(cx, "C"),
        status: a.n(cx, "D"),
        pdop: a.f(cx, "E"),
        hdop: a.f(cx, "F"),
        satellites: a.n(cx, "G"),
        gps_utc_time: a.n(cx, "H"),
        gps_utc_date: a.n(cx, "I"),
        extra: Vec::new(),
    };
    no_children(cx, el, "PTN");
    Position {
        extra: a.extra(cx),
        ..p
    }
}

fn stamp(cx: &mut Ctx, el: &Node<'_>) -> AllocationStamp {
    let mut a = Attrs::labelled(el, "ASP");
    let mut s = AllocationStamp {
        start: a.s("A"),
        stop: a.s("B"),
        duration: a.n(cx, "C"),
        stamp_type: a.n(cx, "D"),
        positions: Vec::new(),
    };
    for c in &el.children {
        match c.name() {
            "PTN" => s.positions.push(position(cx, c)),
            _ => unknown(cx, "ASP", c, None),
        }
    }
    a.extra(cx);
    s
}

/// The `ASP` child of an allocation element; other children are unknown.
fn only_stamp(cx: &mut Ctx, el: &Node<'_>, label: &str) -> Option<AllocationStamp> {
    let mut out = None;
    for c in &el.children {
        match c.name() {
            "ASP" if out.is_none() => out = Some(stamp(cx, c)),
            _ => unknown(cx, label, c, None),
        }
    }
    out
}

fn pdv(cx: &mut Ctx, el: &Node<'_>) -> ProcessDataVariable {
    let mut a = Attrs::labelled(el, "PDV");
    let mut p = ProcessDataVariable {
        ddi: a.req_hex(cx, "A"),
        value: a.req_n(cx, "B"),
        product_id: a.s("C"),
        device_element_id: a.s("D"),
        value_presentation_id: a.s("E"),
        actual_cultural_practice_value: a.n(cx, "F"),
        element_type_instance_value: a.n(cx, "G"),
        ..Default::default()
    };
    cx.reference("PDT", &p.product_id, "PDV", "C");
    cx.reference("DET", &p.device_element_id, "PDV", "D");
    cx.reference("VPN", &p.value_presentation_id, "PDV", "E");
    for c in &el.children {
        match c.name() {
            "PDV" => p.children.push(pdv(cx, c)),
            _ => unknown(cx, "PDV", c, None),
        }
    }
    p.extra = a.extra(cx);
    p
}

fn task(cx: &mut Ctx, el: &Node<'_>) -> Task {
    let mut a = Attrs::new(el);
    let mut t = Task {
        id: a.req(cx, "A"),
        designator: a.s("B"),
        customer_id: a.s("C"),
        farm_id: a.s("D"),
        partfield_id: a.s("E"),
        responsible_worker_id: a.s("F"),
        status: a.req_n(cx, "G"),
        default_treatment_zone_code: a.n(cx, "H"),
        position_lost_treatment_zone_code: a.n(cx, "I"),
        out_of_field_treatment_zone_code: a.n(cx, "J"),
        ..Default::default()
    };
    let label = a.label.clone();
    cx.id("TSK", &t.id, &label);
    cx.reference("CTR", &t.customer_id, &label, "C");
    cx.reference("FRM", &t.farm_id, &label, "D");
    cx.reference("PFD", &t.partfield_id, &label, "E");
    cx.reference("WKR", &t.responsible_worker_id, &label, "F");
    for c in &el.children {
        let child_label = format!("{label} > {}", c.name);
        match c.name() {
            "TZN" => {
                let mut z = Attrs::new(c);
                let mut tzn = TreatmentZone {
                    code: z.req_n(cx, "A"),
                    designator: z.s("B"),
                    colour: z.n(cx, "C"),
                    ..Default::default()
                };
                for zc in &c.children {
                    match zc.name() {
                        "PLN" => tzn.polygons.push(polygon(cx, zc)),
                        "PDV" => tzn.process_data_variables.push(pdv(cx, zc)),
                        _ => unknown(cx, &child_label, zc, None),
                    }
                }
                if t.treatment_zones.iter().any(|other| other.code == tzn.code) {
                    cx.warn(
                        WarningKind::DuplicateId,
                        &child_label,
                        format!("treatment zone code {} used twice", tzn.code),
                    );
                }
                tzn.extra = z.extra(cx);
                t.treatment_zones.push(tzn);
            }
            "TIM" => {
                let mut m = Attrs::labelled(c, child_label.clone());
                let mut tim = Time {
                    start: m.s("A"),
                    stop: m.s("B"),
                    duration: m.n(cx, "C"),
                    time_type: m.req_n(cx, "D"),
                    ..Default::default()
                };
                for mc in &c.children {
                    match mc.name() {
                        "PTN" => tim.positions.push(position(cx, mc)),
                        "DLV" => {
                            let mut d = Attrs::labelled(mc, "DLV");
                            let dlv = DataLogValue {
                                ddi: d.req_hex(cx, "A"),
                                value: d.n(cx, "B"),
                                device_element_id: d.s("C"),
                                pgn: d.n(cx, "D"),
                                start_bit: d.n(cx, "E"),
                                stop_bit: d.n(cx, "F"),
                                extra: Vec::new(),
                            };
                            cx.reference("DET", &dlv.device_element_id, "TIM > DLV", "C");
                            tim.data_log_values.push(DataLogValue {
                                extra: d.extra(cx),
                                ..dlv
                            });
                        }
                        _ => unknown(cx, &child_label, mc, None),
                    }
                }
                tim.extra = m.extra(cx);
                t.times.push(tim);
            }
            "OTP" => {
                let mut o = Attrs::new(c);
                let cpc = o.req(cx, "A");
                let otq = o.s("B");
                cx.reference("CPC", &Some(cpc.clone()), &child_label, "A");
                cx.reference("OTQ", &otq, &child_label, "B");
                o.extra(cx);
                t.operation_technique_practices.push((cpc, otq));
            }
            "WAN" => {
                let mut w = Attrs::new(c);
                let worker_id = w.req(cx, "A");
                cx.reference("WKR", &Some(worker_id.clone()), &child_label, "A");
                w.extra(cx);
                let stamp = only_stamp(cx, c, &child_label);
                t.worker_allocations
                    .push(WorkerAllocation { worker_id, stamp });
            }
            "DAN" => {
                let mut d = Attrs::new(c);
                let dan = DeviceAllocation {
                    client_name_value: d.s("A"),
                    client_name_mask: d.s("B"),
                    device_id: d.s("C"),
                    stamp: None,
                };
                cx.reference("DVC", &dan.device_id, &child_label, "C");
                d.extra(cx);
                let stamp = only_stamp(cx, c, &child_label);
                t.device_allocations.push(DeviceAllocation { stamp, ..dan });
            }
            "CNN" => {
                let mut n = Attrs::new(c);
                let cnn = Connection {
                    device_id_0: n.req(cx, "A"),
                    device_element_id_0: n.req(cx, "B"),
                    device_id_1: n.req(cx, "C"),
                    device_element_id_1: n.req(cx, "D"),
                };
                cx.reference("DVC", &Some(cnn.device_id_0.clone()), &child_label, "A");
                cx.reference(
                    "DET",
                    &Some(cnn.device_element_id_0.clone()),
                    &child_label,
                    "B",
                );
                cx.reference("DVC", &Some(cnn.device_id_1.clone()), &child_label, "C");
                cx.reference(
                    "DET",
                    &Some(cnn.device_element_id_1.clone()),
                    &child_label,
                    "D",
                );
                n.extra(cx);
                no_children(cx, c, &child_label);
                t.connections.push(cnn);
            }
            "PAN" => {
                let mut p = Attrs::new(c);
                let pan = ProductAllocation {
                    product_id: p.req(cx, "A"),
                    quantity_ddi: p.hex(cx, "B"),
                    quantity_value: p.n(cx, "C"),
                    transfer_mode: p.n(cx, "D"),
                    device_element_id: p.s("E"),
                    value_presentation_id: p.s("F"),
                    product_sub_type_id: p.s("G"),
                    stamp: None,
                };
                cx.reference("PDT", &Some(pan.product_id.clone()), &child_label, "A");
                cx.reference("DET", &pan.device_element_id, &child_label, "E");
                cx.reference("VPN", &pan.value_presentation_id, &child_label, "F");
                cx.reference("PDT", &pan.product_sub_type_id, &child_label, "G");
                p.extra(cx);
                let stamp = only_stamp(cx, c, &child_label);
                t.product_allocations
                    .push(ProductAllocation { stamp, ..pan });
            }
            "DLT" => {
                let mut d = Attrs::new(c);
                let dlt = DataLogTrigger {
                    ddi: d.req_hex(cx, "A"),
                    method: d.req_n(cx, "B"),
                    distance_interval: d.n(cx, "C"),
                    time_interval: d.n(cx, "D"),
                    threshold_minimum: d.n(cx, "E"),
                    threshold_maximum: d.n(cx, "F"),
                    threshold_change: d.n(cx, "G"),
                    device_element_id: d.s("H"),
                    value_presentation_id: d.s("I"),
                    pgn: d.n(cx, "J"),
                    start_bit: d.n(cx, "K"),
                    stop_bit: d.n(cx, "L"),
                };
                cx.reference("DET", &dlt.device_element_id, &child_label, "H");
                cx.reference("VPN", &dlt.value_presentation_id, &child_label, "I");
                d.extra(cx);
                no_children(cx, c, &child_label);
                t.data_log_triggers.push(dlt);
            }
            "CAN" => {
                let mut n = Attrs::new(c);
                let can = CommentAllocation {
                    coded_comment_id: n.s("A"),
                    list_value_id: n.s("B"),
                    free_comment: n.s("C"),
                    stamp: None,
                };
                cx.reference("CCT", &can.coded_comment_id, &child_label, "A");
                cx.reference("CCL", &can.list_value_id, &child_label, "B");
                n.extra(cx);
                let stamp = only_stamp(cx, c, &child_label);
                t.comment_allocations
                    .push(CommentAllocation { stamp, ..can });
            }
            "TLG" => {
                let mut g = Attrs::labelled(c, child_label.clone());
                let r = TimeLogRef {
                    name: g.req(cx, "A"),
                    file_length: g.n(cx, "B"),
                    log_type: g.n(cx, "C"),
                };
                g.extra(cx);
                no_children(cx, c, &child_label);
                if !r.name.is_empty() {
                    t.time_log_refs.push(r);
                }
            }
            "GRD" => {
                let mut g = Attrs::labelled(c, child_label.clone());
                let grid = Grid {
                    min_north: g.f(cx, "A").unwrap_or(0.0),
                    min_east: g.f(cx, "B").unwrap_or(0.0),
                    cell_north_size: g.f(cx, "C").unwrap_or(0.0),
                    cell_east_size: g.f(cx, "D").unwrap_or(0.0),
                    columns: g.req_n(cx, "E"),
                    rows: g.req_n(cx, "F"),
                    file_name: g.req(cx, "G"),
                    file_length: g.n(cx, "H"),
                    grid_type: g.req_n(cx, "I"),
                    treatment_zone_code: g.n(cx, "J"),
                    cells: None,
                    extra: Vec::new(),
                };
                if !(grid.cell_north_size > 0.0 && grid.cell_east_size > 0.0) {
                    cx.warn(
                        WarningKind::InvalidValue,
                        &child_label,
                        "grid cell size must be positive",
                    );
                }
                no_children(cx, c, &child_label);
                t.grids.push(Grid {
                    extra: g.extra(cx),
                    ..grid
                });
            }
            "CAT" => {
                let mut n = Attrs::new(c);
                let cat = ControlAssignment {
                    source_client_name: n.s("A"),
                    user_client_name: n.s("B"),
                    source_structure_label: n.s("C"),
                    user_structure_label: n.s("D"),
                    source_element_number: n.n(cx, "E"),
                    user_element_number: n.n(cx, "F"),
                    ddi: n.hex(cx, "G"),
                    stamp: None,
                };
                n.extra(cx);
                let stamp = only_stamp(cx, c, &child_label);
                t.control_assignments
                    .push(ControlAssignment { stamp, ..cat });
            }
            "GAN" => {
                let mut n = Attrs::new(c);
                let guidance_group_id = n.req(cx, "A");
                cx.reference("GGP", &Some(guidance_group_id.clone()), &child_label, "A");
                n.extra(cx);
                let mut gan = GuidanceAllocation {
                    guidance_group_id,
                    ..Default::default()
                };
                for gc in &c.children {
                    match gc.name() {
                        "ASP" if gan.stamp.is_none() => gan.stamp = Some(stamp(cx, gc)),
                        "GST" => {
                            let mut s = Attrs::new(gc);
                            let gst = GuidanceShift {
                                guidance_group_id: s.s("A"),
                                guidance_pattern_id: s.s("B"),
                                east_shift: s.n(cx, "C"),
                                north_shift: s.n(cx, "D"),
                                propagation_offset: s.n(cx, "E"),
                                stamp: None,
                            };
                            cx.reference("GGP", &gst.guidance_group_id, "GST", "A");
                            cx.reference("GPN", &gst.guidance_pattern_id, "GST", "B");
                            s.extra(cx);
                            let stamp = only_stamp(cx, gc, "GST");
                            gan.shifts.push(GuidanceShift { stamp, ..gst });
                        }
                        _ => unknown(cx, &child_label, gc, None),
                    }
                }
                t.guidance_allocations.push(gan);
            }
            _ => unknown(cx, &label, c, Some(&mut t.other_elements)),
        }
    }
    t.extra = a.extra(cx);
    t
}

/// Reads `LINKLIST.XML` (root `ISO11783LinkList`).
pub(crate) fn link_list(cx: &mut Ctx, root: &Node<'_>) -> Vec<LinkGroup> {
    let mut groups = Vec::new();
    if root.name != "ISO11783LinkList" {
        cx.warn(
            WarningKind::UnknownElement,
            &root.name,
            "link list root is not ISO11783LinkList; ignored",
        );
        return groups;
    }
    for g in &root.children {
        if g.name != "LGP" {
            unknown(cx, "ISO11783LinkList", g, None);
            continue;
        }
        let mut a = Attrs::new(g);
        let mut group = LinkGroup {
            id: a.req(cx, "A"),
            group_type: a.n(cx, "B"),
            manufacturer_gln: a.s("C"),
            namespace: a.s("D"),
            designator: a.s("E"),
            links: Vec::new(),
        };
        for l in &g.children {
            if l.name != "LNK" {
                unknown(cx, &a.label, l, None);
                continue;
            }
            let mut la = Attrs::new(l);
            group.links.push(Link {
                object_id: la.req(cx, "A"),
                value: la.req(cx, "B"),
                designator: la.s("C"),
            });
            la.extra(cx);
        }
        a.extra(cx);
        groups.push(group);
    }
    groups
}

#[cfg(test)]
mod tests;
