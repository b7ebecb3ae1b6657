"""Names a package loads on first use (PEP 562), so that importing it stays quick."""
import importlib
import sys


def attach(package: str, names: dict):
    """The ``__getattr__`` and ``__dir__`` of a package whose ``names`` load on first use.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    names : dict
        name -> (module, attribute): the attribute of that module, or the module itself
        when ``attribute`` is None.

    Returns
    -------
    (callable, callable)
        ``__getattr__(name)``, which imports the module, caches the value in the package's
        namespace (later look-ups skip it) and raises AttributeError for other names, and
        ``__dir__()``.
    """
    namespace = sys.modules[package].__dict__  # the package, still being imported

    def __getattr__(name):
        try:
            module_name, attribute = names[name]
        except KeyError:
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        module = importlib.import_module(module_name)
        value = module if attribute is None else getattr(module, attribute)
        namespace[name] = value
        return value

    def __dir__():
        return sorted(set(namespace) | set(names))

    return __getattr__, __dir__
