"""OpenAPI: every error response is documented as application/problem+json."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from functions.problems import MEDIA_TYPE
from functions.schemas import Problem

_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The `responses` of a route for these error statuses (schema: Problem)."""
    return {s: {"model": Problem, "description": HTTPStatus(s).phrase} for s in statuses}


def install(app: FastAPI) -> None:
    """Replace FastAPI's schema builder: 4xx/5xx are problem+json and the default
    HTTPValidationError shape (which this API never sends) is gone."""

    def build() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        for path in schema.get("paths", {}).values():
            for operation in path.values():
                for status, response in operation.get("responses", {}).items():
                    if status.isdigit() and int(status) >= 400:
                        response["content"] = {MEDIA_TYPE: {"schema": _PROBLEM_REF}}
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
        components["Problem"] = Problem.model_json_schema(
            ref_template="#/components/schemas/{model}"
        )
        for name, definition in components["Problem"].pop("$defs", {}).items():
            components.setdefault(name, definition)
        app.openapi_schema = schema
        return schema

    app.openapi = build  # type: ignore[method-assign]
