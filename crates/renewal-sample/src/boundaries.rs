//! Boundaries of the fictional place as GeoJSON (WGS84 longitude/latitude), in the style of
//! the ONS Open Geography Portal's files: one `Feature` per area with properties `FID`,
//! `WD19CD`, `WD19NM` (or `LSOA11CD` / `LSOA11NM`, `WD24CD` / …, `LSOA21CD` / …).
//!
//! The areas **tile** the authorities. Every shape is built from one lattice of points (a grid
//! over a few kilometres of the South Pennines, its points nudged by a fixed hash so the map
//! does not look like graph paper): each 2011 LSOA is one cell, each 2019 ward the union of its
//! LSOAs' cells as the sample's own lookup assigns them. Across the 2021 change each *piece*
//! (the part of one LSOA11 in one LSOA21, as in `geography2021`) is a cell or half a cell cut
//! along a diagonal: a split LSOA's two halves, an irregular redrawing's triangles crossing the
//! old boundary; a merged LSOA is two cells. LSOA21s and 2024 wards are unions of pieces.
//! Unions are exact (shared edges cancel, as they share the very same lattice points), so
//! neighbours never overlap or leave gaps, and a ward's area is the sum of its LSOAs'.
//!
//! Like the rest of the geography, none of this depends on the seed.

use std::collections::BTreeMap;

use crate::Output;
use crate::geography2021::{Change, Geography21, REDRAWS, break_file};
use crate::place::Place;

pub(crate) const WARDS_2019: &str = "Wards_(December_2019)_Boundaries_EW_BGC.geojson";
pub(crate) const LSOAS_2011: &str = "LSOA_(December_2011)_Boundaries_EW_BGC.geojson";
pub(crate) const WARDS_2024: &str = break_file!("Wards_(May_2024)_Boundaries_UK_BGC.geojson");
pub(crate) const LSOAS_2021: &str = break_file!("LSOA_(December_2021)_Boundaries_EW_BGC.geojson");

/// South-west corner of the lattice, and the size of one cell in degrees (about 630 m east
/// by 670 m north at this latitude).
const ORIGIN: (f64, f64) = (-1.95, 53.52);
const CELL: (f64, f64) = (0.0095, 0.006);
/// Rows of cells; Renewal Vale has 12 columns, Brookmere the 4 east of it.
const ROWS: usize = 5;
const VALE_COLUMNS: usize = 12;
const BROOKMERE_COLUMNS: usize = 4;
/// How far a lattice point may be nudged, as a share of a cell: small enough that every cell
/// stays convex, so a diagonal always cuts it into two triangles inside it.
const NUDGE: f64 = 0.18;

/// A lattice point's id: column-major index into the `(COLUMNS + 1) × (ROWS + 1)` points.
type Point = usize;
/// A ring of lattice points, counter-clockwise, not repeating its first point.
type Ring = Vec<Point>;

fn point(column: usize, row: usize) -> Point {
    column * (ROWS + 1) + row
}

/// Longitude and latitude of a lattice point, rounded to the 6 decimals written.
fn position(p: Point) -> (f64, f64) {
    let (column, row) = (p / (ROWS + 1), p % (ROWS + 1));
    let nudge = |salt: u64| {
        // FNV-1a of (column, row, salt): fixed, platform-independent, unrelated to the seed.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in [column as u64, row as u64, salt] {
            for byte in b.to_le_bytes() {
                h ^= u64::from(byte);
                h = h.wrapping_mul(0x0000_0100_0000_01b3);
            }
        }
        ((h >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0) * NUDGE
    };
    let lon = ORIGIN.0 + (column as f64 + nudge(1)) * CELL.0;
    let lat = ORIGIN.1 + (row as f64 + nudge(2)) * CELL.1;
    let round = |v: f64| (v * 1e6).round() / 1e6;
    (round(lon), round(lat))
}

/// The cell with south-west corner `(column, row)`, counter-clockwise (east is +x, north +y).
fn cell(column: usize, row: usize) -> Ring {
    vec![
        point(column, row),
        point(column + 1, row),
        point(column + 1, row + 1),
        point(column, row + 1),
    ]
}

/// The cells of one authority in LSOA order: a snake through bands two cells wide, up the
/// first band, down the next, each row crossed alternately east and west, so consecutive
/// LSOAs share an edge and every ward (a run of consecutive LSOAs) is one piece of land.
fn snake(first_column: usize, columns: usize) -> Vec<(usize, usize)> {
    let mut cells = Vec::new();
    for band in 0..columns / 2 {
        let rows: Vec<usize> = if band % 2 == 0 {
            (0..ROWS).collect()
        } else {
            (0..ROWS).rev().collect()
        };
        let (west, east) = (first_column + 2 * band, first_column + 2 * band + 1);
        for (k, row) in rows.into_iter().enumerate() {
            let order = if k % 2 == 0 {
                [west, east]
            } else {
                [east, west]
            };
            cells.extend(order.map(|c| (c, row)));
        }
    }
    cells
}

/// The union of rings that share lattice points: edges walked both ways are inside and
/// cancel, the rest chain into the outline. Returns one ring per part.
///
/// Panics if two boundary edges leave one point (parts touching at a corner): the fixed
/// geography never does that, and the sample's tests would catch it.
fn union(rings: &[&Ring]) -> Vec<Ring> {
    let mut edges: BTreeMap<(Point, Point), i32> = BTreeMap::new();
    for ring in rings {
        for (i, &a) in ring.iter().enumerate() {
            let b = ring[(i + 1) % ring.len()];
            *edges.entry((a, b)).or_default() += 1;
        }
    }
    let mut next: BTreeMap<Point, Point> = BTreeMap::new();
    for &(a, b) in edges.keys().filter(|(a, b)| !edges.contains_key(&(*b, *a))) {
        let previous = next.insert(a, b);
        assert!(previous.is_none(), "the union pinches at lattice point {a}");
    }
    let mut parts = Vec::new();
    while let Some((&start, _)) = next.iter().next() {
        let mut ring = vec![start];
        let mut at = next.remove(&start).unwrap_or(start);
        while at != start {
            ring.push(at);
            at = next.remove(&at).unwrap_or(start);
        }
        parts.push(ring);
    }
    parts
}

/// Every shape, as parts of lattice rings.
struct Shapes {
    lsoa11: Vec<Ring>,
    /// Per piece of `Geography21::pieces`.
    pieces: Vec<Ring>,
}

impl Shapes {
    fn build(place: &Place, geo: &Geography21) -> Shapes {
        let vale = place.lsoas.iter().filter(|l| l.authority == 0).count();
        let cells: Vec<(usize, usize)> = snake(0, VALE_COLUMNS)
            .into_iter()
            .take(vale)
            .chain(snake(VALE_COLUMNS, BROOKMERE_COLUMNS))
            .collect();
        let lsoa11: Vec<Ring> = (0..place.lsoas.len())
            .map(|i| cell(cells[i].0, cells[i].1))
            .collect();
        let mut pieces: Vec<Ring> = vec![Vec::new(); geo.pieces.len()];
        for (i, quad) in lsoa11.iter().enumerate() {
            let mine: Vec<usize> = geo.pieces_of_11(i).collect();
            let redraw = REDRAWS.iter().find(|r| r.from.contains(&i));
            match (redraw, mine.as_slice()) {
                (None, [p]) => pieces[*p] = quad.clone(),
                (Some(r), [p]) if r.change == Change::Merged => pieces[*p] = quad.clone(),
                (Some(r), [e, f]) if r.change == Change::Split => {
                    pieces[*e] = vec![quad[0], quad[1], quad[2]];
                    pieces[*f] = vec![quad[0], quad[2], quad[3]];
                }
                (Some(r), [e, f]) if r.change == Change::Irregular => {
                    let other = r.from.iter().copied().find(|&o| o != i).unwrap_or(i);
                    let [to_e, to_f] = irregular(quad, &lsoa11[other]);
                    pieces[*e] = to_e;
                    pieces[*f] = to_f;
                }
                _ => panic!("LSOA11 {i}: no shape for {} pieces", mine.len()),
            }
        }
        Shapes { lsoa11, pieces }
    }
}

/// The two triangles of `quad` in an irregular redrawing with its neighbour `other` (the two
/// cells share an edge `p → q`): the first new LSOA takes the triangle on the shared edge
/// (`p, q, y`) from each cell, so it straddles the old boundary; the second the other triangle
/// of each, which touch nothing of each other (a two-part LSOA, as irregular ones can be).
fn irregular(quad: &Ring, other: &Ring) -> [Ring; 2] {
    let n = quad.len();
    let k = (0..n)
        .find(|&k| {
            let (p, q) = (quad[k], quad[(k + 1) % n]);
            (0..other.len()).any(|j| other[j] == q && other[(j + 1) % other.len()] == p)
        })
        .expect("the cells of an irregular redrawing share an edge");
    let at = |d: usize| quad[(k + d) % n];
    let (p, q, x, y) = (at(0), at(1), at(2), at(3));
    // Each cell is cut from the far end of its own shared edge: here q–y, and in the
    // neighbour (where the edge runs q → p, then on to z and w) p–w. So the first LSOA gets
    // (p, q, y) and (q, p, w), which meet along the old boundary, and the second (q, x, y) and
    // (p, z, w), which have no point in common.
    [vec![p, q, y], vec![q, x, y]]
}

/// One feature to write: its properties (name, JSON text of the value) and its parts.
type Feature<'a> = (Vec<(&'a str, String)>, Vec<Ring>);

/// A GeoJSON FeatureCollection, one feature per line as the portal's exports are laid out.
fn collection(name: &str, features: &[Feature<'_>]) -> String {
    let mut text = format!(
        "{{\n\"type\": \"FeatureCollection\",\n\"name\": \"{name}\",\n\"crs\": {{ \"type\": \"name\", \
         \"properties\": {{ \"name\": \"urn:ogc:def:crs:OGC:1.3:CRS84\" }} }},\n\"features\": [\n"
    );
    for (i, (properties, parts)) in features.iter().enumerate() {
        let props: Vec<String> = properties
            .iter()
            .map(|(k, v)| format!("\"{k}\": {v}"))
            .collect();
        let polygons: Vec<String> = parts
            .iter()
            .map(|ring| {
                let mut coords: Vec<String> = ring
                    .iter()
                    .map(|&p| {
                        let (x, y) = position(p);
                        format!("[{x:.6}, {y:.6}]")
                    })
                    .collect();
                coords.push(coords[0].clone());
                format!("[[{}]]", coords.join(", "))
            })
            .collect();
        let geometry = match polygons.as_slice() {
            [one] => format!("{{ \"type\": \"Polygon\", \"coordinates\": {one} }}"),
            many => format!(
                "{{ \"type\": \"MultiPolygon\", \"coordinates\": [{}] }}",
                many.join(", ")
            ),
        };
        let comma = if i + 1 < features.len() { "," } else { "" };
        text.push_str(&format!(
            "{{ \"type\": \"Feature\", \"properties\": {{ {} }}, \"geometry\": {geometry} }}{comma}\n",
            props.join(", ")
        ));
    }
    text.push_str("]\n}\n");
    text
}

fn quoted(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

fn output(
    name: &'static str,
    title: &str,
    prefix: &str,
    areas: Vec<(String, String, Vec<Ring>)>,
) -> Output {
    let (cd, nm) = (format!("{prefix}CD"), format!("{prefix}NM"));
    let features: Vec<Feature<'_>> = areas
        .into_iter()
        .enumerate()
        .map(|(i, (code, area_name, parts))| {
            (
                vec![
                    ("FID", (i + 1).to_string()),
                    (cd.as_str(), quoted(&code)),
                    (nm.as_str(), quoted(&area_name)),
                ],
                parts,
            )
        })
        .collect();
    let rows = features.len();
    Output {
        name,
        description: format!(
            "ONS Open Geography Portal boundary GeoJSON layout ({cd}, {nm}; WGS84): {title}"
        ),
        rows,
        text: collection(title, &features),
        gzip: false,
    }
}

/// The 2019 wards and 2011 LSOAs.
pub(crate) fn files_2019(place: &Place) -> Vec<Output> {
    let geo = Geography21::build(place);
    let shapes = Shapes::build(place, &geo);
    let lsoas = place
        .lsoas
        .iter()
        .zip(&shapes.lsoa11)
        .map(|(l, ring)| (l.code.clone(), l.name.clone(), vec![ring.clone()]))
        .collect();
    let wards = place
        .wards
        .iter()
        .enumerate()
        .map(|(w, ward)| {
            let rings: Vec<&Ring> = place
                .lsoas
                .iter()
                .zip(&shapes.lsoa11)
                .filter(|(l, _)| l.ward == w)
                .map(|(_, r)| r)
                .collect();
            (ward.code.clone(), ward.name.to_owned(), union(&rings))
        })
        .collect();
    vec![
        output(
            WARDS_2019,
            "Wards_December_2019_Boundaries_EW_BGC",
            "WD19",
            wards,
        ),
        output(
            LSOAS_2011,
            "LSOA_December_2011_Boundaries_EW_BGC",
            "LSOA11",
            lsoas,
        ),
    ]
}

/// The 2024 wards and 2021 LSOAs.
pub(crate) fn files_2021(place: &Place, geo: &Geography21) -> Vec<Output> {
    let shapes = Shapes::build(place, geo);
    let pieces_of =
        |j: usize| -> Vec<&Ring> { geo.pieces_of_21(j).map(|p| &shapes.pieces[p]).collect() };
    let lsoas = geo
        .lsoas
        .iter()
        .enumerate()
        .map(|(j, l)| (l.code.clone(), l.name.clone(), union(&pieces_of(j))))
        .collect();
    let wards = geo
        .wards
        .iter()
        .enumerate()
        .map(|(w, ward)| {
            let rings: Vec<&Ring> = (0..geo.lsoas.len())
                .filter(|&j| geo.lsoas[j].ward == w)
                .flat_map(pieces_of)
                .collect();
            (ward.code.clone(), ward.name.to_owned(), union(&rings))
        })
        .collect();
    vec![
        output(
            WARDS_2024,
            "Wards_May_2024_Boundaries_UK_BGC",
            "WD24",
            wards,
        ),
        output(
            LSOAS_2021,
            "LSOA_December_2021_Boundaries_EW_BGC",
            "LSOA21",
            lsoas,
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unions_cancel_shared_edges() {
        // Two cells side by side: one ring of six points, counter-clockwise.
        let (a, b) = (cell(0, 0), cell(1, 0));
        let parts = union(&[&a, &b]);
        assert_eq!(parts.len(), 1);
        assert_eq!(parts[0].len(), 6);
        // A cell cut along its diagonal comes back whole.
        let (t1, t2) = (vec![a[0], a[1], a[2]], vec![a[0], a[2], a[3]]);
        let whole = union(&[&t1, &t2]);
        assert_eq!(whole, vec![a.clone()]);
    }

    #[test]
    fn the_snake_keeps_consecutive_cells_adjacent() {
        let cells = snake(0, VALE_COLUMNS);
        assert_eq!(cells.len(), VALE_COLUMNS * ROWS);
        for pair in cells.windows(2) {
            let ((c1, r1), (c2, r2)) = (pair[0], pair[1]);
            assert_eq!(c1.abs_diff(c2) + r1.abs_diff(r2), 1, "{pair:?}");
        }
    }
}
