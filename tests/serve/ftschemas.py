"""Validators for the official schemas, shared by the serve tests.

MDS 2.0 ships OpenAPI 3.1 YAML whose $refs point at other YAML files; a
referencing.Registry loads them on demand from the shared data folder, so a
response is validated against the provider API's own response schema
(reference/provider.yaml, paths -> 200 -> schema) with every $ref resolved.
GBFS 3.0 ships one JSON Schema per file.
"""
import functools, json, os, pathlib

import jsonschema
import referencing
import referencing.jsonschema
import yaml

_MDS_PATHS = {
    "trips": "/trips", "events": "/events/historical", "telemetry": "/telemetry",
    "vehicles": "/vehicles", "vehicles_status": "/vehicles/status",
    "vehicle_one": "/vehicles/{device_id}", "vehicle_status_one": "/vehicles/status/{device_id}",
    "events_recent": "/events/recent",
}


def _is_mode_choice(v):
    return (isinstance(v, list) and len(v) > 1 and
            all(isinstance(x, dict) and str(x.get("$ref", "")).startswith("./modes/") for x in v))


def _repair(node):
    """Two defects of the official files, repaired as they are read:
    - modes/*/event.yaml give `contains` a list of event types (not a
      schema), meaning "contains one of these"; as written no validator can
      load it. It becomes {"enum": [...]}, which says what the spec's text
      says (a trip event needs trip_ids).
    - event, trip and vehicle pick their mode with `oneOf` over the four
      mode schemas, but a record can satisfy several (a micromobility
      reservation_start is also a valid car-share one), so oneOf fails
      exactly when the record is good. Fleet Twin publishes micromobility:
      the choice becomes that mode's schema, which is then enforced."""
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            if k == "contains" and isinstance(v, list):
                out[k] = {"enum": v}
            elif k == "oneOf" and _is_mode_choice(v):
                out["allOf"] = [{"$ref": x["$ref"]} for x in v if "/micromobility/" in x["$ref"]]
            else:
                out[k] = _repair(v)
        return out
    if isinstance(node, list):
        return [_repair(v) for v in node]
    return node


class Schemas:
    def __init__(self, shared):
        self.mds_root = pathlib.Path(shared, "schemas", "mds", "2.0-openapi").resolve()
        self.gbfs_root = pathlib.Path(shared, "schemas", "gbfs", "v3.0").resolve()
        self._registry = referencing.Registry(retrieve=self._retrieve)
        self._validators = {}

    @functools.lru_cache(maxsize=None)
    def _retrieve(self, uri):
        assert uri.startswith("file://"), uri
        with open(uri[len("file://"):]) as f:
            contents = _repair(yaml.safe_load(f))
        return referencing.Resource.from_contents(
            contents, default_specification=referencing.jsonschema.DRAFT202012)

    def _mds_validator(self, ref):
        v = self._validators.get(ref)
        if v is None:
            v = jsonschema.Draft202012Validator(
                {"$ref": ref}, registry=self._registry,
                format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
            self._validators[ref] = v
        return v

    def mds_response(self, key, doc):
        """Errors of an MDS response body for the payload key (trips, events …)."""
        path = _MDS_PATHS[key].replace("~", "~0").replace("/", "~1")
        ref = (self.mds_root / "reference" / "provider.yaml").as_uri() + \
            f"#/paths/{path}/get/responses/200/content/application~1json/schema"
        errs = list(self._mds_validator(ref).iter_errors(doc))
        # The provider schema names no paging for the hour-windowed
        # endpoints, but allows extra members; links must still be MDS paging.
        if "links" in doc:
            errs += list(self._mds_validator(
                (self.mds_root / "models" / "response" / "paging.yaml").as_uri()).iter_errors(
                    {"links": doc["links"]}))
        return errs

    def mds_error(self, doc):
        return list(self._mds_validator(
            (self.mds_root / "models" / "response" / "error.yaml").as_uri()).iter_errors(doc))

    def gbfs(self, name, doc):
        with open(self.gbfs_root / f"{name}.json") as f:
            schema = json.load(f)
        v = jsonschema.validators.validator_for(schema)(schema)
        return list(v.iter_errors(doc))


def describe(errs, n=3):
    out = []
    for e in errs[:n]:
        where = "/".join(map(str, e.absolute_path))
        out.append(f"    at {where or '(root)'}: {e.message[:300]}")
    return "\n".join(out)
