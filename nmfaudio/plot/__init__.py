"""Matplotlib figures, one module per domain (``nmfaudio.plot.audio``, ``.drums``,
``.image``, ``.spikes``).  matplotlib is imported lazily, inside the functions'
modules, so ``import nmfaudio`` stays fast and needs no display.
"""
