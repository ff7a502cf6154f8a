"""Translation catalogs: `python scripts/i18n.py extract` and `python scripts/i18n.py check`.

extract  collect t()/tn()/translate()/translate_plural()/translated()/N_() msgids from loyalty_app/
         into loyalty_app/i18n/locales/messages.pot and merge them into es/ro/ru messages.po,
         keeping existing translations (new entries start empty = English until translated).
check    exit 1, listing every msgid without an es/ro/ru translation or whose placeholders differ.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from loyalty_app.i18n.extraction import check_catalogs, update_catalogs
from loyalty_app.settings import PROJECT_ROOT


def cmd_extract() -> int:
    summary = update_catalogs()
    print(f"{summary['msgids']} msgids extracted")
    for path in summary["written"]:
        print(f"  wrote {Path(path).relative_to(PROJECT_ROOT)}")
    for lang, missing in summary["missing"].items():
        print(f"  {lang}: {len(missing)} untranslated")
    return 0


def cmd_check() -> int:
    problems = check_catalogs()
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} translation problem(s); edit loyalty_app/i18n/locales/*/LC_MESSAGES/messages.po")
        return 1
    print("all msgids translated in es, ro, ru with matching placeholders")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["extract", "check"])
    args = parser.parse_args(argv)
    return cmd_extract() if args.command == "extract" else cmd_check()


if __name__ == "__main__":
    sys.exit(main())
