"""``python -m nmfaudio``: the command line."""
import sys

from nmfaudio.cli import main

sys.exit(main())
