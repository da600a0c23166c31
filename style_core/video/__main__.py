"""``python -m style_core.video IN --style S -o OUT`` (the same as ``style-core video``)."""

import sys

from ..cli.video import main

sys.exit(main())
