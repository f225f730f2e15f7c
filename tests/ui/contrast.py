"""WCAG contrast between the colours a theme's style sheet gives, read from the sheet."""

from __future__ import annotations

import re

from kapdesk.resources import resource


def luminance(colour: str) -> float:
    value = colour.lstrip("#")
    channels = [int(value[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(first: str, second: str) -> float:
    high, low = sorted((luminance(first), luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def sheet_rules(theme: str) -> dict[str, dict[str, str]]:
    """Selector -> properties, from the theme's .qss (comments dropped)."""
    text = resource("styles", f"{theme}.qss").read_text(encoding="utf-8")
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    rules: dict[str, dict[str, str]] = {}
    for selectors, body in re.findall(r"([^{}]+)\{([^}]*)\}", text):
        props = {}
        for declaration in body.split(";"):
            if ":" in declaration:
                name, value = declaration.split(":", 1)
                props[name.strip()] = value.strip()
        for selector in selectors.split(","):
            rules.setdefault(selector.strip(), {}).update(props)
    return rules


def colour_of(rules: dict[str, dict[str, str]], selector: str, prop: str) -> str:
    value = rules[selector][prop]
    found = re.search(r"#[0-9a-fA-F]{6}", value)
    assert found, f"{selector} {prop}: {value}"
    return found.group(0)
