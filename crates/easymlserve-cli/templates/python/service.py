"""The `{{name}}` service: a small linear model that predicts an exam score from hours of study and
sleep. Replace the model with yours; the `Field` descriptions and bounds become the labels,
descriptions and slider ranges of the generated GUI, and the server checks the bounds."""

from pydantic import BaseModel, ConfigDict, Field

from easymlserve import Service


class Request(BaseModel):
    """One student's week."""

    model_config = ConfigDict(extra="forbid")

    study_hours: float = Field(ge=0, le=16, description="Hours spent studying per day.")
    sleep_hours: float = Field(default=8.0, ge=0, le=14, description="Hours of sleep per night.")


class Response(BaseModel):
    """The prediction."""

    score: float = Field(description="The predicted exam score, 0 to 100.")


class {{class}}(Service):
    """Predicts an exam score from hours of study and sleep."""

    name = "{{name}}"
    version = "0.1.0"
    example_request = {"study_hours": 6.0, "sleep_hours": 8.0}

    def load_model(self) -> None:
        # A real service loads its model from a file here, once per worker process.
        self.weights = (4.5, 2.0)
        self.bias = 20.0

    def process(self, request: Request) -> Response:
        raw = self.weights[0] * request.study_hours + self.weights[1] * request.sleep_hours + self.bias
        return Response(score=min(max(raw, 0.0), 100.0))
