"""Test-support stand-in for `einops`, used only by tests/support/upstream/parity.py when the real
package is not installed (Debian has no python3-einops). Depth Anything 3 imports einops; on its
depth path it calls only `rearrange` with plain patterns such as "b s n c -> (b s) n c" and
"B S ... -> (B S) ...". This implements exactly that subset -- names, parenthesised groups and
one ellipsis, i.e. a reshape, a permute and a reshape -- and refuses anything else. `repeat` and
`einsum` (camera / ray utilities, not on the depth path) raise if called.

Both sides of the parity check (upstream's PyTorch forward and the traced ONNX graph) run through
the same function, so an error here could not hide an export difference; it is checked against
einops' documented semantics in tests/support/upstream/parity.py (self_check_einops).
"""

import re
from typing import Dict, List, Tuple, Union

__version__ = "0.0-depthseg-shim"

_TOKEN = re.compile(r"\(|\)|\.\.\.|[A-Za-z_][A-Za-z0-9_]*|\d+")


def _parse(side: str) -> List[Union[str, Tuple[str, ...]]]:
    items: List[Union[str, Tuple[str, ...]]] = []
    group = None
    for tok in _TOKEN.findall(side):
        if tok == "(":
            if group is not None:
                raise NotImplementedError(f"einops shim: nested groups in {side!r}")
            group = []
        elif tok == ")":
            if group is None:
                raise ValueError(f"einops shim: unbalanced ')' in {side!r}")
            items.append(tuple(group))
            group = None
        elif tok.isdigit():
            raise NotImplementedError(f"einops shim: numeric axes in {side!r}")
        elif group is not None:
            if tok == "...":
                raise NotImplementedError(f"einops shim: '...' inside a group in {side!r}")
            group.append(tok)
        else:
            items.append(tok)
    if group is not None:
        raise ValueError(f"einops shim: unbalanced '(' in {side!r}")
    stripped = re.sub(r"[\s()]", "", side.replace("...", ""))
    if not re.fullmatch(r"[A-Za-z0-9_]*", stripped):
        raise NotImplementedError(f"einops shim: cannot parse {side!r}")
    return items


def rearrange(tensor, pattern: str, **sizes: int):
    left_text, right_text = (s.strip() for s in pattern.split("->"))
    left, right = _parse(left_text), _parse(right_text)
    if sum(1 for i in left if i == "...") > 1 or sum(1 for i in right if i == "...") > 1:
        raise NotImplementedError(f"einops shim: several '...' in {pattern!r}")
    shape = list(tensor.shape)
    fixed = len(left) - (1 if "..." in left else 0)
    n_ellipsis = len(shape) - fixed
    if n_ellipsis < 0 or ("..." not in left and n_ellipsis != 0):
        raise ValueError(f"einops shim: {pattern!r} does not fit a tensor of shape {shape}")
    known: Dict[str, int] = dict(sizes)
    # Elementary axes of the input, in order; "..." stands for n_ellipsis unnamed axes.
    elementary: List[str] = []
    dim = 0
    for item in left:
        if item == "...":
            for k in range(n_ellipsis):
                name = f"...{k}"
                known[name] = shape[dim]
                elementary.append(name)
                dim += 1
        elif isinstance(item, tuple):
            unknown = [a for a in item if a not in known]
            product = 1
            for a in item:
                if a in known:
                    product *= known[a]
            if len(unknown) > 1:
                raise ValueError(f"einops shim: cannot infer {unknown} in {pattern!r}")
            if unknown:
                if shape[dim] % product:
                    raise ValueError(f"einops shim: axis of size {shape[dim]} does not split by {product}")
                known[unknown[0]] = shape[dim] // product
            elif product != shape[dim]:
                raise ValueError(f"einops shim: group {item} = {product} but the axis has {shape[dim]}")
            elementary.extend(item)
            dim += 1
        else:
            if item in known and known[item] != shape[dim]:
                raise ValueError(f"einops shim: {item}={known[item]} but the axis has {shape[dim]}")
            known[item] = shape[dim]
            elementary.append(item)
            dim += 1
    if len(set(elementary)) != len(elementary):
        raise ValueError(f"einops shim: repeated axis in {pattern!r}")
    out_elementary: List[str] = []
    out_groups: List[List[str]] = []
    for item in right:
        names = [f"...{k}" for k in range(n_ellipsis)] if item == "..." else list(item) if isinstance(item, tuple) else [item]
        out_elementary.extend(names)
        if item == "...":
            out_groups.extend([[n] for n in names])
        else:
            out_groups.append(names)
    if sorted(out_elementary) != sorted(elementary):
        raise ValueError(f"einops shim: axes differ between the sides of {pattern!r}")
    x = tensor.reshape([known[a] for a in elementary])
    x = x.permute([elementary.index(a) for a in out_elementary])
    final = []
    for names in out_groups:
        size = 1
        for a in names:
            size *= known[a]
        final.append(size)
    return x.reshape(final)


def repeat(*args, **kwargs):
    raise NotImplementedError("einops shim: repeat is not on Depth Anything 3's depth path")


def einsum(*args, **kwargs):
    raise NotImplementedError("einops shim: einsum is not on Depth Anything 3's depth path")
