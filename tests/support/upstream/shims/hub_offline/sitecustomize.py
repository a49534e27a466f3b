"""Loaded at interpreter start (this folder is put on PYTHONPATH) by
tests/support/upstream/parity.py for ZoeDepth runs only. ZoeDepth builds its backbone with
torch.hub.load("intel-isl/MiDaS", ...). With the repository already in the hub cache, torch 1.13
still asks github.com whether the default branch is "main" or "master" and fails offline; this
answers "master", the cache folder torch.hub looks for (intel-isl_MiDaS_master). Nothing else
changes: the MiDaS code comes from the cache, as for a user who has run torch.hub once."""

try:
    import torch.hub as _hub

    _hub._parse_repo_info = lambda github: tuple(github.split("/")) + ("master",)
except Exception:  # noqa: BLE001 - torch missing: nothing to patch
    pass
