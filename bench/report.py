"""The benchmark's output: sections of Markdown tables, one per part."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Section:
    """One part's results: a table (every row ends with its method) and notes."""

    title: str
    header: list[str]
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    after: list[Section] = field(default_factory=list)
    """Further tables of the same part, printed after this one."""

    def add(self, *cells: str) -> None:
        self.rows.append(list(cells))

    def markdown(self) -> str:
        lines = [f"### {self.title}", ""]
        lines.append("| " + " | ".join(self.header) + " |")
        lines.append("|" + "|".join("---" for _ in self.header) + "|")
        lines += ["| " + " | ".join(row) + " |" for row in self.rows]
        if self.notes:
            lines.append("")
            lines += [f"- {note}" for note in self.notes]
        text = "\n".join(lines) + "\n"
        return "\n".join([text, *(section.markdown() for section in self.after)])


def failed(title: str, reason: str) -> Section:
    """A part that could not run, with the one-line reason."""
    section = Section(title, ["result"])
    section.add(f"not measured: {reason}")
    return section
