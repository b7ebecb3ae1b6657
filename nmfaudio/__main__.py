"""``python -m nmfaudio``: the command line."""
from nmfaudio.cli import run

run()
