"""The docs' JSON Schemas, with their $refs resolved from the local files only (no network)."""

from __future__ import annotations

import json
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource

from tests.support import ROOT

DOCS = ROOT / "docs"


def refuse(uri: str) -> Resource[Any]:
    raise NoSuchResource(ref=uri)  # anything not in docs/ would have been fetched: refuse, stay offline


def registry() -> Registry[Any]:
    resources = []
    for path in sorted(DOCS.glob("*.schema.json")):
        schema = json.loads(path.read_text())
        resources.append((schema["$id"], Resource.from_contents(schema)))
    return Registry(retrieve=refuse).with_resources(resources)  # type: ignore[call-arg]


def validator(name: str) -> Draft202012Validator:
    schema = json.loads((DOCS / name).read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, registry=registry(), format_checker=FormatChecker())
