"""``python -m seqstruct ...``: the ``seqstruct`` command (``seqstruct.cli``)."""

import sys

from seqstruct.cli import main

sys.exit(main())
