"""The combined test summary that `make test` prints must read pytest's closing lines."""

from loyalty_app import cli


def test_closing_line_regex_reads_quiet_and_bordered_lines():
    for line in (
        "553 passed, 20 deselected, 1 warning in 115.43s (0:01:55)\n",
        "===== 2 failed, 10 passed, 3 skipped in 4.01s =====\n",
    ):
        assert cli._CLOSING.search(line)
    assert not cli._CLOSING.search("tests/unit/test_x.py ....   [ 40%]\n")


def test_counts_are_parsed():
    assert cli.parse_closing_line("===== 2 failed, 10 passed, 3 skipped, 1 error in 4.01s =====") == {
        "failed": 2,
        "passed": 10,
        "skipped": 3,
        "error": 1,
    }
