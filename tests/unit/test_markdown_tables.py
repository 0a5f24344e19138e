"""Tables written as Markdown: one row a line, a cell's pipes escaped once."""

from __future__ import annotations

from docproc.extract.pages import markdown_table
from docproc.extract.tables import Table, _grid


def test_a_table_is_markdown_rows_under_its_header():
    assert markdown_table([("Item", "Qty"), ("Bolt", "4")]) == (
        "| Item | Qty |\n| --- | --- |\n| Bolt | 4 |"
    )


def test_a_pipe_or_a_line_break_in_a_cell_stays_in_its_cell():
    # Given a found table with a part code holding a pipe and a cell over two lines
    table = Table((0, 0, 1, 1), _grid([["Item", "Code"], ["Bolt\nM8", "A|B"]]))
    # When written as Markdown, Then the pipe is escaped once (a backslash before it would be
    # text, and the pipe a column's end) and the cell is on one line
    assert table.markdown().splitlines()[-1] == "| Bolt M8 | A\\|B |"
