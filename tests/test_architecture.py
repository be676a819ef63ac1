"""The shape of the code: no import cycles, no signals, views.py holds only public pages."""

import ast
import inspect
from pathlib import Path

from django.conf import settings
from django.urls import URLPattern, get_resolver

ROOT = Path(settings.BASE_DIR)
PACKAGES = ("lessons", "hormonebone")


def project_modules():
    """{dotted name: path} for every module under the project's packages."""
    modules = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def imported_modules(name, path, modules):
    """Project modules that the module imports anywhere in its body, functions included."""
    is_package = path.name == "__init__.py"
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                base = ".".join(base + ([node.module] if node.module else []))
            else:
                base = node.module
            # `from package import module` imports the module; `from module import name` the module.
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in modules:  # `import a.b.c` where only a.b is ours, etc.
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def import_graph():
    modules = project_modules()
    return {name: imported_modules(name, path, modules) for name, path in modules.items()}


def cycles(graph):
    """Each strongly connected group of two or more modules (Tarjan's algorithm), sorted."""
    index, low, stack, on_stack, groups = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in graph.get(node, ()):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(groups)


def test_cycle_finder_finds_a_cycle_through_three_modules():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_import_walker_sees_an_import_inside_a_function(tmp_path):
    path = tmp_path / "rendering.py"
    path.write_text("def f():\n    from .models import Lesson\n")
    modules = {"lessons.rendering": path, "lessons.models": tmp_path / "models.py"}
    assert imported_modules("lessons.rendering", path, modules) == {"lessons.models"}


def test_the_walk_covers_the_modules_that_once_imported_each_other():
    graph = import_graph()
    assert "lessons.rendering" in graph["lessons.models"]
    assert "lessons.content_files.read" in graph["lessons.content_files"]


def test_no_module_imports_a_module_that_imports_it_back():
    assert cycles(import_graph()) == []


def test_rendering_imports_no_orm():
    tree = ast.parse((ROOT / "lessons" / "rendering.py").read_text())
    names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    names |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not {n for n in names if n.startswith("django.db") or n.endswith("models")}


def test_there_is_no_signals_module():
    assert not (ROOT / "lessons" / "signals.py").exists()
    assert all("signals" not in name for name in project_modules())


def public_page_views():
    """URL patterns of the site outside the admin, as {callback: route}."""
    return {p.callback: str(p.pattern) for p in get_resolver().url_patterns if isinstance(p, URLPattern)}


def test_every_view_in_views_py_is_a_public_page_in_the_urlconf():
    from lessons import views

    defined = {obj for name, obj in vars(views).items() if inspect.isfunction(obj) and obj.__module__ == views.__name__ and not name.startswith("_")}
    routed = {callback for callback in public_page_views() if callback.__module__ == views.__name__}
    assert {v.__name__ for v in defined} == {v.__name__ for v in routed}
    assert not [route for callback, route in public_page_views().items() if callback in defined and route.startswith("admin")]
