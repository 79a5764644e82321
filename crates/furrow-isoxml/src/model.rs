//! The ISO 11783-10 data model (v3 and v4 in one superset).
//!
//! Field names follow the standard's meaning; the attribute letter is in each doc comment. Optional
//! attributes that are absent or empty are `None`. Attributes this crate does not model are kept in
//! `extra` (proprietary `P<digits>_` names silently, others with a warning); unknown child elements of
//! the root, tasks, partfields and devices are kept in `other_elements`.

use serde::Serialize;

use crate::xml::XmlElement;

/// Attributes kept as read: `(name, value)`.
pub type ExtraAttributes = Vec<(String, String)>;

/// `CTR` Customer.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct Customer {
    /// `A`
    pub id: String,
    /// `B`
    pub last_name: String,
    pub first_name: Option<String>,
    pub street: Option<String>,
    pub po_box: Option<String>,
    pub postal_code: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub country: Option<String>,
    pub phone: Option<String>,
    pub mobile: Option<String>,
    pub fax: Option<String>,
    pub email: Option<String>,
    pub extra: ExtraAttributes,
}

/// `FRM` Farm.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct Farm {
    pub id: String,
    pub designator: String,
    pub street: Option<String>,
    pub po_box: Option<String>,
    pub postal_code: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub country: Option<String>,
    /// `I` ref CTR
    pub customer_id: Option<String>,
    pub extra: ExtraAttributes,
}

/// `WKR` Worker.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct Worker {
    pub id: String,
    pub last_name: String,
    pub first_name: Option<String>,
    pub street: Option<String>,
    pub po_box: Option<String>,
    pub postal_code: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub country: Option<String>,
    pub phone: Option<String>,
    pub mobile: Option<String>,
    pub licence_number: Option<String>,
    pub email: Option<String>,
    pub extra: ExtraAttributes,
}

/// `PFD` Partfield (a field).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Partfield {
    /// `A`
    pub id: String,
    /// `B`
    pub code: Option<String>,
    /// `C`
    pub designator: String,
    /// `D` area in m².
    pub area: Option<u32>,
    /// `E` ref CTR.
    pub customer_id: Option<String>,
    /// `F` ref FRM.
    pub farm_id: Option<String>,
    /// `G` ref CTP.
    pub crop_type_id: Option<String>,
    /// `H` ref CVT.
    pub crop_variety_id: Option<String>,
    /// `I` ref PFD (parent field).
    pub field_id: Option<String>,
    /// `PLN` children.
    pub polygons: Vec<Polygon>,
    /// `LSG` children.
    pub line_strings: Vec<LineString>,
    /// `PNT` children.
    pub points: Vec<Point>,
    /// `GGP` children (v4).
    pub guidance_groups: Vec<GuidanceGroup>,
    /// Attributes not modelled.
    pub extra: ExtraAttributes,
    /// Child elements not modelled.
    pub other_elements: Vec<XmlElement>,
}

impl Partfield {
    /// The boundary polygons (`PLN A="1"`).
    pub fn boundaries(&self) -> impl Iterator<Item = &Polygon> {
        self.polygons.iter().filter(|p| p.polygon_type == 1)
    }
}

/// `PLN` Polygon.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Polygon {
    /// `A` type: 1 boundary, 2 treatment zone, 3 water, 4 building, 5 road, 6 obstacle, 7 flag, 8 other,
    /// 9 mainfield, 10 headland, 11 buffer zone, 12 windbreak.
    pub polygon_type: u8,
    /// `B`
    pub designator: Option<String>,
    /// `C` area m².
    pub area: Option<u32>,
    /// `D`
    pub colour: Option<u8>,
    /// `E` (v4)
    pub id: Option<String>,
    /// `LSG` children: exterior ring(s) (`A="1"`) and interior rings (`A="2"`).
    pub line_strings: Vec<LineString>,
    /// Attributes not modelled.
    pub extra: ExtraAttributes,
}

impl Polygon {
    /// Exterior rings (`LSG A="1"`).
    pub fn exteriors(&self) -> impl Iterator<Item = &LineString> {
        self.line_strings.iter().filter(|l| l.line_string_type == 1)
    }
    /// Interior rings (`LSG A="2"`).
    pub fn interiors(&self) -> impl Iterator<Item = &LineString> {
        self.line_strings.iter().filter(|l| l.line_string_type == 2)
    }
}

/// `LSG` LineString.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LineString {
    /// `A` type: 1 exterior, 2 interior, 3 tram line, 4 sampling route, 5 guidance pattern, 6 drainage,
    /// 7 fence, 8 flag, 9 obstacle.
    pub line_string_type: u8,
    /// `B`
    pub designator: Option<String>,
    /// `C` width mm.
    pub width: Option<u32>,
    /// `D` length mm.
    pub length: Option<u32>,
    /// `E`
    pub colour: Option<u8>,
    /// `F` (v4)
    pub id: Option<String>,
    /// `PNT` children.
    pub points: Vec<Point>,
    /// Attributes not modelled.
    pub extra: ExtraAttributes,
}

/// `PNT` Point.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Point {
    /// `A` type.
    pub point_type: u8,
    /// `B`
    pub designator: Option<String>,
    /// `C` latitude (degrees).
    pub north: f64,
    /// `D` longitude (degrees).
    pub east: f64,
    /// `E` mm.
    pub up: Option<i32>,
    /// `F`
    pub colour: Option<u8>,
    /// `G` (v4)
    pub id: Option<String>,
    /// `H` m.
    pub horizontal_accuracy: Option<f64>,
    /// `I` m.
    pub vertical_accuracy: Option<f64>,
    /// `J` binary point file `PNTnnnnn` (v4).
    pub file_name: Option<String>,
    /// `K`
    pub file_length: Option<u32>,
    /// With `J`: which fields each record of the binary point file stores (attributes left empty, and `A`,
    /// `C`, `D` when absent); the others are this element's values.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub binary_layout: Option<PointFileLayout>,
    /// With `J`: the points read from `PNTnnnnn.BIN`, in file order (see [`PointFileLayout::decode`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub binary_points: Vec<Point>,
    /// Attributes not modelled.
    pub extra: ExtraAttributes,
}

/// The record layout of a binary point file (`PNT J`, v4): each record stores, in this order, the fields
/// that are `true`: type u8, north i64 × 1e-16°, east i64 × 1e-16°, up i32 mm, colour u8, horizontal
/// accuracy u16 mm, vertical accuracy u16 mm; little-endian, packed, no file header (as isoxml_dart reads
/// and writes them).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct PointFileLayout {
    pub point_type: bool,
    pub north: bool,
    pub east: bool,
    pub up: bool,
    pub colour: bool,
    pub horizontal_accuracy: bool,
    pub vertical_accuracy: bool,
}

impl PointFileLayout {
    /// Bytes per record.
    pub fn record_len(&self) -> usize {
        usize::from(self.point_type)
            + 8 * usize::from(self.north)
            + 8 * usize::from(self.east)
            + 4 * usize::from(self.up)
            + usize::from(self.colour)
            + 2 * usize::from(self.horizontal_accuracy)
            + 2 * usize::from(self.vertical_accuracy)
    }

    /// Decodes every whole record of `bytes`; fields not stored come from `template` (the `PNT` element).
    /// Bytes after the last whole record are ignored (the caller reports them).
    pub fn decode(&self, template: &Point, bytes: &[u8]) -> Vec<Point> {
        let len = self.record_len();
        if len == 0 {
            return Vec::new();
        }
        let fixed = |b: &[u8], at: &mut usize, n: usize| -> [u8; 8] {
            let mut out = [0u8; 8];
            if let (Some(src), Some(dst)) = (b.get(*at..*at + n), out.get_mut(..n)) {
                dst.copy_from_slice(src);
            }
            *at += n;
            out
        };
        bytes
            .chunks_exact(len)
            .map(|b| {
                let mut at = 0;
                let mut p = Point {
                    point_type: template.point_type,
                    north: template.north,
                    east: template.east,
                    up: template.up,
                    colour: template.colour,
                    horizontal_accuracy: template.horizontal_accuracy,
                    vertical_accuracy: template.vertical_accuracy,
                    ..Point::default()
                };
                if self.point_type {
                    p.point_type = fixed(b, &mut at, 1)[0];
                }
                if self.north {
                    p.north = i64::from_le_bytes(fixed(b, &mut at, 8)) as f64 * 1e-16;
                }
                if self.east {
                    p.east = i64::from_le_bytes(fixed(b, &mut at, 8)) as f64 * 1e-16;
                }
                if self.up {
                    let [a, b2, c, d, ..] = fixed(b, &mut at, 4);
                    p.up = Some(i32::from_le_bytes([a, b2, c, d]));
                }
                if self.colour {
                    p.colour = Some(fixed(b, &mut at, 1)[0]);
                }
                let mm = |v: [u8; 8]| f64::from(u16::from_le_bytes([v[0], v[1]])) / 1000.0;
                if self.horizontal_accuracy {
                    p.horizontal_accuracy = Some(mm(fixed(b, &mut at, 2)));
                }
                if self.vertical_accuracy {
                    p.vertical_accuracy = Some(mm(fixed(b, &mut at, 2)));
                }
                p
            })
            .collect()
    }
}

/// `GGP` GuidanceGroup (v4).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GuidanceGroup {
    /// `A`
    pub id: String,
    /// `B`
    pub designator: Option<String>,
    /// `GPN` children.
    pub patterns: Vec<GuidancePattern>,
    /// `PLN` children (boundary).
    pub polygons: Vec<Polygon>,
    /// Attributes not modelled.
    pub extra: ExtraAttributes,
}

/// `GPN` GuidancePattern (v4).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct GuidancePattern {
    pub id: String,
    pub designator: Option<String>,
    /// `C` 1 AB, 2 A+, 3 curve, 4 pivot, 5 spiral.
    pub pattern_type: Option<u8>,
    pub options: Option<u8>,
    pub propagation_direction: Option<u8>,
    pub extension: Option<u8>,
    /// `G` degrees.
    pub heading: Option<f64>,
    /// `H` mm.
    pub radius: Option<u32>,
    pub gnss_method: Option<u8>,
    pub horizontal_accuracy: Option<f64>,
    pub vertical_accuracy: Option<f64>,
    pub base_station_id: Option<String>,
    pub original_srid: Option<String>,
    pub swaths_left: Option<u32>,
    pub swaths_right: Option<u32>,
    pub line_strings: Vec<LineString>,
    pub polygons: Vec<Polygon>,
    pub extra: ExtraAttributes,
}

/// `BSN` BaseStation (v4).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct BaseStation {
    pub id: String,
    pub designator: Option<String>,
    pub north: Option<f64>,
    pub east: Option<f64>,
    pub up: Option<i32>,
    pub extra: ExtraAttributes,
}

/// `PDT` Product.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct Product {
    pub id: String,
    pub designator: String,
    /// `C` ref PGP.
    pub product_group_id: Option<String>,
    /// `D` ref VPN.
    pub value_presentation_id: Option<String>,
    /// `E` quantity DDI.
    pub quantity_ddi: Option<u16>,
    /// `F` 1 single, 2 mixture, 3 temporary mixture (v4).
    pub product_type: Option<u8>,
    pub mixture_recipe_quantity: Option<i64>,
    pub density_mass_per_volume: Option<i64>,
    pub density_mass_per_count: Option<i64>,
    pub density_volume_per_count: Option<i64>,
    /// `PRN` children (v4).
    pub relations: Vec<ProductRelation>,
    pub extra: ExtraAttributes,
}

/// `PRN` ProductRelation (v4).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductRelation {
    /// `A` ref PDT.
    pub product_id: String,
    /// `B`
    pub quantity_value: Option<i64>,
}

/// `PGP` ProductGroup.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct ProductGroup {
    pub id: String,
    pub designator: String,
    /// `C` 1 product group, 2 crop type (v4).
    pub group_type: Option<u8>,
    pub extra: ExtraAttributes,
}

/// `CTP` CropType.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct CropType {
    pub id: String,
    pub designator: String,
    /// `C` ref PGP (v4).
    pub product_group_id: Option<String>,
    pub varieties: Vec<CropVariety>,
    pub extra: ExtraAttributes,
}

/// `CVT` CropVariety.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct CropVariety {
    pub id: String,
    pub designator: String,
    /// `C` ref PDT (v4).
    pub product_id: Option<String>,
    pub extra: ExtraAttributes,
}

/// `VPN` ValuePresentation (root).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct ValuePresentationElement {
    pub id: String,
    pub offset: i64,
    pub scale: f64,
    pub decimals: u8,
    pub unit: Option<String>,
    /// `F` ref CLD.
    pub colour_legend_id: Option<String>,
    pub extra: ExtraAttributes,
}

/// `CCT` CodedComment.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct CodedComment {
    pub id: String,
    pub designator: String,
    /// `C` 1 point, 2 global, 3 continuous.
    pub scope: Option<u8>,
    /// `D` ref CCG.
    pub group_id: Option<String>,
    /// `CCL` children `(id, designator)`.
    pub list_values: Vec<(String, String)>,
    pub extra: ExtraAttributes,
}

/// `CCG` CodedCommentGroup, `OTQ` OperationTechnique and other id + designator elements.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct Named {
    pub id: String,
    pub designator: String,
    pub extra: ExtraAttributes,
}

/// `CPC` CulturalPractice.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct CulturalPractice {
    pub id: String,
    pub designator: String,
    /// `OTR A` refs to OTQ.
    pub operation_technique_ids: Vec<String>,
    pub extra: ExtraAttributes,
}

/// `CLD` ColourLegend.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct ColourLegend {
    pub id: String,
    pub default_colour: Option<u8>,
    /// `CRG` children `(min, max, colour)`.
    pub ranges: Vec<(i64, i64, u8)>,
    pub extra: ExtraAttributes,
}

/// `AFE` AttachedFile (v4).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct AttachedFile {
    pub file_name: String,
    /// `B` 1 no, 2 preserve.
    pub preserve: Option<u8>,
    pub manufacturer_gln: Option<String>,
    pub file_type: Option<u8>,
    pub version: Option<String>,
    pub length: Option<u64>,
    /// Whether the file exists in the data set.
    pub present: bool,
    pub extra: ExtraAttributes,
}

/// `TCC` TaskControllerCapabilities (v4).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct TaskControllerCapabilities {
    pub client_name: Option<String>,
    pub designator: Option<String>,
    pub version: Option<u8>,
    pub provided_capabilities: Option<u8>,
    pub booms: Option<u8>,
    pub sections: Option<u8>,
    pub control_channels: Option<u8>,
    pub extra: ExtraAttributes,
}

/// `DVC` Device: a device description (DDOP).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Device {
    /// `A`
    pub id: String,
    /// `B`
    pub designator: Option<String>,
    /// `C`
    pub software_version: Option<String>,
    /// `D` client NAME (hex).
    pub client_name: String,
    /// `E`
    pub serial_number: Option<String>,
    /// `F` (hex)
    pub structure_label: Option<String>,
    /// `G` (hex)
    pub localization_label: Option<String>,
    /// `DET` children.
    pub elements: Vec<DeviceElement>,
    /// `DPD` children.
    pub process_data: Vec<DeviceProcessData>,
    /// `DPT` children.
    pub properties: Vec<DeviceProperty>,
    /// `DVP` children.
    pub value_presentations: Vec<DeviceValuePresentation>,
    /// Attributes not modelled.
    pub extra: ExtraAttributes,
    /// Child elements not modelled.
    pub other_elements: Vec<XmlElement>,
}

impl Device {
    /// The element with this `DET` id.
    pub fn element(&self, id: &str) -> Option<&DeviceElement> {
        self.elements.iter().find(|e| e.id == id)
    }
    /// The element with this object id (`DET B`).
    pub fn element_by_object_id(&self, object_id: u16) -> Option<&DeviceElement> {
        self.elements.iter().find(|e| e.object_id == object_id)
    }
    /// The root elements (parent object id 0, or a parent that does not exist).
    pub fn root_elements(&self) -> impl Iterator<Item = &DeviceElement> {
        self.elements.iter().filter(|e| {
            e.parent_object_id == 0
                || e.parent_object_id == e.object_id
                || self.element_by_object_id(e.parent_object_id).is_none()
        })
    }
    /// The children of an element in the element tree (`DET F` = parent's `DET B`).
    pub fn children_of<'a>(
        &'a self,
        element: &'a DeviceElement,
    ) -> impl Iterator<Item = &'a DeviceElement> {
        self.elements.iter().filter(move |e| {
            e.parent_object_id == element.object_id && e.object_id != element.object_id
        })
    }
    /// The process data (`DPD`) an element references through `DOR`.
    pub fn process_data_of<'a>(
        &'a self,
        element: &'a DeviceElement,
    ) -> impl Iterator<Item = &'a DeviceProcessData> {
        self.process_data
            .iter()
            .filter(move |p| element.object_references.contains(&p.object_id))
    }
    /// The properties (`DPT`) an element references through `DOR`.
    pub fn properties_of<'a>(
        &'a self,
        element: &'a DeviceElement,
    ) -> impl Iterator<Item = &'a DeviceProperty> {
        self.properties
            .iter()
            .filter(move |p| element.object_references.contains(&p.object_id))
    }
    /// The value presentation with this object id.
    pub fn value_presentation(&self, object_id: u16) -> Option<&DeviceValuePresentation> {
        self.value_presentations
            .iter()
            .find(|v| v.object_id == object_id)
    }
}

/// `DET` DeviceElement.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceElement {
    /// `A`
    pub id: String,
    /// `B` object id within the device.
    pub object_id: u16,
    /// `C` 1 device, 2 function, 3 bin, 4 section, 5 unit, 6 connector, 7 navigation.
    pub element_type: u8,
    /// `D`
    pub designator: Option<String>,
    /// `E`
    pub number: u16,
    /// `F` the parent's object id (`0` for the device element).
    pub parent_object_id: u16,
    /// `DOR A` object ids of DPD/DPT objects.
    pub object_references: Vec<u16>,
    /// Attributes not modelled.
    pub extra: ExtraAttributes,
}

/// `DPD` DeviceProcessData.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct DeviceProcessData {
    pub object_id: u16,
    pub ddi: u16,
    /// `C` bits: 1 default set, 2 settable, 4 control source.
    pub property: u8,
    /// `D` bits: 1 time, 2 distance, 4 threshold, 8 on change, 16 total.
    pub trigger_methods: u8,
    pub designator: Option<String>,
    /// `F` DVP object id.
    pub presentation_object_id: Option<u16>,
    pub extra: ExtraAttributes,
}

/// `DPT` DeviceProperty.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct DeviceProperty {
    pub object_id: u16,
    pub ddi: u16,
    /// `C` raw value.
    pub value: i64,
    pub designator: Option<String>,
    /// `E` DVP object id.
    pub presentation_object_id: Option<u16>,
    pub extra: ExtraAttributes,
}

/// `DVP` DeviceValuePresentation.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct DeviceValuePresentation {
    pub object_id: u16,
    pub offset: i64,
    pub scale: f64,
    pub decimals: u8,
    pub unit: Option<String>,
    pub extra: ExtraAttributes,
}

/// `TSK` Task.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Task {
    /// `A`
    pub id: String,
    /// `B`
    pub designator: Option<String>,
    /// `C` ref CTR.
    pub customer_id: Option<String>,
    /// `D` ref FRM.
    pub farm_id: Option<String>,
    /// `E` ref PFD.
    pub partfield_id: Option<String>,
    /// `F` ref WKR.
    pub responsible_worker_id: Option<String>,
    /// `G` status.
    pub status: u8,
    /// `H`
    pub default_treatment_zone_code: Option<u8>,
    /// `I`
    pub position_lost_treatment_zone_code: Option<u8>,
    /// `J`
    pub out_of_field_treatment_zone_code: Option<u8>,
    /// `TZN` children.
    pub treatment_zones: Vec<TreatmentZone>,
    /// `TIM` children (summaries of work periods, not the log).
    pub times: Vec<Time>,
    /// `OTP` children `(cultural practice id, operation technique id)`.
    pub operation_technique_practices: Vec<(String, Option<String>)>,
    /// `WAN` children.
    pub worker_allocations: Vec<WorkerAllocation>,
    /// `DAN` children.
    pub device_allocations: Vec<DeviceAllocation>,
    /// `CNN` children.
    pub connections: Vec<Connection>,
    /// `PAN` children.
    pub product_allocations: Vec<ProductAllocation>,
    /// `DLT` children.
    pub data_log_triggers: Vec<DataLogTrigger>,
    /// `CAN` children.
    pub comment_allocations: Vec<CommentAllocation>,
    /// `TLG` children: references to time logs (the logs are in [`crate::TaskData::time_logs`]).
    pub time_log_refs: Vec<TimeLogRef>,
    /// `GRD` child.
    pub grids: Vec<crate::grid::Grid>,
    /// `CAT` children (v4).
    pub control_assignments: Vec<ControlAssignment>,
    /// `GAN` children (v4).
    pub guidance_allocations: Vec<GuidanceAllocation>,
    /// Attributes not modelled.
    pub extra: ExtraAttributes,
    /// Child elements not modelled.
    pub other_elements: Vec<XmlElement>,
}

/// `TZN` TreatmentZone.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct TreatmentZone {
    pub code: u8,
    pub designator: Option<String>,
    pub colour: Option<u8>,
    pub polygons: Vec<Polygon>,
    pub process_data_variables: Vec<ProcessDataVariable>,
    pub extra: ExtraAttributes,
}

/// `PDV` ProcessDataVariable.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct ProcessDataVariable {
    pub ddi: u16,
    /// `B` raw value.
    pub value: i64,
    pub product_id: Option<String>,
    pub device_element_id: Option<String>,
    pub value_presentation_id: Option<String>,
    pub actual_cultural_practice_value: Option<i64>,
    pub element_type_instance_value: Option<i64>,
    /// Nested `PDV`s (v4).
    pub children: Vec<ProcessDataVariable>,
    pub extra: ExtraAttributes,
}

/// `TIM` Time (inside a task).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Time {
    /// `A` start, as written (`xs:dateTime`, with or without zone).
    pub start: Option<String>,
    /// `B` stop, as written.
    pub stop: Option<String>,
    /// `C` duration s.
    pub duration: Option<u32>,
    /// `D` type (4 effective, ...).
    pub time_type: u8,
    /// `PTN` children.
    pub positions: Vec<Position>,
    /// `DLV` children (totals at that moment).
    pub data_log_values: Vec<DataLogValue>,
    /// Attributes not modelled.
    pub extra: ExtraAttributes,
}

/// `PTN` Position (in XML; binary positions are [`crate::Record`] fields).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct Position {
    pub north: Option<f64>,
    pub east: Option<f64>,
    pub up: Option<i32>,
    pub status: Option<u8>,
    pub pdop: Option<f64>,
    pub hdop: Option<f64>,
    pub satellites: Option<u8>,
    /// `H` ms since midnight UTC.
    pub gps_utc_time: Option<u32>,
    /// `I` days since 1980-01-01.
    pub gps_utc_date: Option<u16>,
    pub extra: ExtraAttributes,
}

/// `DLV` DataLogValue (in a task's `TIM`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct DataLogValue {
    pub ddi: u16,
    pub value: Option<i64>,
    pub device_element_id: Option<String>,
    pub pgn: Option<u32>,
    pub start_bit: Option<u8>,
    pub stop_bit: Option<u8>,
    pub extra: ExtraAttributes,
}

/// `ASP` AllocationStamp.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct AllocationStamp {
    pub start: Option<String>,
    pub stop: Option<String>,
    pub duration: Option<u32>,
    /// `D` 1 planned, 4 effective.
    pub stamp_type: Option<u8>,
    pub positions: Vec<Position>,
}

/// `WAN` WorkerAllocation.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct WorkerAllocation {
    pub worker_id: String,
    pub stamp: Option<AllocationStamp>,
}

/// `DAN` DeviceAllocation.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct DeviceAllocation {
    pub client_name_value: Option<String>,
    pub client_name_mask: Option<String>,
    pub device_id: Option<String>,
    pub stamp: Option<AllocationStamp>,
}

/// `CNN` Connection (hitch between two devices).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct Connection {
    pub device_id_0: String,
    pub device_element_id_0: String,
    pub device_id_1: String,
    pub device_element_id_1: String,
}

/// `PAN` ProductAllocation.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct ProductAllocation {
    pub product_id: String,
    pub quantity_ddi: Option<u16>,
    pub quantity_value: Option<i64>,
    /// `D` 1 filling, 2 emptying, 3 remainder.
    pub transfer_mode: Option<u8>,
    pub device_element_id: Option<String>,
    pub value_presentation_id: Option<String>,
    pub product_sub_type_id: Option<String>,
    pub stamp: Option<AllocationStamp>,
}

/// `DLT` DataLogTrigger.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct DataLogTrigger {
    pub ddi: u16,
    pub method: u8,
    pub distance_interval: Option<i64>,
    pub time_interval: Option<i64>,
    pub threshold_minimum: Option<i64>,
    pub threshold_maximum: Option<i64>,
    pub threshold_change: Option<i64>,
    pub device_element_id: Option<String>,
    pub value_presentation_id: Option<String>,
    pub pgn: Option<u32>,
    pub start_bit: Option<u8>,
    pub stop_bit: Option<u8>,
}

/// `CAN` CommentAllocation.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct CommentAllocation {
    pub coded_comment_id: Option<String>,
    pub list_value_id: Option<String>,
    pub free_comment: Option<String>,
    pub stamp: Option<AllocationStamp>,
}

/// `CAT` ControlAssignment (v4).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct ControlAssignment {
    pub source_client_name: Option<String>,
    pub user_client_name: Option<String>,
    pub source_structure_label: Option<String>,
    pub user_structure_label: Option<String>,
    pub source_element_number: Option<u16>,
    pub user_element_number: Option<u16>,
    pub ddi: Option<u16>,
    pub stamp: Option<AllocationStamp>,
}

/// `GAN` GuidanceAllocation (v4).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct GuidanceAllocation {
    pub guidance_group_id: String,
    pub stamp: Option<AllocationStamp>,
    pub shifts: Vec<GuidanceShift>,
}

/// `GST` GuidanceShift (v4).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct GuidanceShift {
    pub guidance_group_id: Option<String>,
    pub guidance_pattern_id: Option<String>,
    pub east_shift: Option<i64>,
    pub north_shift: Option<i64>,
    pub propagation_offset: Option<i64>,
    pub stamp: Option<AllocationStamp>,
}

/// `XFR` ExternalFileReference, as found in the root.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExternalFileReference {
    /// `A` file name without extension.
    pub file_name: String,
    /// `B` file type (1 = XML).
    pub file_type: Option<u8>,
    /// Whether the file was found and merged.
    pub merged: bool,
}

/// `LINKLIST.XML`: link groups mapping object ids to UUIDs or URIs (v4).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct LinkGroup {
    pub id: String,
    /// `B` 1 UUIDs, 2 proprietary, 3 unique URIs, 4 informational URIs.
    pub group_type: Option<u8>,
    pub manufacturer_gln: Option<String>,
    pub namespace: Option<String>,
    pub designator: Option<String>,
    pub links: Vec<Link>,
}

/// `LNK` one link.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct Link {
    pub object_id: String,
    pub value: String,
    pub designator: Option<String>,
}

/// `TLG` TimeLog reference inside a task.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TimeLogRef {
    /// `A` file name without extension, e.g. `TLG00001`.
    pub name: String,
    /// `B` file length as written.
    pub file_length: Option<u64>,
    /// `C` type (1 = binary time log).
    pub log_type: Option<u8>,
}
