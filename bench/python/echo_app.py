"""Why this exists: the echo service on the original EasyMLServe stack (FastAPI + Uvicorn), the Python
side of bench/compare.sh. Same JSON as examples/echo: {"text": "...", "repeat": n} -> {"text": repeated}.

Run: `uvicorn echo_app:app --port 18084 --log-level warning` (from bench/python, in bench/.venv).
"""

from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict, Field

app = FastAPI(title="echo")


class EchoRequest(BaseModel):
    """What to echo; unknown fields are refused, as the Rust service does."""

    model_config = ConfigDict(extra="forbid")
    text: str
    repeat: int = Field(default=1, ge=1, le=10)


class EchoResponse(BaseModel):
    """The echoed text."""

    text: str


@app.post("/process", response_model=EchoResponse)
async def process(request: EchoRequest) -> EchoResponse:
    # `async def`: the work is tiny and never blocks, so it runs on the event loop (FastAPI's advice).
    return EchoResponse(text=request.text * request.repeat)


@app.get("/health")
async def health() -> dict:
    # The benchmark times cold start up to the first 200 here.
    return {"status": "ready"}
