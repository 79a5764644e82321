//! Grids (`GRD`): prescription maps as a raster of cells, rows from south to north.

use serde::Serialize;

use crate::model::ExtraAttributes;

/// Largest grid binary read (bytes).
pub(crate) const MAX_GRID_BYTES: u64 = 256 << 20;

/// `GRD` Grid.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Grid {
    /// `A` latitude of the south-west corner.
    pub min_north: f64,
    /// `B` longitude of the south-west corner.
    pub min_east: f64,
    /// `C` cell height in degrees.
    pub cell_north_size: f64,
    /// `D` cell width in degrees.
    pub cell_east_size: f64,
    /// `E` number of columns.
    pub columns: u32,
    /// `F` number of rows.
    pub rows: u32,
    /// `G` file name `GRDnnnnn` (without `.BIN`).
    pub file_name: String,
    /// `H` file length as written (often wrong; not used).
    pub file_length: Option<u64>,
    /// `I` grid type 1 or 2.
    pub grid_type: u8,
    /// `J` treatment zone code (type 2: the zone whose PDVs are the layers).
    pub treatment_zone_code: Option<u8>,
    /// The cells, when the binary was found and has the right size.
    #[serde(skip)]
    pub cells: Option<GridCells>,
    /// Attributes not modelled.
    pub extra: ExtraAttributes,
}

/// The content of a grid binary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GridCells {
    /// Type 1: one treatment-zone code per cell.
    Type1(Vec<u8>),
    /// Type 2: `layers` raw values per cell, in the order of the zone's PDVs.
    Type2 {
        /// Values per cell.
        layers: usize,
        /// `rows × columns × layers` raw values, row-major from the south-west cell.
        values: Vec<i32>,
    },
}

impl Grid {
    /// Expected binary size: `columns × rows × (1 | 4 × layers)`; `None` on overflow.
    pub fn expected_size(&self, layers: usize) -> Option<u64> {
        let cells = u64::from(self.columns).checked_mul(u64::from(self.rows))?;
        match self.grid_type {
            1 => Some(cells),
            _ => cells
                .checked_mul(4)?
                .checked_mul(u64::try_from(layers).ok()?),
        }
    }

    /// The `(row, column)` holding a position (row 0 is the southernmost); `None` outside the grid.
    pub fn cell_index(&self, lat: f64, lon: f64) -> Option<(u32, u32)> {
        if !(self.cell_north_size > 0.0 && self.cell_east_size > 0.0) {
            return None;
        }
        let r = ((lat - self.min_north) / self.cell_north_size).floor();
        let c = ((lon - self.min_east) / self.cell_east_size).floor();
        if !(r >= 0.0 && c >= 0.0 && r < f64::from(self.rows) && c < f64::from(self.columns)) {
            return None;
        }
        // Checked above: both are in range of u32.
        Some((r as u32, c as u32))
    }

    fn flat(&self, row: u32, col: u32) -> Option<usize> {
        if row >= self.rows || col >= self.columns {
            return None;
        }
        usize::try_from(u64::from(row) * u64::from(self.columns) + u64::from(col)).ok()
    }

    /// Type 1: the treatment-zone code of a cell.
    pub fn zone_code(&self, row: u32, col: u32) -> Option<u8> {
        match &self.cells {
            Some(GridCells::Type1(codes)) => codes.get(self.flat(row, col)?).copied(),
            _ => None,
        }
    }

    /// Type 2: the raw values of a cell, one per layer.
    pub fn cell_values(&self, row: u32, col: u32) -> Option<&[i32]> {
        match &self.cells {
            Some(GridCells::Type2 { layers, values }) => {
                let start = self.flat(row, col)?.checked_mul(*layers)?;
                values.get(start..start.checked_add(*layers)?)
            }
            _ => None,
        }
    }
}

/// Decodes a grid binary after checking its size. `layers` is the PDV count of the referenced zone.
pub(crate) fn decode_cells(
    grid: &Grid,
    bytes: &[u8],
    layers: Option<usize>,
) -> Result<GridCells, String> {
    let layers = match grid.grid_type {
        1 => 1,
        2 => match layers {
            Some(0) => return Err("type-2 grid whose treatment zone has no PDV".into()),
            Some(n) => n,
            None => {
                return Err(format!(
                    "type-2 grid references treatment zone {} which does not exist",
                    grid.treatment_zone_code
                        .map_or("(none)".to_owned(), |c| c.to_string())
                ));
            }
        },
        t => return Err(format!("unknown grid type {t}")),
    };
    let expected = grid
        .expected_size(layers)
        .ok_or_else(|| "grid dimensions overflow".to_owned())?;
    if expected != bytes.len() as u64 {
        return Err(format!(
            "binary is {} bytes, expected {expected} ({} columns × {} rows{})",
            bytes.len(),
            grid.columns,
            grid.rows,
            if grid.grid_type == 2 {
                format!(" × {layers} PDV × 4 bytes")
            } else {
                String::new()
            }
        ));
    }
    Ok(match grid.grid_type {
        1 => GridCells::Type1(bytes.to_vec()),
        _ => GridCells::Type2 {
            layers,
            values: bytes
                .chunks_exact(4)
                .map(|c| <[u8; 4]>::try_from(c).map(i32::from_le_bytes).unwrap_or(0))
                .collect(),
        },
    })
}
