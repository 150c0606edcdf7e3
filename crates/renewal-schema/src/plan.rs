//! `data-schemas/plans/`: report views declared as data, such as the Local Performance Plan
//! (`lpp.toml`): which indicators it prints, in which sections and order.

use serde::Deserialize;

use crate::{IndicatorDef, SchemaError, dataset_matches};

/// A report view over many indicators.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanDef {
    /// The plan's id (`lpp`).
    pub id: String,
    pub title: String,
    /// The level of the per-area rows unless a request names another (`ward`).
    pub level: String,
    /// The selection set against the rest of the authority unless a request names another.
    pub selection: String,
    pub sections: Vec<PlanSection>,
}

/// One section: indicators named (ids or `*` patterns) in order, then the rest of its themes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanSection {
    pub title: String,
    /// Indicator ids or patterns with `*`, in print order.
    #[serde(default)]
    pub indicators: Vec<String>,
    /// Every other indicator of these themes, by id.
    #[serde(default)]
    pub themes: Vec<String>,
    /// Ids or `*` patterns of indicators the themes bring in that the section leaves out (the
    /// IoD domain scores share themes with outcomes but are editions, not yearly figures).
    #[serde(default)]
    pub exclude: Vec<String>,
}

impl PlanDef {
    pub(crate) fn check(&self, file: &str) -> Result<(), SchemaError> {
        if let Some(s) = self
            .sections
            .iter()
            .find(|s| s.indicators.is_empty() && s.themes.is_empty())
        {
            return Err(SchemaError::Invalid {
                file: file.to_owned(),
                message: format!("section {:?} names no indicators and no themes", s.title),
            });
        }
        Ok(())
    }

    /// The plan's indicators, each once, as (section title, indicator) in print order: in a
    /// section, those its `indicators` name (a pattern's matches by id), then its themes' others
    /// by id. An indicator already in an earlier section is not repeated.
    pub fn indicators<'c>(
        &self,
        all: impl IntoIterator<Item = &'c IndicatorDef>,
    ) -> Vec<(String, &'c IndicatorDef)> {
        let mut sorted: Vec<&IndicatorDef> = all.into_iter().collect();
        sorted.sort_by(|a, b| a.id.cmp(&b.id));
        let mut out: Vec<(String, &IndicatorDef)> = Vec::new();
        for s in &self.sections {
            let named = s
                .indicators
                .iter()
                .flat_map(|p| sorted.iter().filter(move |d| dataset_matches(p, &d.id)));
            let themed = sorted.iter().filter(|d| {
                s.themes.contains(&d.theme) && !s.exclude.iter().any(|p| dataset_matches(p, &d.id))
            });
            for d in named.chain(themed) {
                if !out.iter().any(|(_, o)| o.id == d.id) {
                    out.push((s.title.clone(), d));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(id: &str, theme: &str) -> IndicatorDef {
        toml::from_str(&format!(
            "id = \"{id}\"\ntitle = \"t\"\ntheme = \"{theme}\"\nvalue_type = \"proportion\"\n\
             multiplier = 100\nunit = \"%\"\npolarity = \"no-judgement\"\nsource = \"s\"\n\
             native_geography = \"lsoa\"\n[numerator]\ndataset = \"d\"\n"
        ))
        .unwrap()
    }

    #[test]
    fn named_first_then_themes_by_id_each_once() {
        let plan: PlanDef = toml::from_str(
            "id = \"p\"\ntitle = \"P\"\nlevel = \"ward\"\nselection = \"imd-decile<=2\"\n\
             [[sections]]\ntitle = \"A\"\nindicators = [\"z-one\", \"bv-*\"]\nthemes = [\"services\"]\n\
             [[sections]]\ntitle = \"B\"\nthemes = [\"crime\", \"services\"]\nexclude = [\"crime-b*\"]\n",
        )
        .unwrap();
        let all = [
            def("oflog-x", "services"),
            def("bv-b", "services"),
            def("crime-a", "crime"),
            def("crime-burglary", "crime"),
            def("bv-a", "services"),
            def("z-one", "health"),
            def("iod-x", "deprivation"),
        ];
        let got: Vec<(String, &str)> = plan
            .indicators(&all)
            .into_iter()
            .map(|(s, d)| (s, d.id.as_str()))
            .collect();
        let want: Vec<(String, &str)> = [
            ("A", "z-one"),
            ("A", "bv-a"),
            ("A", "bv-b"),
            ("A", "oflog-x"),
            ("B", "crime-a"),
        ]
        .into_iter()
        .map(|(s, i)| (s.to_owned(), i))
        .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn a_section_naming_nothing_is_refused() {
        let plan: PlanDef = toml::from_str(
            "id = \"p\"\ntitle = \"P\"\nlevel = \"ward\"\nselection = \"x\"\n\
             [[sections]]\ntitle = \"Empty\"\n",
        )
        .unwrap();
        let e = plan.check("plans/p.toml").unwrap_err().to_string();
        assert!(e.contains("plans/p.toml") && e.contains("\"Empty\""), "{e}");
    }
}
