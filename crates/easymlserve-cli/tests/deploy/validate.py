"""Validates Kubernetes manifests offline, for the deploy tests (crates/easymlserve-cli/tests/deploy.rs).

Core kinds (Deployment, Service, ...) go through kubernetes-validate in strict mode for the Kubernetes
version given; KServe kinds through the openAPIV3Schema of their CRD with jsonschema, closed the way the
API server closes it: an object schema that lists properties refuses any other field unless it says
`x-kubernetes-preserve-unknown-fields` or has its own `additionalProperties`.

    python validate.py --kubernetes-version 1.34.0 --crds DIR FILE.yaml...

Prints one line per resource, `ok <file> <kind>/<name>` or `error <file> <kind>/<name>: <path>: <message>`
(every error found), and exits 1 if any resource failed, 2 on a file that cannot be read.
"""

from __future__ import annotations

import argparse
import copy
import pathlib
import sys
from typing import Any

import jsonschema
import kubernetes_validate
import yaml

Schema = dict[str, Any]

# libyaml's parser when PyYAML has it: the InferenceService CRD (2 MB) takes 5 s in pure Python.
Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def close_objects(schema: Schema) -> Schema:
    """Returns a copy of a CRD schema in which object schemas with properties refuse unknown fields."""
    schema = copy.deepcopy(schema)

    def walk(node: Any) -> None:
        if not isinstance(node, dict):
            return
        if (
            "properties" in node
            and "additionalProperties" not in node
            and not node.get("x-kubernetes-preserve-unknown-fields", False)
        ):
            node["additionalProperties"] = False
        for child in node.get("properties", {}).values():
            walk(child)
        for key in ("items", "additionalProperties", "not"):
            walk(node.get(key))
        for key in ("allOf", "anyOf", "oneOf"):
            for child in node.get(key, []):
                walk(child)

    walk(schema)
    return schema


def crd_schemas(directory: pathlib.Path) -> dict[tuple[str, str], Schema]:
    """Maps (apiVersion, kind) to the closed schema of every CRD in the directory."""
    schemas: dict[tuple[str, str], Schema] = {}
    for path in sorted(directory.glob("*.yaml")):
        crd = yaml.load(path.read_text(), Loader=Loader)
        group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
        for version in crd["spec"]["versions"]:
            schema = version["schema"]["openAPIV3Schema"]
            schemas[(f"{group}/{version['name']}", kind)] = close_objects(schema)
    return schemas


CRDS: dict[pathlib.Path, dict[tuple[str, str], Schema]] = {}


def where(path: Any) -> str:
    return ".".join(str(part) for part in path) or "(top)"


def errors_of(resource: dict[str, Any], version: str, crd_dir: pathlib.Path) -> list[str]:
    """Every validation error of one resource, each as `path: message`."""
    key = (str(resource.get("apiVersion")), str(resource.get("kind")))
    group = key[0].rpartition("/")[0]
    # The CRDs are read only for a resource outside Kubernetes' own groups (they take a second to parse).
    if "." in group and not group.endswith(".k8s.io") and crd_dir not in CRDS:
        CRDS[crd_dir] = crd_schemas(crd_dir)
    crds = CRDS.get(crd_dir, {})
    if key in crds:
        validator = jsonschema.Draft202012Validator(crds[key])
        found = sorted(validator.iter_errors(resource), key=lambda e: list(map(str, e.absolute_path)))
        return [f"{where(e.absolute_path)}: {e.message}" for e in found]
    try:
        kubernetes_validate.validate(resource, version, strict=True)
    except kubernetes_validate.ValidationError as e:
        return [f"{where(e.path)}: {e.message}"]
    except kubernetes_validate.SchemaNotFoundError as e:
        return [f"(top): {e.message}"]
    return []


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kubernetes-version", required=True)
    parser.add_argument("--crds", required=True, type=pathlib.Path)
    parser.add_argument("files", nargs="+", type=pathlib.Path)
    args = parser.parse_args()
    failed = False
    for path in args.files:
        try:
            resources = [r for r in yaml.load_all(path.read_text(), Loader=Loader) if r]
        except (OSError, yaml.YAMLError) as e:
            print(f"error {path}: cannot read: {e}")
            return 2
        for resource in resources:
            name = f"{resource.get('kind')}/{resource.get('metadata', {}).get('name')}"
            errors = errors_of(resource, args.kubernetes_version, args.crds)
            failed = failed or bool(errors)
            for error in errors:
                print(f"error {path} {name}: {error}")
            if not errors:
                print(f"ok {path} {name}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
