"""Every URL pattern of the project, from the resolver, for walking tests."""

from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver


@dataclass(frozen=True)
class Route:
    name: str  # "namespace:name"
    pattern: str
    converters: dict  # kwarg name -> converter class name
    callback: object


def iter_routes(resolver=None, prefix="", namespace=None, converters=None):
    resolver = resolver or get_resolver()
    converters = converters or {}
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace
            full_ns = f"{namespace}:{ns}" if namespace and ns else (ns or namespace)
            yield from iter_routes(
                entry,
                prefix + str(entry.pattern),
                full_ns,
                {**converters, **getattr(entry.pattern, "converters", {})},
            )
        elif isinstance(entry, URLPattern) and entry.name:
            name = f"{namespace}:{entry.name}" if namespace else entry.name
            convs = {**converters, **getattr(entry.pattern, "converters", {})}
            yield Route(
                name=name,
                pattern=prefix + str(entry.pattern),
                converters={k: type(v).__name__ for k, v in convs.items()},
                callback=entry.callback,
            )


def project_routes() -> list[Route]:
    """The project's own routes: everything except the admin site and static."""
    return [r for r in iter_routes() if not r.name.startswith("admin:")]


def dummy_kwargs(route: Route, value: int = 999999) -> dict:
    """Arguments that reverse ``route`` (pointing at records that do not exist)."""
    out = {}
    for key, conv in route.converters.items():
        if conv == "IntConverter":
            out[key] = value
        elif conv == "UUIDConverter":
            out[key] = "00000000-0000-0000-0000-000000000000"
        else:
            out[key] = "x"
    return out
