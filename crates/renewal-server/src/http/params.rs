//! The feed's query strings: the parameter structs (which also document the OpenAPI
//! parameters), and reading a query string into a `pb` request's parts.

use super::*;

/// How an answer is rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// `{"basis": …, "notes": […], "rows": […]}`, as `renewal <question> --format json`.
    Json,
    /// The CLI's CSV: a header of the answer's columns, one line per row.
    Csv,
    /// The CLI's `--format xlsx` workbook: typed cells on sheet `Answer`, basis, dataset
    /// versions, notes and suppressed rows on sheet `Notes`.
    Xlsx,
}

/// The XLSX media type (`Accept` asks for a workbook with it).
pub(super) const XLSX_TYPE: &str =
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Parameters every endpoint takes.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // read from the pairs directly; the struct documents them
pub struct CommonParams {
    /// The API key, for tools that cannot send an `Authorization: Bearer` header. URLs end up
    /// in browser histories, proxy and server logs: prefer the header.
    pub(super) key: Option<String>,
    /// `json` (default), `csv` or `xlsx`; `Accept: text/csv` also asks for CSV, and
    /// `Accept: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet` for XLSX.
    pub(super) format: Option<Format>,
}

/// How areas are built: the CLI's `--ward-vintage`, `--bridge-weights` and `--at`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ScopeParams {
    /// Ward vintage to build wards in (e.g. `WD19`); by default the lookup that fits the data.
    pub(super) ward_vintage: Option<String>,
    /// Population to apportion split LSOAs by when data are answered on the other LSOA
    /// vintage, e.g. `population-census2021-lsoa21`.
    pub(super) bridge_weights: Option<String>,
    /// A dataset version instead of the current one, `DATASET=VERSION`; repeatable.
    #[serde(default)]
    pub(super) at: Vec<String>,
}

/// Area level.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum LevelParam {
    Lsoa,
    Ward,
    Neighbourhood,
    Lad,
}

impl LevelParam {
    fn pb(self) -> i32 {
        (match self {
            LevelParam::Lsoa => pb::Level::Lsoa,
            LevelParam::Ward => pb::Level::Ward,
            LevelParam::Neighbourhood => pb::Level::Neighbourhood,
            LevelParam::Lad => pb::Level::Lad,
        }) as i32
    }
}

pub(super) fn level(l: Option<LevelParam>) -> i32 {
    l.map_or(pb::Level::Unspecified as i32, LevelParam::pb)
}

/// What an area is compared with: `authority`, `england`, or a parent type (`pfa`, `icb`,
/// `region`, a user-defined type …): the parent area of that type containing each area.
/// Checked by the service (unknown words and types are a 400 naming the parameter).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = String, example = "pfa")]
pub struct BenchmarkParam(pub String);

/// No parameters beyond `key` and `format`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct NoParams {}

/// `GET /api/v1/areas` (ListAreas).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AreasParams {
    /// Indicator id (`/api/v1/indicators` lists them).
    #[param(required = true)]
    pub(super) indicator: Option<String>,
    /// Areas of this level (default `ward`).
    pub(super) level: Option<LevelParam>,
}

/// `GET /api/v1/gap` (AreaGap).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct GapParams {
    /// Indicator id.
    #[param(required = true)]
    pub(super) indicator: Option<String>,
    /// Period label (e.g. `2021-01`, `2019-20`); the latest by default.
    pub(super) period: Option<String>,
    /// Only areas of this local authority; all of England by default (keys limited to some
    /// authorities must name one).
    pub(super) authority: Option<String>,
    /// Areas of this level (default `ward`).
    pub(super) level: Option<LevelParam>,
    /// Compare with the area's authority (default) or with England.
    pub(super) benchmark: Option<BenchmarkParam>,
}

/// `GET /api/v1/gap-vs-england` (GapVsEngland).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct GapVsEnglandParams {
    /// Indicator id.
    #[param(required = true)]
    pub(super) indicator: Option<String>,
    /// Period label; the latest by default.
    pub(super) period: Option<String>,
    /// Only areas of this local authority.
    pub(super) authority: Option<String>,
    /// Areas of this level (default `ward`).
    pub(super) level: Option<LevelParam>,
}

/// `GET /api/v1/versus` (DeprivedVsRest).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct VersusParams {
    /// Indicator id.
    #[param(required = true)]
    pub(super) indicator: Option<String>,
    /// Period label; the latest by default.
    pub(super) period: Option<String>,
    /// The local authority.
    #[param(required = true)]
    pub(super) authority: Option<String>,
    /// Which areas: `imd-decile<=N`, `areas:CODE,CODE…` or `neighbourhood:ID`.
    #[param(required = true)]
    pub(super) select: Option<String>,
}

/// `GET /api/v1/trend` (NarrowingTheGap).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TrendParams {
    /// Indicator id.
    #[param(required = true)]
    pub(super) indicator: Option<String>,
    /// The local authority.
    #[param(required = true)]
    pub(super) authority: Option<String>,
    /// Which areas: `imd-decile<=N`, `areas:CODE,CODE…` or `neighbourhood:ID`.
    #[param(required = true)]
    pub(super) select: Option<String>,
}

/// `GET /api/v1/target-status` (TargetStatus).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TargetStatusParams {
    /// Only this target; every target the key may read by default.
    pub(super) id: Option<String>,
}

/// `GET /api/v1/priority` (PriorityNeighbourhoods).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PriorityParams {
    /// IoD edition: a year or `newest`; by default the edition `editions.toml` names.
    pub(super) edition: Option<String>,
    /// `imd` (default) or a domain (`income`, `health`, …).
    pub(super) domain: Option<String>,
    /// The most deprived percent nationally (default 10).
    #[param(value_type = Option<f64>)]
    pub(super) percent: Option<String>,
    /// Only this local authority.
    pub(super) authority: Option<String>,
    /// Only pockets: deprived LSOAs in authorities outside the most deprived percent.
    #[param(value_type = Option<bool>)]
    pub(super) pockets_only: Option<String>,
}

/// `GET /api/v1/profile` (AreaProfile).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ProfileParams {
    /// A ward, LSOA, neighbourhood or authority code.
    #[param(required = true)]
    pub(super) area: Option<String>,
}

/// `GET /api/v1/similar` (MostSimilar).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SimilarParams {
    /// The area to compare with.
    #[param(required = true)]
    pub(super) area: Option<String>,
    /// Areas of this level (default `ward`).
    pub(super) level: Option<LevelParam>,
    /// Indicators to compare on, comma-separated.
    #[param(required = true)]
    pub(super) indicators: Option<String>,
    /// How many areas (default 5).
    #[param(value_type = Option<u32>)]
    pub(super) k: Option<String>,
}

/// `GET /api/v1/change` (ChangeVsSimilar).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ChangeParams {
    /// The outcome indicator.
    #[param(required = true)]
    pub(super) indicator: Option<String>,
    /// The area: a code of `level`.
    #[param(required = true)]
    pub(super) area: Option<String>,
    /// Areas of this level (default `ward`).
    pub(super) level: Option<LevelParam>,
    /// Baseline period P1.
    #[param(required = true)]
    pub(super) from: Option<String>,
    /// Later period P2.
    #[param(required = true)]
    pub(super) to: Option<String>,
    /// Baseline indicators to measure similarity on, comma-separated.
    #[param(required = true)]
    pub(super) similar_on: Option<String>,
    /// How many similar areas (default 10).
    #[param(value_type = Option<u32>)]
    pub(super) k: Option<String>,
}

/// `GET /api/v1/spend` (SpendByPlace) and `GET /api/v1/spend-years` (SpendByYear).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SpendParams {
    /// The payments dataset (`spend-…`).
    #[param(required = true)]
    pub(super) spend: Option<String>,
    /// The supplier register dataset (`suppliers-…`).
    #[param(required = true)]
    pub(super) suppliers: Option<String>,
    /// The postcode directory dataset (default `postcodes`).
    pub(super) postcodes: Option<String>,
    /// A financial year (`2021-22`) or dates (`2021-04-01..2021-09-30`, inclusive).
    #[param(required = true)]
    pub(super) period: Option<String>,
    /// `district`, `ward`, `lsoa`, `decile`, `local-decile`, `service`, `expense`, `supplier`
    /// or `kind`.
    #[param(required = true)]
    pub(super) by: Option<String>,
    /// Organisations named by the `supplier` breakdown (default 20).
    #[param(value_type = Option<u32>)]
    pub(super) top: Option<String>,
    /// IoD edition placing suppliers (default: the default edition).
    pub(super) edition: Option<String>,
    /// `/api/v1/spend-years` only: financial years before `period` in the baseline (default 3).
    #[param(value_type = Option<u32>)]
    pub(super) baseline_years: Option<String>,
}

/// `GET /api/v1/lm3` (LocalMultiplier).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct Lm3Params {
    /// The survey dataset (`lm3-…`).
    #[param(required = true)]
    pub(super) survey: Option<String>,
    /// Round 2 proxies (decimal shares, both or neither), needed only when no supplier
    /// responded.
    pub(super) round2_staff_proxy: Option<String>,
    /// See `round2_staff_proxy`.
    pub(super) round2_supplier_proxy: Option<String>,
    /// Round 3 proxy for staff, needed only when no staff responded.
    pub(super) staff_respend_proxy: Option<String>,
    /// Round 3 proxy for local suppliers, needed only when none responded.
    pub(super) supplier_respend_proxy: Option<String>,
}

/// `GET /api/v1/map`: the gap question as GeoJSON.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MapParams {
    /// Indicator id.
    #[param(required = true)]
    pub(super) indicator: Option<String>,
    /// Period label; the latest by default.
    pub(super) period: Option<String>,
    /// The local authority whose areas are drawn.
    #[param(required = true)]
    pub(super) authority: Option<String>,
    /// `ward` (default) or `lsoa`.
    pub(super) level: Option<LevelParam>,
    /// Compare with the area's authority (default) or with England.
    pub(super) benchmark: Option<BenchmarkParam>,
    /// Simplify shapes for the web: Visvalingam–Whyatt, removing vertices whose triangle with
    /// their neighbours is under `simplify`² square metres. By default every vertex is kept.
    #[param(value_type = Option<f64>)]
    pub(super) simplify: Option<String>,
    /// Decimal places of longitude and latitude (default 6, at most 15).
    #[param(value_type = Option<u8>)]
    pub(super) precision: Option<String>,
}

/// A request's query string, read and checked.
pub(super) struct Query<P> {
    pub(super) params: P,
    pub(super) scope: pb::Scope,
    pub(super) format: Format,
    pub(super) key: Option<String>,
    /// Every pair except `key`, sorted: what the ETag and the log see.
    pub(super) normalised: String,
}

pub(super) fn bad(message: impl Into<String>) -> ApiError {
    ApiError(Status::invalid_argument(message.into()))
}

/// Reads the query string: `key` and `format` taken out, the scope parameters (when the
/// endpoint takes them) read into a `pb::Scope`, the rest into `P`, which refuses any name it
/// does not declare.
pub(super) fn read_query<P: serde::de::DeserializeOwned>(
    raw: Option<&str>,
    headers: &HeaderMap,
    takes_scope: bool,
) -> Result<Query<P>, ApiError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw.unwrap_or(""))
        .map_err(|e| bad(format!("query string: {e}")))?;
    let mut key = None;
    let mut format = None;
    let mut scope = serde_json::Map::new();
    let mut rest = serde_json::Map::new();
    let mut at = Vec::new();
    let mut kept = Vec::new();
    for (name, value) in pairs {
        if name != "key" {
            kept.push((name.clone(), value.clone()));
        }
        let target = match name.as_str() {
            "key" => {
                if key.replace(value).is_some() {
                    return Err(bad("key: given more than once"));
                }
                continue;
            }
            "format" => {
                let f = serde_json::from_value(serde_json::Value::String(value.clone()))
                    .map_err(|_| bad(format!("format: {value:?} is not json or csv")))?;
                if format.replace(f).is_some() {
                    return Err(bad("format: given more than once"));
                }
                continue;
            }
            "at" if takes_scope => {
                at.push(serde_json::Value::String(value));
                continue;
            }
            "ward_vintage" | "bridge_weights" if takes_scope => &mut scope,
            _ => &mut rest,
        };
        if target
            .insert(name.clone(), serde_json::Value::String(value))
            .is_some()
        {
            return Err(bad(format!("{name}: given more than once")));
        }
    }
    if !at.is_empty() {
        scope.insert("at".into(), serde_json::Value::Array(at));
    }
    let scope: ScopeParams = from_map(scope)?;
    let params: P = from_map(rest)?;
    let mut pins = std::collections::HashMap::new();
    for pin in &scope.at {
        let (id, v) = pin
            .split_once('=')
            .ok_or_else(|| bad(format!("at: {pin:?}: expected DATASET=VERSION")))?;
        let v: u64 = v
            .parse()
            .map_err(|_| bad(format!("at: {pin:?}: version must be a whole number")))?;
        pins.insert(id.to_owned(), v);
    }
    let format = format.unwrap_or_else(|| {
        let wants = |media: &str| {
            headers
                .get_all(header::ACCEPT)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .any(|v| v.split(',').any(|t| t.trim().starts_with(media)))
        };
        if wants("text/csv") {
            Format::Csv
        } else if wants(XLSX_TYPE) {
            Format::Xlsx
        } else {
            Format::Json
        }
    });
    kept.sort();
    let normalised = serde_urlencoded::to_string(&kept).unwrap_or_default();
    Ok(Query {
        params,
        scope: pb::Scope {
            ward_vintage: scope.ward_vintage.unwrap_or_default(),
            pins,
            bridge_weights: scope.bridge_weights.unwrap_or_default(),
        },
        format,
        key,
        normalised,
    })
}

/// Deserialises string-valued parameters into `P`, naming the parameter in any error.
pub(super) fn from_map<P: serde::de::DeserializeOwned>(
    map: serde_json::Map<String, serde_json::Value>,
) -> Result<P, ApiError> {
    serde_path_to_error::deserialize(serde_json::Value::Object(map)).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        // serde says "field"; these are query parameters.
        let inner = inner.replace("unknown field", "unknown query parameter");
        if path == "." {
            bad(inner)
        } else {
            bad(format!("{path}: {inner}"))
        }
    })
}

pub(super) fn parse_number<T: std::str::FromStr>(
    name: &str,
    v: Option<&str>,
) -> Result<Option<T>, ApiError> {
    v.map(|v| {
        v.trim()
            .parse()
            .map_err(|_| bad(format!("{name}: {v:?} is not a number")))
    })
    .transpose()
}

pub(super) fn parse_flag(name: &str, v: Option<&str>) -> Result<bool, ApiError> {
    match v.map(str::trim) {
        None | Some("false") | Some("0") => Ok(false),
        Some("true") | Some("1") | Some("") => Ok(true),
        Some(other) => Err(bad(format!("{name}: {other:?} is not true or false"))),
    }
}

/// `GET /api/v1/lpp` (LocalPerformancePlan).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LppParams {
    /// The local authority.
    #[param(required = true)]
    pub(super) authority: Option<String>,
    /// The financial year, `2023-24` or `2023/24`.
    #[param(required = true)]
    pub(super) year: Option<String>,
    /// Level of the per-area rows: `ward` (default), `neighbourhood` or `lsoa`.
    pub(super) level: Option<LevelParam>,
    /// The deprived areas set against the rest: `imd-decile<=N` (default `imd-decile<=2`),
    /// `areas:CODE,CODE…` or `neighbourhood:ID`.
    pub(super) select: Option<String>,
    /// The plan in `data-schemas/plans/` (default `lpp`).
    pub(super) plan: Option<String>,
}
