use std::fmt;

/// Where in an input something went wrong, as precisely as the format allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file as the user named it.
    pub file: String,
    /// Worksheet, for spreadsheets.
    pub sheet: Option<String>,
    /// 1-based line of a text file, or row of a sheet.
    pub line: Option<u64>,
    pub column: Option<ColumnRef>,
}

/// A column by 1-based position and header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnRef {
    pub index: usize,
    pub header: String,
}

impl Location {
    pub fn file(file: impl Into<String>) -> Location {
        Location {
            file: file.into(),
            sheet: None,
            line: None,
            column: None,
        }
    }

    pub fn at_line(&self, line: u64) -> Location {
        Location {
            line: Some(line),
            ..self.clone()
        }
    }

    pub fn at_column(&self, index: usize, header: &str) -> Location {
        Location {
            column: Some(ColumnRef {
                index,
                header: header.to_owned(),
            }),
            ..self.clone()
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(sheet) = &self.sheet {
            write!(f, ", sheet {sheet:?}")?;
        }
        if let Some(line) = self.line {
            let what = if self.sheet.is_some() { "row" } else { "line" };
            write!(f, ", {what} {line}")?;
        }
        if let Some(c) = &self.column {
            write!(f, ", column {} ({:?})", c.index, c.header)?;
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// Bad input: the location says where, the message says what.
    #[error("{location}: {message}")]
    Invalid { location: Location, message: String },
    #[error("{file}: {source}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
    /// The request itself cannot be carried out (unknown vintage, no files).
    #[error("{0}")]
    Usage(String),
    #[error("building the data frame: {0}")]
    Frame(#[from] polars::error::PolarsError),
    #[error("{0}")]
    Schema(#[from] renewal_schema::SchemaError),
}

impl IngestError {
    pub fn invalid(location: Location, message: impl Into<String>) -> IngestError {
        IngestError::Invalid {
            location,
            message: message.into(),
        }
    }

    /// The location of bad input, if this error is about one.
    pub fn location(&self) -> Option<&Location> {
        match self {
            IngestError::Invalid { location, .. } => Some(location),
            _ => None,
        }
    }
}

pub type Result<T, E = IngestError> = std::result::Result<T, E>;
