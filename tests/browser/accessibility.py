"""Run axe-core in a Playwright page and turn its violations into a readable failure."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page

REPO_ROOT = Path(__file__).resolve().parents[2]
AXE_SCRIPT = REPO_ROOT / "node_modules" / "axe-core" / "axe.min.js"

# WCAG 2.0, 2.1 and 2.2 at levels A and AA. axe-core 4.11 has no rule tagged wcag22a (2.2
# added no level-A rule it can test); the tag stays so such rules count once they exist.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]

_RUN_AXE = """
async (tags) => {
  const results = await axe.run(document, {
    runOnly: {type: "tag", values: tags},
    resultTypes: ["violations"],
  });
  return results.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    helpUrl: v.helpUrl,
    nodes: v.nodes.map((n) => ({
      target: n.target.map((t) => Array.isArray(t) ? t.join(" >>> ") : t).join(", "),
      html: n.html,
      summary: n.failureSummary,
    })),
  }));
}
"""


class AccessibilityError(AssertionError):
    pass


def axe_violations(page: Page) -> list[dict]:
    """axe-core's WCAG A/AA violations for the page as it is now."""
    if not AXE_SCRIPT.exists():
        raise RuntimeError(f"{AXE_SCRIPT} is missing: run `npm ci` in the repository root.")
    if not page.evaluate("() => typeof window.axe === 'object'"):
        # Evaluated by the browser's debugging protocol rather than added as an inline
        # <script>, which the pages' Content-Security-Policy refuses.
        page.evaluate(AXE_SCRIPT.read_text())
    return page.evaluate(_RUN_AXE, WCAG_TAGS)


def describe(violations: list[dict], url: str, title: str) -> str:
    lines = [
        f"{len(violations)} accessibility violation{'s' if len(violations) != 1 else ''} "
        f"(WCAG A/AA) on {url} ({title!r}):"
    ]
    for v in violations:
        lines.append(f"- {v['id']} [{v['impact']}]: {v['help']}")
        lines.append(f"    {v['helpUrl']}")
        for node in v["nodes"]:
            html = " ".join(node["html"].split())
            lines.append(f"    * {node['target']}: {html[:200]}")
            for detail in (node["summary"] or "").splitlines():
                if detail.strip():
                    lines.append(f"        {detail.strip()}")
    return "\n".join(lines)


def assert_accessible(page: Page) -> None:
    """Fail with the list of violations (rule, help, the nodes at fault) if there are any."""
    violations = axe_violations(page)
    if violations:
        raise AccessibilityError(describe(violations, page.url, page.title()))
