//! The page the bench measures: a service whose web GUI shows one plot, either a year of hourly load
//! with three model forecasts (8,760 points x 4 series, time axis) or one 100,000-point series with a
//! one-point spike up and down, and a Note text input to type into while the plot draws.

use easymlserve::prelude::*;

/// Which plot to answer with, and the note typed meanwhile (unused, but sent like any input).
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct Request {
    /// `year` or `long`.
    pub case: String,
    /// Whatever was typed.
    pub note: String,
}

/// The case again: the Ui builds the plot.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct Response {
    /// `year` or `long`.
    pub case: String,
}

/// Answers at once; the cost measured is the page's.
pub struct Plots;

impl Service for Plots {
    type Request = Request;
    type Response = Response;
    fn process(&self, request: Request) -> Result<Response, ServiceError> {
        match request.case.as_str() {
            "year" | "long" => Ok(Response { case: request.case }),
            other => Err(ServiceError::invalid_field("case", format!("unknown case {other:?}"))),
        }
    }
}

/// A small deterministic noise source (xorshift), so every run draws the same data.
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64 - 0.5
    }
}

/// 2025-01-01T00:00Z in milliseconds since the epoch.
const YEAR_START_MS: f64 = 1_735_689_600_000.0;
/// Points of the long series.
pub const LONG_POINTS: usize = 100_000;
/// Hours of the year plot.
pub const YEAR_HOURS: usize = 8_760;

/// Hourly load over 2025 (season, day, weekend) and three forecasts that miss it by some noise.
pub fn year_plot() -> Plot {
    let mut noise = Noise(0x9E37_79B9_7F4A_7C15);
    let tau = std::f64::consts::TAU;
    let x: Vec<f64> = (0..YEAR_HOURS)
        .map(|h| YEAR_START_MS + h as f64 * 3_600_000.0)
        .collect();
    let measured: Vec<f64> = (0..YEAR_HOURS)
        .map(|h| {
            let (day, hour) = ((h / 24) as f64, (h % 24) as f64);
            let weekend = if (h / 24 + 2) % 7 >= 5 { -60.0 } else { 0.0 };
            400.0
                + 80.0 * (tau * day / 365.0).cos()
                + 120.0 * (tau * (hour - 8.0) / 24.0).sin()
                + weekend
                + 30.0 * noise.next()
        })
        .collect();
    let mut model = |name: &str, spread: f64| {
        let y = measured.iter().map(|v| v + spread * noise.next()).collect();
        Series::line(name, x.clone(), y)
    };
    let (lr, svr, rf) = (model("LR", 80.0), model("SVR", 50.0), model("RF", 30.0));
    Plot::new("A year of hourly load")
        .labels("time", "load (kW)")
        .time_axis()
        .series(Series::line("measured", x.clone(), measured))
        .series(lr)
        .series(svr)
        .series(rf)
}

/// A slow wave with noise over 100,000 points, one point at +500 and one at -500.
pub fn long_plot() -> Plot {
    let mut noise = Noise(0x2545_F491_4F6C_DD1D);
    let x: Vec<f64> = (0..LONG_POINTS).map(|i| i as f64).collect();
    let mut y: Vec<f64> = x.iter().map(|i| (i / 500.0).sin() * 10.0 + noise.next()).collect();
    y[12_345] = 500.0;
    y[67_890] = -500.0;
    Plot::new("100,000 points")
        .labels("i", "value")
        .series(Series::line("signal", x, y))
}

/// The form: the case, a note to type into, and the plot.
pub struct PlotsUi;

impl Ui for PlotsUi {
    type Request = Request;
    type Response = Response;

    fn title(&self) -> String {
        "Plot draw bench".to_owned()
    }

    fn inputs(&self) -> Vec<Input> {
        vec![
            Input::single_choice("case", "Plot", ["year", "long"]).default_value("year"),
            Input::text("note", "Note").optional(),
        ]
    }

    fn outputs(&self) -> Vec<Output> {
        vec![Output::plot("plot", "Plot")]
    }

    fn prepare_request(&self, inputs: &InputValues) -> Result<Request, UiError> {
        Ok(Request {
            case: inputs.text("case")?.unwrap_or("year").to_owned(),
            note: inputs.text("note")?.unwrap_or_default().to_owned(),
        })
    }

    fn process_response(&self, _: &Request, response: Response) -> Result<OutputValues, UiError> {
        let plot = if response.case == "long" {
            long_plot()
        } else {
            year_plot()
        };
        Ok(OutputValues::new().with("plot", OutputValue::Plot(plot)))
    }
}
