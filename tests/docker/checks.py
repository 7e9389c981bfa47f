"""Checks of docker/ that no off-the-shelf validator makes: credentials written as literals,
compose references that point nowhere, a Dockerfile that ends as root.

Each function takes the parsed file (or its path) and returns a list of problems, empty when
the file is fine, so a test can feed it a broken input and see it fail.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# A setting or key whose value is a credential.
CREDENTIAL_NAME = re.compile(r"(PASSWORD|PASS|SECRET|TOKEN|KEY)$", re.IGNORECASE)
# Keys that name a credential's location (a Secret, a key inside it), never hold one.
REFERENCE_KEYS = {"secretKey", "envName"}
# Compose interpolation that takes the value from the environment and has no literal fallback:
# ${VAR}, ${VAR:?message}, ${VAR?message}. ${VAR:-default} would ship the default.
REQUIRED_VARIABLE = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*(?::?\?[^}]*)?\}")
# scheme://user:password@ — the password is a variable or a literal.
URI_PASSWORD = re.compile(r"[a-z][a-z0-9+.-]*://[^/\s:@]+:(\$\{[^}]*\}|[^@\s/]+)@", re.IGNORECASE)
DEPENDS_CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}


def _is_reference_key(key: str) -> bool:
    return key in REFERENCE_KEYS or key.endswith("Name")


def _from_environment(value: str) -> bool:
    return REQUIRED_VARIABLE.fullmatch(value.strip()) is not None


def _walk(obj: Any, path: str = "") -> Iterator[tuple[str, Any, Any]]:
    """(path, key, value) for every mapping entry and list item, depth first."""
    if isinstance(obj, dict):
        for key, value in obj.items():
            yield f"{path}.{key}", key, value
            yield from _walk(value, f"{path}.{key}")
    elif isinstance(obj, list):
        for i, item in enumerate(obj):
            yield f"{path}[{i}]", None, item
            yield from _walk(item, f"{path}[{i}]")


def _literal_setting(key: Any, value: Any) -> bool:
    """``key: value`` where the key names a credential and the value is written out."""
    if not isinstance(key, str) or not CREDENTIAL_NAME.search(key) or _is_reference_key(key):
        return False
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return False
    return bool(str(value).strip()) and not _from_environment(str(value))


def _literal_env_entry(item: Any) -> str | None:
    """The name of a credential that a ``{name, value}`` or ``NAME=value`` entry writes out."""
    if isinstance(item, dict) and isinstance(item.get("name"), str) and "value" in item:
        name, literal = item["name"], str(item["value"])
    elif isinstance(item, str) and re.fullmatch(r"[A-Za-z_]\w*=.*", item):
        name, _, literal = item.partition("=")
    else:
        return None
    if CREDENTIAL_NAME.search(name) and literal.strip() and not _from_environment(literal):
        return name
    return None


def literal_credentials(document: Any) -> list[str]:
    """Credentials written into a compose file, Helm values or a manifest instead of referenced.

    Flags a credential-named key with a literal value (``${VAR}``/``${VAR:?}`` interpolation is
    not a literal, ``${VAR:-default}`` is), a Kubernetes-style ``{name, value}`` environment
    entry or a compose ``NAME=value`` list item whose name is a credential's, and a URI with a
    literal password.
    """
    problems = []
    for path, key, value in _walk(document):
        if _literal_setting(key, value):
            problems.append(f"{path}: literal value for a credential")
        if (key is None or isinstance(value, dict)) and (name := _literal_env_entry(value)):
            problems.append(f"{path}: environment entry {name} holds a literal")
        if isinstance(value, str):
            for match in URI_PASSWORD.finditer(value):
                if not _from_environment(match.group(1)):
                    problems.append(f"{path}: URI with a literal password")
    return problems


def required_variables(document: Any) -> set[str]:
    """Variables a compose document interpolates as ``${VAR:?…}`` (required, no default)."""
    return {
        name
        for _, _, value in _walk(document)
        if isinstance(value, str)
        for name in re.findall(r"\$\{(\w+):?\?", value)
    }


def _depends_on(service: dict) -> dict[str, str]:
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return dict.fromkeys(deps, "service_started")
    return {name: (spec or {}).get("condition", "service_started") for name, spec in deps.items()}


def _named_volume_sources(service: dict) -> Iterator[str]:
    for volume in service.get("volumes") or []:
        if isinstance(volume, dict):
            if volume.get("type", "volume") == "volume" and volume.get("source"):
                yield volume["source"]
            continue
        source = volume.split(":", 1)[0] if ":" in volume else ""
        # Paths (./x, ../x, /x) and interpolated host folders are bind mounts.
        if source and not source.startswith((".", "/", "~", "$")):
            yield source


def compose_problems(document: dict, compose_dir: Path) -> list[str]:
    """References in a compose document that resolve to nothing, and unsafe defaults."""
    problems = []
    services = document.get("services") or {}
    declared_volumes = set(document.get("volumes") or {})
    for name, service in services.items():
        for target, condition in _depends_on(service).items():
            if target not in services:
                problems.append(f"{name}: depends_on names no service {target!r}")
                continue
            if condition not in DEPENDS_CONDITIONS:
                problems.append(f"{name}: unknown depends_on condition {condition!r}")
            if condition == "service_healthy" and "healthcheck" not in services[target]:
                problems.append(f"{name}: waits for {target} to be healthy; it has no healthcheck")
            if condition == "service_completed_successfully" and services[target].get(
                "restart", "no"
            ) not in ("no", "on-failure"):
                problems.append(f"{name}: waits for {target} to complete; it restarts")
        build = service.get("build")
        if build is not None:
            context = compose_dir / (build if isinstance(build, str) else build.get("context", "."))
            dockerfile = "Dockerfile" if isinstance(build, str) else build.get("dockerfile")
            if not context.is_dir():
                problems.append(f"{name}: build context {context} does not exist")
            elif not (context / (dockerfile or "Dockerfile")).is_file():
                problems.append(f"{name}: Dockerfile {dockerfile} not found in {context}")
        image = service.get("image")
        if image is None and build is None:
            problems.append(f"{name}: neither an image nor a build")
        if image is not None and build is None:
            tag = image.rsplit("/", 1)[-1].partition(":")[2]
            if "@sha256:" not in image and tag in ("", "latest"):
                problems.append(f"{name}: image {image} is not pinned to a version")
        for source in _named_volume_sources(service):
            if source not in declared_volumes:
                problems.append(f"{name}: named volume {source!r} is not declared")
        for port in service.get("ports") or []:
            if isinstance(port, str) and not port.startswith("127.0.0.1:"):
                problems.append(f"{name}: port {port} is published beyond loopback")
    return problems + literal_credentials(document)


def dockerfile_instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined and comments dropped."""
    instructions, current = [], ""
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if current and stripped.startswith("#"):
            continue
        current += " " + stripped.removesuffix("\\").strip()
        if not stripped.endswith("\\"):
            word, _, rest = current.strip().partition(" ")
            instructions.append((word.upper(), rest.strip()))
            current = ""
    return instructions


def dockerfile_problems(path: Path) -> list[str]:
    """A final stage that runs as root, or a credential baked in by ENV or ARG."""
    problems = []
    instructions = dockerfile_instructions(path)
    last_from = max(i for i, (word, _) in enumerate(instructions) if word == "FROM")
    users = [args for word, args in instructions[last_from:] if word == "USER"]
    if not users:
        problems.append(f"{path.name}: the final stage sets no USER (runs as the base's root)")
    elif users[-1].split(":")[0] in ("root", "0"):
        problems.append(f"{path.name}: the final stage runs as root")
    for word, args in instructions:
        if word in ("ENV", "ARG"):
            for name, value in re.findall(r"([A-Za-z_]\w*)=(\"[^\"]*\"|\S*)", args):
                if CREDENTIAL_NAME.search(name) and value.strip('"'):
                    problems.append(f"{path.name}: {word} {name} bakes a credential into the image")
    return problems
