"""Test-support stand-in for `addict` (not packaged by Debian), used only by
tests/support/upstream/parity.py when the real package is missing. Depth Anything 3 uses
`addict.Dict` as the container its heads return: a dict whose keys are also attributes. No model
arithmetic happens here."""

__version__ = "0.0-depthseg-shim"


class Dict(dict):
    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name, value):
        self[name] = value

    def __delattr__(self, name):
        try:
            del self[name]
        except KeyError:
            raise AttributeError(name) from None
