"""A stand-in for the engine's Python whose records arrive late, as a big stage's would.

``slow.py REAL_PYTHON ARG...`` runs ``REAL_PYTHON ARG...`` (the plug-in's engine command) and
passes its records through, holding each progress record back by :data:`DELAY_S` seconds, so the
plug-in waits on the engine as it does for minutes on a big layer. Standard library only: it runs
in GIMP's Python.
"""

import json
import subprocess
import sys
import time

DELAY_S = 2.5


def main() -> int:
    engine = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE)  # stdin: the plug-in's, as before
    for line in engine.stdout:
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        if isinstance(record, dict) and record.get("event") == "progress":
            time.sleep(DELAY_S)
        sys.stdout.buffer.write(line)
        sys.stdout.flush()
    return engine.wait()


if __name__ == "__main__":
    sys.exit(main())
