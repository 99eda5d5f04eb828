"""A logging filter that keeps personnummer out of every log line."""

import logging
import re

# Any Swedish personal identity or co-ordination number shape: 10 or 12 digits,
# optionally with -, + or a space before the last four.
PERSONNUMMER_RE = re.compile(r"(?<!\d)(?:\d{2})?\d{6}[-+ ]?\d{4}(?!\d)")
REPLACEMENT = "[personnummer]"


def scrub(text: str) -> str:
    return PERSONNUMMER_RE.sub(REPLACEMENT, text)


class ScrubPersonalDataFilter(logging.Filter):
    """Replace personnummer-shaped numbers in the message and its arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not hide the record
            message = str(record.msg)
        record.msg = scrub(message)
        record.args = ()
        return True
