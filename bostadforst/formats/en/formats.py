# English uses the Swedish formats (ISO 8601 dates, 14:05, decimal comma): the
# municipality's records read the same whichever language the interface shows.
from bostadforst.formats.sv.formats import *  # noqa: F403
