"""``python -m style_core.video IN --style S -o OUT`` (the same as ``style-core video``)."""

import sys

from .command import main

sys.exit(main())
