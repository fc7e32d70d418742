"""A service written for the original EasyMLServe: `from api_schema import *`, attributes set before
`super().__init__()` (which loads the model), a dict returned where the annotation says a model, an
HTTPException for an unknown model, and `EasyMLServer(...).deploy()` under `__main__`."""

from typing import Any, Dict, Optional

from easymlserve import EasyMLServer, EasyMLService

from api_schema import *  # noqa: F401,F403


class HTTPException(Exception):
    """FastAPI's HTTPException as far as a service sees it (FastAPI is not installed in the tests)."""

    def __init__(self, status_code: int, detail: Optional[str] = None) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.detail = detail


class ForecastingService(EasyMLService):
    """Service to forecast with several models."""

    def __init__(self, scale: float = 1.0, **kwargs: Any) -> None:
        self.scale = scale
        self.loads = 0
        super().__init__(**kwargs)

    def load_model(self) -> None:
        self.loads += 1
        self.models = {"LR": 1.0, "RF": 2.0}

    def process(self, request: APIRequest) -> APIResponse:
        """Process a request and return forecasts."""
        forecasts = []
        for model in request.models:
            if model not in self.models:
                raise HTTPException(404, "Unknown model")
            factor = self.models[model] * self.scale
            forecasts.append({"model": model, "energy": [e * factor for e in request.energy]})
        response: Dict[str, Any] = {"forecasts": forecasts, "shape": (len(forecasts), len(request.energy)), "loads": self.loads}
        return response  # type: ignore[return-value]  # a dict, as the original's services returned


if __name__ == "__main__":
    service = ForecastingService(scale=10.0)
    server = EasyMLServer(service, api_keys=["key-1", "key-2"], uvicorn_args={"host": "0.0.0.0", "port": 8100})
    server.deploy()
