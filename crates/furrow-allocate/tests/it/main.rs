//! furrow-allocate: the engine against an independent oracle (geo's `Contains` on oriented polygons), boundary
//! validation and repair, overlaps, and the accepted point layouts.

mod coverage;
mod engine;
mod grouping;
mod validity;
